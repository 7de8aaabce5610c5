//! The fused path: a core `segloss` kernel run as a burn backend extension.
//!
//! The core kernel computes the loss and `∂loss/∂logits` in one fused pass over the raw `f32`
//! data (see [`segloss::loss::Loss`]). This module wires it into burn:
//!
//! - [`FusedLossBackend`] is a `#[backend_extension]` trait implemented for the CPU backend
//!   Flex and for `Autodiff<B>` over it. Its operations take the logits, the targets and a
//!   [`FusedCall`] naming the core loss.
//! - On Flex ([`cpu`]), the kernel reads the logits in place (zero-copy when contiguous) and
//!   returns the scalar loss, or the loss and its gradient.
//! - On `Autodiff<Flex>` ([`autodiff`]), the forward computes the gradient together with the
//!   loss and stores it in the graph; the custom backward ([`FusedLossBackward`]) scales the
//!   stored gradient by the upstream gradient `g`: `∂(g·L)/∂x = g·∂L/∂x`. No second pass over
//!   the logits happens in the backward.
//!
//! Targets are constants: no gradient flows into them (as in every reference library).
//!
//! NdArray is not wired in: it is deprecated in burn 0.22 and slow to build; on NdArray (and
//! every GPU backend) the losses take the composed path.

mod autodiff;
mod call;
mod cpu;

pub use autodiff::FusedLossBackward;
pub(crate) use call::fused_supported;
pub use call::{FusedCall, FusedTargets};

use burn::backend::backend_extension;
use burn::backend::tensor::{FloatTensor, IntTensor};

/// Backend extension running a core `segloss` loss kernel on a CPU backend.
///
/// Both operations return a rank-1 tensor of one element holding the loss (accumulated in
/// `f64` by the core kernel, stored as `f32`). On an autodiff backend the gradient is computed
/// in the same call and registered as the custom backward of the result.
///
/// If the core kernel rejects the input, the result holds NaN and the error is left in the
/// [`FusedCall`] for the caller to return ([`FusedCall::take_error`]); the high-level losses
/// of this crate do that, so users never see the NaN.
#[backend_extension(Flex, Autodiff)]
pub trait FusedLossBackend: burn::backend::Backend {
    /// The loss of `logits` (`N×C×spatial`, `f32`) against float targets of the same shape.
    fn fused_loss_dense(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        call: &FusedCall<'_>,
    ) -> FloatTensor<Self>;

    /// The loss of `logits` (`N×C×spatial`, `f32`) against class indices (`N×spatial`).
    fn fused_loss_index(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        call: &FusedCall<'_>,
    ) -> FloatTensor<Self>;
}

#[cfg(test)]
mod tests;
