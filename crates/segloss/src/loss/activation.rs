//! The activation that turns logits into probabilities.

/// Turns logits `x` into probabilities `p`.
///
/// - [`Activation::Sigmoid`]: `p = σ(x) = 1 / (1 + e^{-x})` element-wise, for binary and
///   multi-label problems; each channel is its own yes/no question. Needs dense targets
///   ([`crate::loss::Targets::Dense`]).
/// - [`Activation::Softmax`]: `p_c = e^{x_c} / Σ_k e^{x_k}` over the channel axis of each
///   pixel, for multi-class problems (exactly one class per pixel). Needs class-index
///   targets.
///
/// Combined losses (Dice + focal, Dice + cross-entropy) take one activation for both parts:
/// a softmax Dice paired with a sigmoid focal term optimises two different models of the
/// same output and is a known trap.
///
/// # Examples
/// ```
/// use segloss::loss::Activation;
/// assert_eq!(Activation::default(), Activation::Sigmoid);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// Element-wise logistic sigmoid.
    #[default]
    Sigmoid,
    /// Softmax over the channel axis.
    Softmax,
}
