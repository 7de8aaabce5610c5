//! The segloss losses as burn losses.
//!
//! Each loss follows burn's pattern: a `…Config` (`#[derive(Config)]`, documented defaults,
//! `with_*` setters) whose `init()` validates it (through the core config, so the rules are
//! the core's) into the loss. The loss's `forward(logits, targets)` returns the reduced loss
//! as a one-element `Tensor<1>`; pixel losses also have `forward_elementwise`.
//!
//! Every loss implements [`BurnLoss`], the object-safe interface the benches, tests and CLI
//! use to drive any of them.

pub(crate) mod engine;
mod options;

pub(crate) mod region;

mod bce;
mod cross_entropy;
mod dice;
mod dice_ce;
mod dice_focal;
mod focal;
mod generalized_dice;
mod tversky;

pub use bce::{BceLoss, BceLossConfig};
pub use cross_entropy::{CrossEntropyLoss, CrossEntropyLossConfig};
pub use dice::{DiceLoss, DiceLossConfig};
pub use dice_ce::{DiceCeLoss, DiceCeLossConfig};
pub use dice_focal::{DiceFocalLoss, DiceFocalLossConfig};
pub use focal::{FocalLoss, FocalLossConfig};
pub use generalized_dice::{GeneralizedDiceLoss, GeneralizedDiceLossConfig};
pub use options::{
    Activation, Background, Denominator, DiceForm, EmptyTarget, FocalAlpha, GeneralizedWeight,
    Penalty, Reduction, Scope,
};
pub use tversky::{TverskyLoss, TverskyLossConfig};

use burn::tensor::Tensor;

use crate::composed::ComposedPlan;
use crate::error::Result;
use crate::path::ExecPath;
use crate::targets::SegTargets;

/// What targets a loss takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// Float masks with the logits' shape (sigmoid losses).
    Dense,
    /// Class indices `N×spatial` (softmax losses).
    Index,
}

impl From<Activation> for TargetKind {
    /// Sigmoid losses take dense masks, softmax losses class indices.
    fn from(activation: Activation) -> Self {
        match activation {
            Activation::Sigmoid => TargetKind::Dense,
            Activation::Softmax => TargetKind::Index,
        }
    }
}

/// A segloss loss inside burn: the core kernel for the fused path and a [`ComposedPlan`] for
/// the composed path, behind one forward.
pub trait BurnLoss {
    /// A short, stable name, e.g. `"focal"`.
    fn name(&self) -> &'static str;

    /// The targets this loss takes.
    fn target_kind(&self) -> TargetKind;

    /// The validated core loss (the fused path's kernel).
    fn core(&self) -> &dyn segloss::loss::Loss;

    /// The same loss as burn tensor ops, for `classes` channels.
    ///
    /// # Errors
    /// If a per-class setting does not fit `classes`.
    fn composed_plan(&self, classes: usize) -> Result<ComposedPlan>;

    /// The path this loss was configured with.
    fn path(&self) -> ExecPath;

    /// The reduced loss of canonical inputs (`[N, C, S]` logits), on `path`.
    ///
    /// # Errors
    /// As the loss's `forward`.
    fn forward_canonical(
        &self,
        logits: Tensor<3>,
        targets: SegTargets,
        path: ExecPath,
    ) -> Result<Tensor<1>> {
        engine::forward_canonical(self, logits, targets, path)
    }
}

/// Writes the `forward` of a burn loss type (all share the same body).
macro_rules! impl_forward {
    ($ty:ty) => {
        impl $ty {
            /// The reduced loss, a one-element tensor tracked by autodiff.
            ///
            /// # Shapes
            /// - `logits`: `[N, C, D1, ...]` (at least one spatial axis);
            /// - `targets`: a float `Tensor<D>` of the same shape (sigmoid losses), or an
            ///   integer `Tensor<D-1, Int>` of shape `[N, D1, ...]` (softmax losses).
            ///
            /// Runs the fused core kernel on Flex with `f32` logits and burn tensor ops
            /// elsewhere (see [`crate::ExecPath`]).
            ///
            /// # Errors
            /// [`crate::Error::ShapeMismatch`] or [`crate::Error::TargetKind`] for targets that
            /// do not fit; on both paths the core's typed error for bad values (a label
            /// `≥ C` or negative, a target outside `[0, 1]`, a non-finite logit). The composed
            /// path finds them with one device read per call (a sync on GPU backends).
            pub fn forward<const D: usize>(
                &self,
                logits: burn::tensor::Tensor<D>,
                targets: impl $crate::targets::IntoTargets,
            ) -> $crate::error::Result<burn::tensor::Tensor<1>> {
                let (logits, targets, _) = $crate::loss::engine::canonical_inputs(
                    $crate::loss::BurnLoss::name(self),
                    logits,
                    targets,
                )?;
                $crate::loss::BurnLoss::forward_canonical(
                    self,
                    logits,
                    targets,
                    $crate::loss::BurnLoss::path(self),
                )
            }
        }
    };
}
pub(crate) use impl_forward;

