//! Targets of a loss, as burn tensors, brought to the canonical `N×C×S` layout.

use burn::tensor::{Int, Tensor};

use crate::error::{Error, Result};

/// Targets in canonical layout: float masks `[N, C, S]` or class indices `[N, S]`.
///
/// Built by [`IntoTargets`] from what users hold: a float mask with the logits' shape, or an
/// integer class map with the logits' shape minus the channel axis (`N×spatial`, as burn's and
/// PyTorch's cross-entropy take it).
#[derive(Debug, Clone)]
pub enum SegTargets {
    /// Float masks in `[0, 1]`, shape `[N, C, S]`.
    Dense(Tensor<3>),
    /// Class indices, shape `[N, S]`.
    Index(Tensor<2, Int>),
}

/// Conversion of a target tensor into [`SegTargets`], checking its shape against the logits.
///
/// Implemented for float tensors (`Tensor<K>`, same shape as the logits) and integer tensors
/// (`Tensor<K, Int>`, the logits' shape without the channel axis).
pub trait IntoTargets {
    /// Checks the shape against `logits_dims = [N, C, D1, ...]` and reshapes.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the shape does not fit the logits.
    fn into_targets(self, op: &'static str, logits_dims: &[usize]) -> Result<SegTargets>;
}

impl<const K: usize> IntoTargets for Tensor<K> {
    fn into_targets(self, op: &'static str, logits_dims: &[usize]) -> Result<SegTargets> {
        let found = self.dims().to_vec();
        if found != logits_dims {
            return Err(Error::ShapeMismatch {
                op,
                input: "targets",
                expected: format!("the logits' shape {logits_dims:?} for float targets"),
                found,
            });
        }
        let [n, c, s] = canonical(logits_dims);
        Ok(SegTargets::Dense(self.reshape([n, c, s])))
    }
}

impl<const K: usize> IntoTargets for Tensor<K, Int> {
    fn into_targets(self, op: &'static str, logits_dims: &[usize]) -> Result<SegTargets> {
        let found = self.dims().to_vec();
        let mut expected = logits_dims.to_vec();
        expected.remove(1);
        if found != expected {
            return Err(Error::ShapeMismatch {
                op,
                input: "targets",
                expected: format!(
                    "{expected:?} (the logits' shape without the channel axis) for class indices"
                ),
                found,
            });
        }
        let [n, _, s] = canonical(logits_dims);
        Ok(SegTargets::Index(self.reshape([n, s])))
    }
}

/// `[N, C, S]` of a checked logits shape (at least three dimensions).
pub(crate) fn canonical(dims: &[usize]) -> [usize; 3] {
    [dims[0], dims[1], dims[2..].iter().product()]
}

/// Checks that logits have `N`, `C` and at least one spatial axis, none of them zero.
pub(crate) fn check_logits(op: &'static str, dims: &[usize]) -> Result<()> {
    if dims.len() < 3 || dims.contains(&0) {
        return Err(Error::ShapeMismatch {
            op,
            input: "logits",
            expected: "N×C×spatial with at least one spatial axis and no zero dimension".into(),
            found: dims.to_vec(),
        });
    }
    Ok(())
}

/// Checks that every label of `labels` is in `0..classes` or is the ignore label.
///
/// Costs one reduction over the labels and a read of its boolean result (a device sync).
///
/// # Errors
/// [`segloss::Error::LabelOutOfRange`] (wrapped) naming the first bad label.
pub(crate) fn check_labels<const K: usize>(
    op: &'static str,
    labels: Tensor<K, Int>,
    classes: usize,
    ignore_index: Option<i64>,
) -> Result<()> {
    let n = labels.shape().num_elements();
    let flat: Tensor<1, Int> = labels.reshape([n]);
    let mut bad = flat
        .clone()
        .lower_elem(0)
        .bool_or(flat.clone().greater_equal_elem(classes as i64));
    if let Some(ig) = ignore_index {
        bad = bad.bool_and(flat.clone().not_equal_elem(ig));
    }
    if !bad.clone().any().into_scalar::<bool>() {
        return Ok(());
    }
    let index = bad.int().argmax(0).into_scalar::<i64>() as usize;
    let value = flat.slice(index..index + 1).into_scalar::<i64>();
    Err(segloss::Error::LabelOutOfRange {
        op,
        input: "targets",
        index,
        value: value as u64,
        classes,
        ignore_index: ignore_index.map(|v| v as u64),
    }
    .into())
}
