//! The streaming floor: the least work any loss kernel with a gradient must do.
//!
//! It reads every logit and target once and writes one `f32` per logit (`x − t`, the
//! gradient of a squared error, or `x − [t = c]` for index targets): the memory traffic of a
//! fused forward+backward pass with none of its arithmetic. A loss kernel within a small
//! factor of it is limited by memory bandwidth, not by its math.

use multiversion::multiversion;
use rayon::prelude::*;
use segloss::{Label, Shape};

/// Elements per parallel task: large enough to amortise scheduling, small enough to balance.
const TASK: usize = 1 << 16;

/// `out[i] = logits[i] − targets[i]`, in parallel over the current rayon pool.
pub fn dense(logits: &[f32], targets: &[f32], out: &mut [f32]) {
    out.par_chunks_mut(TASK)
        .zip(logits.par_chunks(TASK))
        .zip(targets.par_chunks(TASK))
        .for_each(|((o, x), t)| dense_block(x, t, o));
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma"
))]
fn dense_block(x: &[f32], t: &[f32], out: &mut [f32]) {
    for ((o, &x), &t) in out.iter_mut().zip(x).zip(t) {
        *o = x - t;
    }
}

/// `out[n, c, s] = logits[n, c, s] − [labels[n, s] = c]` for `C` classes, in
/// parallel over the current rayon pool. Each task takes a block of pixels of one image and
/// all its channels, so each label is read from memory once, as in a fused softmax kernel.
pub fn indexed<L: Label>(logits: &[f32], labels: &[L], shape: &Shape, out: &mut [f32]) {
    let spatial = shape.spatial_len();
    let plane = shape.channels() * spatial;
    for ((x_img, o_img), l_img) in logits
        .chunks(plane)
        .zip(out.chunks_mut(plane))
        .zip(labels.chunks(spatial))
    {
        // One task per block of pixels, holding that block of every channel plane.
        let blocks = spatial.div_ceil(TASK);
        let mut tasks: Vec<Task<'_>> = (0..blocks).map(|_| (Vec::new(), Vec::new())).collect();
        for (xp, op) in x_img.chunks(spatial).zip(o_img.chunks_mut(spatial)) {
            for ((task, xb), ob) in tasks
                .iter_mut()
                .zip(xp.chunks(TASK))
                .zip(op.chunks_mut(TASK))
            {
                task.0.push(xb);
                task.1.push(ob);
            }
        }
        tasks
            .into_par_iter()
            .zip(l_img.par_chunks(TASK))
            .for_each(|((xs, mut os), ls)| {
                for (c, (x, o)) in xs.into_iter().zip(os.iter_mut()).enumerate() {
                    indexed_block(x, ls, c as i64, o);
                }
            });
    }
}

/// One block of pixels of one image: the logits and outputs of each channel plane.
type Task<'a> = (Vec<&'a [f32]>, Vec<&'a mut [f32]>);

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma"
))]
fn indexed_block<L: Label>(x: &[f32], labels: &[L], class: i64, out: &mut [f32]) {
    for ((o, &x), &l) in out.iter_mut().zip(x).zip(labels) {
        *o = x - if l.to_i64() == class { 1.0 } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_write_the_documented_values() {
        // Sizes that cross task boundaries and leave a partial last task.
        let shape = Shape::new(&[2, 3, TASK + 5]).expect("valid shape");
        let s = shape.spatial_len();
        let logits: Vec<f32> = (0..shape.len()).map(|i| (i % 13) as f32 * 0.5).collect();
        let labels: Vec<u8> = (0..shape.index_len()).map(|i| (i % 3) as u8).collect();
        let mut out = vec![f32::NAN; shape.len()];
        indexed(&logits, &labels, &shape, &mut out);
        for (i, &o) in out.iter().enumerate() {
            let (n, c, p) = (i / (3 * s), (i / s) % 3, i % s);
            let hot = if usize::from(labels[n * s + p]) == c {
                1.0
            } else {
                0.0
            };
            assert_eq!(o, logits[i] - hot, "element {i}");
        }
        let masks: Vec<f32> = (0..shape.len()).map(|i| (i % 2) as f32).collect();
        dense(&logits, &masks, &mut out);
        for ((&o, &x), &t) in out.iter().zip(&logits).zip(&masks) {
            assert_eq!(o, x - t);
        }
    }
}
