//! Activations and target encodings shared by the composed losses.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// `log softmax(x)` over the channel axis of `[N, C, S]`.
pub(crate) fn log_softmax_channels(x: Tensor<3>) -> Tensor<3> {
    log_softmax(x, 1)
}

/// One-hot encoding of class indices `[N, S]` as floats `[N, C, S]`; an index outside
/// `0..C` (the ignore label) gives an all-zero column.
pub(crate) fn one_hot(targets: Tensor<2, Int>, classes: usize) -> Tensor<3> {
    let [n, s] = targets.dims();
    let device = targets.device();
    let class_ids = Tensor::<1, Int>::arange(0..classes as i64, &device)
        .reshape([1, classes, 1])
        .expand([n, classes, s]);
    targets
        .reshape([n, 1, s])
        .expand([n, classes, s])
        .equal(class_ids)
        .float()
}

/// `1.0` where the pixel counts, `0.0` where it holds the ignore label: `[N, 1, S]`.
pub(crate) fn valid_mask(targets: Tensor<2, Int>, ignore_index: Option<i64>) -> Option<Tensor<3>> {
    let [n, s] = targets.dims();
    ignore_index.map(|ig| targets.not_equal_elem(ig).float().reshape([n, 1, s]))
}
