//! Targets of a loss, as burn tensors, brought to the canonical `N×C×S` layout.

use burn::tensor::{Bool, Int, IntDType, Tensor};

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

/// The first `true` position of each flattened mask, all read back in one device sync.
///
/// Each mask contributes `[any, argmax]` to one small integer tensor; only that tensor
/// travels to the host.
fn first_true<const M: usize>(masks: [Tensor<1, Bool>; M]) -> [Option<usize>; M] {
    let parts: Vec<Tensor<1, Int>> = masks
        .into_iter()
        .flat_map(|m| {
            // `any` and `argmax` give integers of different widths on some backends.
            [
                m.clone().any().int().cast(IntDType::I64),
                m.int().argmax(0).cast(IntDType::I64),
            ]
        })
        .collect();
    let read = Tensor::cat(parts, 0)
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap_or_default();
    core::array::from_fn(|i| match read.get(2 * i..2 * i + 2) {
        Some(&[1, at]) => usize::try_from(at).ok(),
        _ => None,
    })
}

/// Where labels are neither in `0..classes` nor the ignore label.
fn bad_labels(flat: Tensor<1, Int>, classes: usize, ignore_index: Option<i64>) -> Tensor<1, Bool> {
    let bad = flat
        .clone()
        .lower_elem(0)
        .bool_or(flat.clone().greater_equal_elem(classes as i64));
    match ignore_index {
        Some(ig) => bad.bool_and(flat.not_equal_elem(ig)),
        None => bad,
    }
}

/// The core's error for the bad label at `index` of `flat` (one more device read).
fn label_error(
    op: &'static str,
    flat: Tensor<1, Int>,
    index: usize,
    classes: usize,
    ignore_index: Option<i64>,
) -> Error {
    let value = flat.slice(index..index + 1).into_scalar::<i64>();
    match u64::try_from(value) {
        Ok(value) => segloss::Error::LabelOutOfRange {
            op,
            input: "targets",
            index,
            value,
            classes,
            ignore_index: ignore_index.and_then(|i| u64::try_from(i).ok()),
        },
        // A negative label has no class index: reported signed, as the core kernels do.
        Err(_) => segloss::Error::NegativeLabel {
            op,
            input: "targets",
            index,
            value,
            classes,
            ignore_index,
        },
    }
    .into()
}

/// Checks that every label of `labels` is in `0..classes` or is the ignore label.
///
/// Costs one reduction over the labels and one read of its result (a device sync).
///
/// # Errors
/// [`segloss::Error::LabelOutOfRange`] or [`segloss::Error::NegativeLabel`] (wrapped) naming
/// the first bad label.
pub(crate) fn check_labels<const K: usize>(
    op: &'static str,
    labels: Tensor<K, Int>,
    classes: usize,
    ignore_index: Option<i64>,
) -> Result<()> {
    let n = labels.shape().num_elements();
    let flat: Tensor<1, Int> = labels.reshape([n]);
    match first_true([bad_labels(flat.clone(), classes, ignore_index)]) {
        [None] => Ok(()),
        [Some(index)] => Err(label_error(op, flat, index, classes, ignore_index)),
    }
}

/// Checks the values of canonical inputs as the core kernels do, so the composed path
/// rejects what the fused path rejects, with the same typed errors: a non-finite logit
/// first, then a dense target outside `[0, 1]` (NaN included) or a label outside
/// `0..classes` that is not the ignore label.
///
/// Cost: a few element-wise comparisons and reductions over the inputs, and one read of
/// four integers back to the host. On a GPU backend that read is a device sync per loss call
/// (the queue drains before the loss returns); on the CPU it is a pass over the inputs.
///
/// # Errors
/// [`segloss::Error::NonFinite`], [`segloss::Error::OutOfRange`],
/// [`segloss::Error::LabelOutOfRange`] or [`segloss::Error::NegativeLabel`] (wrapped), naming
/// the first bad element in the flattened `N×C×S` (logits, dense targets) or `N×S` (labels)
/// layout, as the core does.
pub(crate) fn check_values(
    op: &'static str,
    logits: &Tensor<3>,
    targets: &SegTargets,
    ignore_index: Option<i64>,
) -> Result<()> {
    let [n, c, s] = logits.dims();
    let flat_x: Tensor<1> = logits.clone().reshape([n * c * s]);
    let bad_x = flat_x.clone().is_finite().bool_not();
    match targets {
        SegTargets::Dense(t) => {
            let flat_t: Tensor<1> = t.clone().reshape([n * c * s]);
            let bad_t = flat_t
                .clone()
                .lower_elem(0.0)
                .bool_or(flat_t.clone().greater_elem(1.0))
                .bool_or(flat_t.clone().is_nan());
            match first_true([bad_x, bad_t]) {
                [Some(index), _] => Err(non_finite(op, flat_x, index)),
                [None, Some(index)] => {
                    let value = flat_t.slice(index..index + 1).into_scalar::<f32>();
                    Err(segloss::Error::OutOfRange {
                        op,
                        input: "targets",
                        index,
                        value: f64::from(value),
                        min: 0.0,
                        max: 1.0,
                    }
                    .into())
                }
                [None, None] => Ok(()),
            }
        }
        SegTargets::Index(labels) => {
            let flat_l: Tensor<1, Int> = labels.clone().reshape([n * s]);
            match first_true([bad_x, bad_labels(flat_l.clone(), c, ignore_index)]) {
                [Some(index), _] => Err(non_finite(op, flat_x, index)),
                [None, Some(index)] => Err(label_error(op, flat_l, index, c, ignore_index)),
                [None, None] => Ok(()),
            }
        }
    }
}

fn non_finite(op: &'static str, flat: Tensor<1>, index: usize) -> Error {
    let value = flat.slice(index..index + 1).into_scalar::<f32>();
    segloss::Error::NonFinite {
        op,
        input: "logits",
        index,
        value: f64::from(value),
    }
    .into()
}
