//! The scoring conventions, gathered in one value.

use super::{AbsentClasses, ZeroDivision};

/// How scores are computed from counts where libraries disagree.
///
/// Defaults: `0/0` scores `1` ([`ZeroDivision::One`]) and macro averages skip classes absent
/// from both truth and prediction ([`AbsentClasses::Skip`]). [`Conventions::sklearn`] gives
/// the settings that reproduce scikit-learn's `precision_score(..., zero_division=0,
/// labels=[...])` family.
///
/// Conventions affect scoring only, never counting: the same accumulated state can be
/// scored under any conventions.
///
/// # Examples
/// ```
/// use segloss::metrics::{AbsentClasses, Conventions, ZeroDivision};
/// let c = Conventions::default();
/// assert_eq!((c.zero_division, c.absent_classes), (ZeroDivision::One, AbsentClasses::Skip));
/// let s = Conventions::sklearn();
/// assert_eq!((s.zero_division, s.absent_classes), (ZeroDivision::Zero, AbsentClasses::Include));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Conventions {
    /// What `0/0` scores. Default [`ZeroDivision::One`].
    pub zero_division: ZeroDivision,
    /// Whether class averages include classes that never occur. Default
    /// [`AbsentClasses::Skip`].
    pub absent_classes: AbsentClasses,
}

impl Conventions {
    /// The defaults: `0/0` scores `1`, absent classes are skipped.
    pub fn new() -> Self {
        Self::default()
    }

    /// scikit-learn's conventions with `zero_division=0` and every label listed:
    /// `0/0` scores `0` and absent classes are included.
    pub fn sklearn() -> Self {
        Self {
            zero_division: ZeroDivision::Zero,
            absent_classes: AbsentClasses::Include,
        }
    }

    /// Sets what `0/0` scores.
    pub fn with_zero_division(mut self, zero_division: ZeroDivision) -> Self {
        self.zero_division = zero_division;
        self
    }

    /// Sets whether absent classes enter class averages.
    pub fn with_absent_classes(mut self, absent_classes: AbsentClasses) -> Self {
        self.absent_classes = absent_classes;
        self
    }
}
