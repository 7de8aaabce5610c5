//! A batch as the epoch metrics read it: logits and class indices in the canonical layout.

use burn::tensor::{Int, Tensor};

use crate::error::{Error, Result};
use crate::targets::{canonical, check_logits};

const OP: &str = "segmentation metric";

/// What an [`EpochMetric`](super::EpochMetric) (and, with the `train` feature, a
/// `SegmentationMetric`) reads from a batch: logits `[N, C, S]` and class indices
/// `[N, S]` (binary: `C = 1` and labels `{0, 1}`).
#[derive(Debug, Clone)]
pub struct SegmentationInput {
    pub(super) logits: Tensor<3>,
    pub(super) targets: Tensor<2, Int>,
}

impl SegmentationInput {
    /// Wraps logits `[N, C, D1, ...]` and class indices `[N, D1, ...]`, reshaped to the
    /// canonical layout. Labels are checked when the metric reads the input (they need a
    /// device read, and the ignore label is the metric's setting).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the logits lack a spatial axis or have a zero dimension,
    /// or the targets' shape is not the logits' shape without the channel axis.
    ///
    /// ```
    /// use burn::tensor::{Device, Int, Tensor};
    /// use segloss_burn::metrics::SegmentationInput;
    /// let device = Device::flex();
    /// let x = Tensor::<4>::zeros([2, 3, 4, 4], &device);
    /// assert!(SegmentationInput::new(x.clone(), Tensor::<3, Int>::zeros([2, 4, 4], &device)).is_ok());
    /// assert!(SegmentationInput::new(x, Tensor::<3, Int>::zeros([2, 4, 5], &device)).is_err());
    /// ```
    pub fn new<const D: usize, const K: usize>(
        logits: Tensor<D>,
        targets: Tensor<K, Int>,
    ) -> Result<Self> {
        let [n, c, s] = canonical_pair(OP, &logits.dims(), &targets.dims())?;
        Ok(Self {
            logits: logits.reshape([n, c, s]),
            targets: targets.reshape([n, s]),
        })
    }
}

/// Checks logits `[N, C, D1, ...]` against class indices `[N, D1, ...]` and returns the
/// canonical `[N, C, S]`.
///
/// # Errors
/// [`Error::ShapeMismatch`] if the logits lack a spatial axis or have a zero dimension, or the
/// targets' shape is not the logits' shape without the channel axis.
pub(super) fn canonical_pair(
    op: &'static str,
    logits: &[usize],
    targets: &[usize],
) -> Result<[usize; 3]> {
    check_logits(op, logits)?;
    let mut expected = logits.to_vec();
    expected.remove(1);
    if targets != expected.as_slice() {
        return Err(Error::ShapeMismatch {
            op,
            input: "targets",
            expected: format!("{expected:?} (the logits' shape without the channel axis)"),
            found: targets.to_vec(),
        });
    }
    Ok(canonical(logits))
}
