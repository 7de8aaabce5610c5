//! What a score worth `0/0` is worth.

/// The value of a score whose numerator and denominator are both zero.
///
/// Such a score has no evidence either way: Dice or IoU of a class that is absent from both
/// truth and prediction (`2·0 / (0 + 0)`), precision of a class never predicted, recall of a
/// class never present. Libraries disagree on what to report; segloss makes it an option.
///
/// | variant | value | note |
/// |---|---|---|
/// | [`ZeroDivision::One`] (default) | `1` | truth and prediction agree that nothing is there |
/// | [`ZeroDivision::Zero`] | `0` | scikit-learn's `zero_division=0`, torchmetrics' default |
/// | [`ZeroDivision::Nan`] | `NaN` | propagates into any average that includes it |
/// | [`ZeroDivision::Skip`] | none | the score is left out of every average |
///
/// Denominators that vanish for other reasons follow their metric's documented rule (see
/// [`crate::metrics::Metric`]); for example MCC with a constant truth and an imperfect
/// prediction is `0`, as in scikit-learn.
///
/// # Examples
/// ```
/// use segloss::metrics::ZeroDivision;
/// assert_eq!(ZeroDivision::default(), ZeroDivision::One);
/// assert_eq!(ZeroDivision::One.value(), Some(1.0));
/// assert_eq!(ZeroDivision::Zero.value(), Some(0.0));
/// assert!(ZeroDivision::Nan.value().unwrap().is_nan());
/// assert_eq!(ZeroDivision::Skip.value(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ZeroDivision {
    /// `0/0` scores `1`.
    #[default]
    One,
    /// `0/0` scores `0`.
    Zero,
    /// `0/0` scores `NaN`.
    Nan,
    /// `0/0` has no score and is left out of averages.
    Skip,
}

impl ZeroDivision {
    /// The score given to `0/0`, or `None` for [`ZeroDivision::Skip`].
    pub fn value(self) -> Option<f64> {
        match self {
            ZeroDivision::One => Some(1.0),
            ZeroDivision::Zero => Some(0.0),
            ZeroDivision::Nan => Some(f64::NAN),
            ZeroDivision::Skip => None,
        }
    }

    /// `num / den`, or [`ZeroDivision::value`] when `den` is zero.
    #[inline]
    pub(crate) fn ratio(self, num: f64, den: f64) -> Option<f64> {
        if den == 0.0 {
            self.value()
        } else {
            Some(num / den)
        }
    }
}
