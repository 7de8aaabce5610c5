//! Segmentation losses from logits, with exact analytic gradients.
//!
//! Every loss follows one pattern: a `…Config` with documented defaults and `with_*` setters
//! is validated once by `init()` into the usable loss, which implements [`Loss`]. Inputs are
//! `f32` logits in `N×C×spatial` layout ([`crate::Shape`]) and [`Targets`]; the loss value is
//! accumulated in `f64`, and the gradient `∂loss/∂x` is written into a caller-provided buffer
//! in the same pass (or two passes for Dice-type losses), allocating nothing proportional to
//! the input. A call's own heap use is bookkeeping: per-image Dice sums and one gradient slice
//! per unit of work, which `tests/loss_alloc.rs` bounds by 1/1024 of the gradient's bytes plus
//! 32 KiB.

mod activation;
mod bce;
mod combined;
mod cross_entropy;
mod dice;
mod focal;
mod generalized_dice;
pub(crate) mod kernel;
mod params;
mod reduction;
mod region;
mod tversky;

pub use activation::Activation;
pub use bce::{Bce, BceConfig};
pub use combined::{DiceCe, DiceCeConfig, DiceFocal, DiceFocalConfig};
pub use cross_entropy::{CrossEntropy, CrossEntropyConfig};
pub use dice::{Denominator, Dice, DiceConfig, DiceForm, Penalty};
pub use focal::{Focal, FocalAlpha, FocalConfig};
pub use generalized_dice::{GeneralizedDice, GeneralizedDiceConfig};
#[doc(hidden)]
pub use kernel::force_scalar;
pub use reduction::Reduction;
pub use region::{Background, EmptyTarget, GeneralizedWeight, Scope};
pub use tversky::{Tversky, TverskyConfig};

use crate::error::Result;
use crate::shape::Shape;

/// Targets of a loss.
///
/// - [`Targets::Dense`]: one value in `[0, 1]` per logit (`N×C×S`), for binary and
///   multi-label losses; soft labels are allowed.
/// - The index variants: one class index per pixel (`N×S`, no channel axis), for multi-class
///   (softmax) losses, in the integer type the caller already has.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// Float masks with values in `[0, 1]`, same length as the logits.
    Dense(&'a [f32]),
    /// Class indices as `u8`.
    U8(&'a [u8]),
    /// Class indices as `u16`.
    U16(&'a [u16]),
    /// Class indices as `u32`.
    U32(&'a [u32]),
    /// Class indices as `i64` (PyTorch's and burn's integer type; negative values are
    /// only allowed as the ignore label).
    I64(&'a [i64]),
}

impl Targets<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Targets::Dense(t) => t.len(),
            Targets::U8(t) => t.len(),
            Targets::U16(t) => t.len(),
            Targets::U32(t) => t.len(),
            Targets::I64(t) => t.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A loss that can be evaluated on a batch of logits.
///
/// This is the interface the CLI's `bench`, the burn integration and the training demo use to
/// drive any loss.
pub trait Loss {
    /// A short, stable name for reports, e.g. `"focal"`.
    fn name(&self) -> &'static str;

    /// Computes the reduced loss and, if `grad` is given, writes `∂loss/∂logits` into it.
    ///
    /// `logits` and `grad` have `shape.len()` elements; `targets` has `shape.len()` (dense)
    /// or `shape.index_len()` (indices) elements.
    ///
    /// # Errors
    /// A typed [`crate::Error`] for a buffer that does not match `shape`, a target of the
    /// wrong kind for this loss, a label `≥ C` (other than the ignore label), a dense target
    /// outside `[0, 1]` or a non-finite logit.
    ///
    /// On error `grad` holds no partial result: it is either untouched or all zeros.
    /// Untouched: errors found before anything is written (buffer lengths, target kind,
    /// shape, and a label `≥ C` for the pixel-only softmax losses, whose labels are scanned
    /// first because the cross-entropy mean needs their weight sum). All zeros: errors found
    /// in the values during the pass (a non-finite logit, a dense target outside `[0, 1]`,
    /// a label `≥ C` for Dice-type softmax losses). Checking the values inside the kernel's
    /// pass, instead of in a read-only pass of their own, saves a full read of the inputs.
    /// A non-finite logit is reported before a bad target or label.
    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        grad: Option<&mut [f32]>,
    ) -> Result<f64>;
}
