//! The probability threshold that turns scores into binary predictions.

use crate::error::{Error, Result};

/// Checks a probability threshold: finite and strictly inside `(0, 1)`.
///
/// A pixel is predicted positive iff its probability `p ≥ t`, or for a logit `x` iff
/// `σ(x) ≥ t`, which is tested exactly as `x ≥ ln(t / (1 − t))` (so `t = 0.5` means `x ≥ 0`).
///
/// # Errors
/// [`Error::InvalidParameter`] otherwise.
///
/// ```
/// use segloss::metrics::check_threshold;
/// assert!(check_threshold(0.5).is_ok());
/// assert!(check_threshold(1.0).is_err());
/// ```
pub fn check_threshold(t: f64) -> Result<()> {
    if t.is_finite() && t > 0.0 && t < 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "threshold",
            value: t.to_string(),
            rule: "must be a probability strictly between 0 and 1",
        })
    }
}
