//! Which score to compute from a class's counts.

use crate::error::{Error, Result};

/// A score computed from one class's counts `TP, FP, FN, TN` (see [`crate::metrics::Counts`]).
///
/// | metric | formula | `0/0` when |
/// |---|---|---|
/// | [`Metric::Precision`] | `TP / (TP + FP)` | nothing predicted positive |
/// | [`Metric::Recall`] (sensitivity) | `TP / (TP + FN)` | no positive truth |
/// | [`Metric::Specificity`] | `TN / (TN + FP)` | no negative truth |
/// | [`Metric::F1`] (= Dice) | `2TP / (2TP + FP + FN)` | both empty |
/// | [`Metric::FBeta`] | `(1+β²)TP / ((1+β²)TP + β²FN + FP)` | both empty |
/// | [`Metric::Iou`] (Jaccard) | `TP / (TP + FP + FN)` | both empty |
/// | [`Metric::Accuracy`] | `(TP + TN) / (TP + FP + FN + TN)` | no pixels |
/// | [`Metric::BalancedAccuracy`] | mean of the defined terms of recall and specificity | no pixels |
/// | [`Metric::Mcc`] | `(TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN))` | see below |
/// | [`Metric::Tversky`] | `TP / (TP + α·FP + β·FN)` | both empty |
///
/// A `0/0` scores by the [`crate::metrics::ZeroDivision`] rule. Two metrics have further
/// rules, both as in scikit-learn: balanced accuracy averages only the defined terms (recall
/// is undefined without positive truth, specificity without negative truth); MCC whose
/// denominator vanishes is the `0/0` value if the prediction is perfect (`FP = FN = 0`) and
/// `0` otherwise (`matthews_corrcoef` returns 0).
///
/// Tversky with `α = β = ½` is Dice and with `α = β = 1` is IoU; F-beta with `β = 1` is F1.
///
/// # Examples
/// ```
/// use segloss::metrics::{Counts, Metric};
/// let c = Counts::new(20, 5, 10, 65);
/// assert_eq!(Metric::DICE, Metric::F1);
/// let dice = c.score(Metric::DICE, Default::default()).unwrap().unwrap();
/// assert!((dice - 8.0 / 11.0).abs() < 1e-15);
/// let tv = c.score(Metric::Tversky { alpha: 0.5, beta: 0.5 }, Default::default()).unwrap();
/// assert!((tv.unwrap() - dice).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Metric {
    /// `TP / (TP + FP)`.
    Precision,
    /// `TP / (TP + FN)`, also called sensitivity or true-positive rate.
    Recall,
    /// `TN / (TN + FP)`, the true-negative rate.
    Specificity,
    /// `2TP / (2TP + FP + FN)`: F1 score, equal to the Dice coefficient.
    F1,
    /// `(1+β²)TP / ((1+β²)TP + β²FN + FP)`; `β > 1` weighs recall more.
    FBeta {
        /// `β`, finite and `> 0`.
        beta: f64,
    },
    /// `TP / (TP + FP + FN)`: intersection over union, the Jaccard index.
    Iou,
    /// `(TP + TN) / (TP + FP + FN + TN)`.
    Accuracy,
    /// Mean of recall and specificity (of those defined).
    BalancedAccuracy,
    /// Matthews correlation coefficient, in `[-1, 1]`.
    Mcc,
    /// Tversky index `TP / (TP + α·FP + β·FN)`.
    Tversky {
        /// Weight of false positives, finite and `≥ 0`.
        alpha: f64,
        /// Weight of false negatives, finite and `≥ 0`; `α + β > 0`.
        beta: f64,
    },
}

impl Metric {
    /// The Dice coefficient, which equals [`Metric::F1`].
    pub const DICE: Metric = Metric::F1;
    /// The Jaccard index, which equals [`Metric::Iou`].
    pub const JACCARD: Metric = Metric::Iou;
    /// Sensitivity, which equals [`Metric::Recall`].
    pub const SENSITIVITY: Metric = Metric::Recall;

    /// A short, stable name for reports, e.g. `"f1"`, `"tversky"`.
    ///
    /// ```
    /// assert_eq!(segloss::metrics::Metric::Iou.name(), "iou");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::Specificity => "specificity",
            Metric::F1 => "f1",
            Metric::FBeta { .. } => "fbeta",
            Metric::Iou => "iou",
            Metric::Accuracy => "accuracy",
            Metric::BalancedAccuracy => "balanced_accuracy",
            Metric::Mcc => "mcc",
            Metric::Tversky { .. } => "tversky",
        }
    }

    /// Checks the metric's parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an F-beta `β` that is not finite and `> 0`, or Tversky
    /// weights that are not finite and `≥ 0` with `α + β > 0`.
    ///
    /// ```
    /// use segloss::metrics::Metric;
    /// assert!(Metric::FBeta { beta: 2.0 }.check().is_ok());
    /// assert!(Metric::FBeta { beta: 0.0 }.check().is_err());
    /// assert!(Metric::Tversky { alpha: 0.0, beta: 0.0 }.check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        match *self {
            Metric::FBeta { beta } if !(beta.is_finite() && beta > 0.0) => {
                Err(Error::InvalidParameter {
                    name: "beta",
                    value: beta.to_string(),
                    rule: "F-beta needs a finite beta > 0",
                })
            }
            Metric::Tversky { alpha, beta } => {
                for (name, v) in [("alpha", alpha), ("beta", beta)] {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(Error::InvalidParameter {
                            name,
                            value: v.to_string(),
                            rule: "Tversky weights must be finite and >= 0",
                        });
                    }
                }
                if alpha + beta <= 0.0 {
                    return Err(Error::InvalidParameter {
                        name: "alpha + beta",
                        value: (alpha + beta).to_string(),
                        rule: "Tversky weights must not both be 0",
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
