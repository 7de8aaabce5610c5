//! Accurate sums built from tensor ops.

use burn::tensor::Tensor;

/// Block length of [`block_sum`]: each level sums runs of this many values.
const BLOCK: usize = 256;

/// Sums each row of `t` (`[R, L]` → `[R]`) by summing blocks of [`BLOCK`] values and then
/// the block sums, recursively. The rounding error grows with the number of levels
/// (`⌈log_256 L⌉`) instead of with `L`.
pub(crate) fn block_sum(t: Tensor<2>) -> Tensor<1> {
    let [r, l] = t.dims();
    if l <= BLOCK {
        return t.sum_dim(1).reshape([r]);
    }
    let blocks = l.div_ceil(BLOCK);
    let t = if blocks * BLOCK == l {
        t
    } else {
        let pad = Tensor::zeros([r, blocks * BLOCK - l], &t.device());
        Tensor::cat(vec![t, pad], 1)
    };
    let partial = t
        .reshape([r * blocks, BLOCK])
        .sum_dim(1)
        .reshape([r, blocks]);
    block_sum(partial)
}

/// The accurate sum of all elements of `t`, as a one-element tensor.
pub(crate) fn sum_all<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    let n = t.shape().num_elements();
    block_sum(t.reshape([1, n]))
}

/// Sums `[N, C, S]` over `S`: `[N, C]`.
pub(crate) fn sum_spatial(t: Tensor<3>) -> Tensor<2> {
    let [n, c, s] = t.dims();
    block_sum(t.reshape([n * c, s])).reshape([n, c])
}

/// Sums `[N, C, S]` over `N` and `S`: `[C]`.
pub(crate) fn sum_batch_spatial(t: Tensor<3>) -> Tensor<1> {
    let [n, c, s] = t.dims();
    block_sum(t.swap_dims(0, 1).reshape([c, n * s]))
}