/// A per-class setting as `f64`s with `classes` entries (one value is broadcast).
///
/// # Errors
/// [`segloss::Error::Incompatible`] (wrapped) if it has neither 1 nor `classes` entries.
pub(crate) fn class_vec(
    op: &'static str,
    what: &'static str,
    values: Option<&[f32]>,
    classes: usize,
) -> Result<Vec<f64>> {
    match values {
        None => Ok(vec![1.0; classes]),
        Some([v]) => Ok(vec![f64::from(*v); classes]),
        Some(v) if v.len() == classes => Ok(v.iter().map(|&x| f64::from(x)).collect()),
        Some(v) => Err(segloss::Error::Incompatible {
            op,
            what,
            expected: format!("{classes} (one per channel)"),
            found: v.len().to_string(),
        }
        .into()),
    }
}

/// The plan of a pixel loss (BCE, focal, cross-entropy): one pixel term of weight 1, no
/// region term.
pub(crate) fn pixel_plan(
    activation: Activation,
    pixel: crate::composed::PixelTerm,
    reduction: Reduction,
    ignore_index: Option<i64>,
) -> ComposedPlan {
    ComposedPlan {
        softmax: activation == Activation::Softmax,
        pixel,
        pixel_weight: 1.0,
        pixel_sum: reduction == Reduction::Sum,
        region: None,
        ignore_index,
    }
}

/// Writes the `forward_elementwise` of a pixel loss (BCE, focal, cross-entropy).
macro_rules! impl_forward_elementwise {
    ($ty:ty) => {
        impl $ty {
            /// The unreduced loss (PyTorch's `reduction='none'`), tracked by autodiff.
            ///
            /// # Shapes
            /// - sigmoid losses: `[N, C, D1, ...]`, one value per logit;
            /// - softmax losses: `[N, 1, D1, ...]`, one value per pixel (0 where ignored).
            ///
            /// Always computed with burn tensor ops (the composed path): the fused kernels
            /// return reduced losses.
            ///
            /// # Errors
            /// As [`Self::forward`].
            pub fn forward_elementwise<const D: usize>(
                &self,
                logits: burn::tensor::Tensor<D>,
                targets: impl $crate::targets::IntoTargets,
            ) -> $crate::error::Result<burn::tensor::Tensor<D>> {
                let name = $crate::loss::BurnLoss::name(self);
                let (logits, targets, mut dims) =
                    $crate::loss::engine::canonical_inputs(name, logits, targets)?;
                let classes = dims[1];
                let plan = $crate::loss::BurnLoss::composed_plan(self, classes)?;
                if plan.softmax {
                    dims[1] = 1;
                }
                let map = plan.pixel_map(name, logits, targets)?;
                let dims: [usize; D] = dims.try_into().unwrap_or_else(|_| unreachable!("rank D"));
                Ok(map.reshape(dims))
            }
        }
    };
}
pub(crate) use impl_forward_elementwise;

/// The unreduced pixel term of `loss` on canonical inputs, with burn tensor ops (the
/// `forward_elementwise` of the pixel losses, for any [`BurnLoss`]).
///
/// # Errors
/// [`crate::Error::TargetKind`] for a region-only loss (Dice-type losses have no element-wise
/// form) or targets that do not suit the activation.
pub fn elementwise_canonical<L: BurnLoss + ?Sized>(
    loss: &L,
    logits: Tensor<3>,
    targets: SegTargets,
) -> Result<Tensor<3>> {
    let plan = loss.composed_plan(logits.dims()[1])?;
    plan.pixel_map(loss.name(), logits, targets)
}
