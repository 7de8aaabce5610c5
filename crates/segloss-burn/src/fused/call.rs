//! The non-tensor argument of a fused call, and the test that picks the fused path.

use core::cell::RefCell;

use burn::backend::DispatchDevice;
use burn::tensor::{DType, Device};
use segloss::loss::Loss;

/// The core loss a fused operation runs, and the slot its error comes back in.
///
/// A backend extension operation can only return tensors, so a rejected input (a label `≥ C`,
/// a target outside `[0, 1]`, a non-finite logit) is reported through this value: the
/// operation returns NaN and leaves the [`segloss::Error`] here.
pub struct FusedCall<'a> {
    loss: &'a dyn Loss,
    error: RefCell<Option<segloss::Error>>,
}

impl<'a> FusedCall<'a> {
    /// Wraps a validated core loss.
    pub fn new(loss: &'a dyn Loss) -> Self {
        Self {
            loss,
            error: RefCell::new(None),
        }
    }

    /// The core loss.
    pub fn loss(&self) -> &'a dyn Loss {
        self.loss
    }

    /// Records the error of a rejected input.
    pub(crate) fn set_error(&self, error: segloss::Error) {
        *self.error.borrow_mut() = Some(error);
    }

    /// The error of the last call, if the core kernel rejected its input.
    pub fn take_error(&self) -> Option<segloss::Error> {
        self.error.borrow_mut().take()
    }
}

impl core::fmt::Debug for FusedCall<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FusedCall")
            .field("loss", &self.loss.name())
            .field("error", &self.error.borrow())
            .finish()
    }
}

/// The targets of a fused call on backend `B`: float masks or class indices.
#[derive(Debug)]
pub enum FusedTargets<B: burn::backend::Backend> {
    /// Float masks of the logits' shape.
    Dense(burn::backend::tensor::FloatTensor<B>),
    /// Class indices of shape `N×spatial`.
    Index(burn::backend::tensor::IntTensor<B>),
}

/// Whether the fused path can run on `device` for logits of type `dtype`: Flex (with or
/// without autodiff) and `f32` logits.
pub(crate) fn fused_supported(device: &Device, dtype: DType) -> bool {
    dtype == DType::F32
        && matches!(
            device.clone().inner().as_dispatch(),
            DispatchDevice::Flex(_)
        )
}
