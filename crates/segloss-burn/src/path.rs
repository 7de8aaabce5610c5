//! Which implementation of a loss runs.

use burn::config::Config;

/// Which implementation of a loss runs: the fused core kernel or burn tensor ops.
///
/// | path | where | how the gradient is computed |
/// |---|---|---|
/// | [`ExecPath::Fused`] | Flex (with or without autodiff), `f32` logits | by the core kernel, in the forward pass |
/// | [`ExecPath::Composed`] | any backend and float type | by burn's autodiff through tensor ops |
///
/// [`ExecPath::Auto`] (the default everywhere) picks `Fused` where it can run and `Composed`
/// otherwise. The two agree within 1e-5 relative (tested), so `Auto` is the right choice
/// except to compare or benchmark them.
///
/// ```
/// use segloss_burn::ExecPath;
/// assert_eq!(ExecPath::default(), ExecPath::Auto);
/// ```
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ExecPath {
    /// Fused where supported, composed elsewhere.
    Auto,
    /// Always the fused core kernel; an error on an unsupported device or dtype.
    Fused,
    /// Always burn tensor ops.
    Composed,
}

// `#[derive(Config)]` copies variant attributes into its serde mirror, so `#[default]`
// cannot be used.
#[allow(clippy::derivable_impls)]
impl Default for ExecPath {
    fn default() -> Self {
        ExecPath::Auto
    }
}
