//! Confusion counts of one batch, computed on the device.

use burn::tensor::{IndexingUpdateOp, Int, IntDType, Tensor};

use super::input::canonical_pair;
use crate::error::Result;
use crate::targets::check_labels;

const OP: &str = "batch confusion";

/// The `C×C` confusion matrix of a batch (rows = truth, columns = prediction, row-major),
/// from multi-class logits and class indices, computed on the logits' device.
///
/// The prediction is `argmax_c x[n, c, s]`. Pixels whose target is `ignore_index` are
/// skipped. Counting is a scatter-add of integer ones into `C² + 1` bins (the last one
/// collects ignored pixels), so it is exact for any batch size; only the `C²` counts travel
/// back to the host.
///
/// - `logits`: `[N, C, D1, ...]`; with `C = 1` a one-channel (binary) output is read as
///   `x > 0` → class 1, giving a `2×2` matrix.
/// - `targets`: `[N, D1, ...]`, class indices in `0..C` (or `0..2` when `C = 1`).
///
/// # Errors
/// [`Error::ShapeMismatch`] for shapes that do not fit, and a core
/// [`segloss::Error::LabelOutOfRange`] (or [`segloss::Error::NegativeLabel`]) for a label
/// outside the classes that is not the ignore label.
///
/// ```
/// use burn::tensor::{Device, Int, Tensor, TensorData};
/// use segloss_burn::metrics::batch_confusion_matrix;
/// let device = Device::flex();
/// // One image, 2 classes, 4 pixels: predictions 0, 1, 1, 0.
/// let logits = Tensor::<3>::from_data(
///     TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0], [1, 2, 4]),
///     &device,
/// );
/// let truth = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 1, 0, 255], [1, 4]), &device);
/// let cm = batch_confusion_matrix(logits, truth, Some(255)).unwrap();
/// assert_eq!(cm, vec![1, 1, 0, 1]); // rows = truth: (0→0, 0→1), (1→0, 1→1)
///
/// // One channel: x > 0 predicts class 1 (TN, FP, FN, TP = 1, 1, 1, 2).
/// let logits = Tensor::<3>::from_data(
///     TensorData::new(vec![-2.0f32, 3.0, -1.0, 0.5, 4.0], [1, 1, 5]),
///     &device,
/// );
/// let truth = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 0, 1, 1, 1], [1, 5]), &device);
/// assert_eq!(batch_confusion_matrix(logits, truth, None).unwrap(), vec![1, 1, 1, 2]);
/// ```
pub fn batch_confusion_matrix<const D: usize, const K: usize>(
    logits: Tensor<D>,
    targets: Tensor<K, Int>,
    ignore_index: Option<i64>,
) -> Result<Vec<u64>> {
    let [n, c, s] = canonical_pair(OP, &logits.dims(), &targets.dims())?;
    let device = logits.device();
    let logits = logits.reshape([n, c, s]);
    // Flex keeps each integer tensor's width (a comparison's `int()` is I32, `argmax` I64,
    // targets whatever they were made with) and mixing widths in `truth * k + pred` reads
    // garbage, so both sides are widened to I64 first.
    let (pred, classes) = if c == 1 {
        (logits.greater_elem(0.0).int().reshape([n * s]), 2)
    } else {
        (logits.argmax(1).reshape([n * s]), c)
    };
    let pred = pred.cast(IntDType::I64);
    let truth = targets.reshape([n * s]).cast(IntDType::I64);
    let k = classes as i64;
    check_labels(OP, truth.clone(), classes, ignore_index)?;
    let ignored = match ignore_index {
        Some(ig) => truth.clone().equal_elem(ig),
        None => truth.clone().equal_elem(i64::MIN),
    };
    let dump = k * k;
    let code = (truth * k + pred).mask_fill(ignored, dump);
    let ones = Tensor::<1, Int>::ones([n * s], &device);
    let bins = Tensor::<1, Int>::zeros([(k * k + 1) as usize], &device).scatter(
        0,
        code,
        ones,
        IndexingUpdateOp::Add,
    );
    let counts = bins
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap_or_default();
    Ok(counts[..(k * k) as usize]
        .iter()
        .map(|&v| v as u64)
        .collect())
}
