//! The crate's error type.

/// Result alias used throughout segloss-burn.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in segloss-burn.
///
/// Inputs are checked before anything is computed: a call that returns an error has built no
/// autodiff graph node the caller can reach.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The core kernel or a core configuration rejected the input (bad label, target outside
    /// `[0, 1]`, non-finite logit, invalid parameter, ...).
    #[error(transparent)]
    Core(#[from] segloss::Error),
    /// A tensor's shape does not fit the logits.
    #[error("{op}: {input} has shape {found:?}, expected {expected}")]
    ShapeMismatch {
        /// The operation that checked the input, e.g. `"dice loss"`.
        op: &'static str,
        /// Which input, e.g. `"targets"`.
        input: &'static str,
        /// The expected shape, described.
        expected: String,
        /// The shape given.
        found: Vec<usize>,
    },
    /// The targets do not suit the loss: float masks for a softmax loss, class indices for a
    /// sigmoid loss.
    #[error("{op}: targets are {found}, expected {expected}")]
    TargetKind {
        /// The operation.
        op: &'static str,
        /// What the loss takes.
        expected: &'static str,
        /// What was given.
        found: &'static str,
    },
    /// [`crate::ExecPath::Fused`] was asked for where it cannot run.
    #[error("{op}: the fused path needs f32 logits on a Flex device, found {found}")]
    FusedUnavailable {
        /// The operation.
        op: &'static str,
        /// The device and dtype found, described.
        found: String,
    },
}
