//! How per-element (or per-term) losses are reduced to one number.

/// How a loss reduces its per-element (pixel losses) or per-term (Dice-type losses) values
/// to the scalar that [`crate::loss::Loss::forward`] returns.
///
/// The unreduced values (PyTorch's `reduction='none'`) are not a variant: pixel losses
/// offer them through their `map` method, which writes one value per element into a
/// caller buffer, so `forward` always returns a scalar and its gradient is always the
/// gradient of that scalar.
///
/// # Examples
/// ```
/// use segloss::loss::Reduction;
/// assert_eq!(Reduction::default(), Reduction::Mean);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The mean over the elements that count (see each loss for which ones do, e.g. pixels
    /// not equal to the ignore label, or the class-weighted mean of cross-entropy).
    #[default]
    Mean,
    /// The plain sum.
    Sum,
}
