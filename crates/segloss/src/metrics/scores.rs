//! Scores of one class, computed from its [`Counts`].

use super::{Counts, Metric, ZeroDivision};
use crate::error::Result;

impl Counts {
    /// The `metric` of these counts, with `0/0` scored by `zero_division`; `None` only for
    /// [`ZeroDivision::Skip`]. See [`Metric`] for the formulas.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if the metric's parameters are invalid
    /// ([`Metric::check`]).
    ///
    /// # Examples
    /// ```
    /// use segloss::metrics::{Counts, Metric, ZeroDivision};
    /// let empty = Counts::new(0, 0, 0, 50);
    /// assert_eq!(empty.score(Metric::DICE, ZeroDivision::One).unwrap(), Some(1.0));
    /// assert_eq!(empty.score(Metric::DICE, ZeroDivision::Zero).unwrap(), Some(0.0));
    /// assert_eq!(empty.score(Metric::DICE, ZeroDivision::Skip).unwrap(), None);
    /// let c = Counts::new(20, 5, 10, 65);
    /// let f2 = c.score(Metric::FBeta { beta: 2.0 }, ZeroDivision::One).unwrap().unwrap();
    /// assert!((f2 - 5.0 * 20.0 / (5.0 * 20.0 + 4.0 * 10.0 + 5.0)).abs() < 1e-15);
    /// ```
    pub fn score(&self, metric: Metric, zero_division: ZeroDivision) -> Result<Option<f64>> {
        metric.check()?;
        Ok(self.score_unchecked(metric, zero_division))
    }

    /// [`Counts::score`] for a metric already checked.
    pub(crate) fn score_unchecked(&self, metric: Metric, zd: ZeroDivision) -> Option<f64> {
        let tp = self.tp as f64;
        let fp = self.fp as f64;
        let fn_ = self.fn_ as f64;
        let tn = self.tn as f64;
        match metric {
            Metric::Precision => zd.ratio(tp, tp + fp),
            Metric::Recall => zd.ratio(tp, tp + fn_),
            Metric::Specificity => zd.ratio(tn, tn + fp),
            Metric::F1 => zd.ratio(2.0 * tp, 2.0 * tp + fp + fn_),
            Metric::FBeta { beta } => {
                let b2 = beta * beta;
                zd.ratio((1.0 + b2) * tp, (1.0 + b2) * tp + b2 * fn_ + fp)
            }
            Metric::Iou => zd.ratio(tp, tp + fp + fn_),
            Metric::Accuracy => zd.ratio(tp + tn, tp + fp + fn_ + tn),
            Metric::BalancedAccuracy => {
                // As scikit-learn: average only the rates whose denominator is non-zero.
                let terms = [(tp, tp + fn_), (tn, tn + fp)];
                let (sum, n) = terms
                    .iter()
                    .filter(|(_, d)| *d > 0.0)
                    .fold((0.0, 0), |(s, n), (num, d)| (s + num / d, n + 1));
                if n == 0 {
                    zd.value()
                } else {
                    Some(sum / n as f64)
                }
            }
            Metric::Mcc => {
                let den = (tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_);
                if den == 0.0 {
                    if self.fp == 0 && self.fn_ == 0 {
                        zd.value()
                    } else {
                        Some(0.0)
                    }
                } else {
                    Some((tp * tn - fp * fn_) / den.sqrt())
                }
            }
            Metric::Tversky { alpha, beta } => zd.ratio(tp, tp + alpha * fp + beta * fn_),
        }
    }

    fn default_score(&self, metric: Metric) -> f64 {
        self.score_unchecked(metric, ZeroDivision::One)
            .unwrap_or(f64::NAN)
    }

    /// Precision `TP / (TP + FP)`; `0/0` scores 1 (see [`ZeroDivision`]).
    ///
    /// ```
    /// assert_eq!(segloss::metrics::Counts::new(20, 5, 10, 65).precision(), 0.8);
    /// ```
    pub fn precision(&self) -> f64 {
        self.default_score(Metric::Precision)
    }

    /// Recall (sensitivity) `TP / (TP + FN)`; `0/0` scores 1.
    ///
    /// ```
    /// assert_eq!(segloss::metrics::Counts::new(20, 5, 10, 65).recall(), 20.0 / 30.0);
    /// ```
    pub fn recall(&self) -> f64 {
        self.default_score(Metric::Recall)
    }

    /// Specificity `TN / (TN + FP)`; `0/0` scores 1.
    ///
    /// ```
    /// assert_eq!(segloss::metrics::Counts::new(20, 5, 10, 65).specificity(), 65.0 / 70.0);
    /// ```
    pub fn specificity(&self) -> f64 {
        self.default_score(Metric::Specificity)
    }

    /// F1 `2TP / (2TP + FP + FN)`, equal to [`Counts::dice`]; `0/0` scores 1.
    ///
    /// ```
    /// assert_eq!(segloss::metrics::Counts::new(20, 5, 10, 65).f1(), 40.0 / 55.0);
    /// ```
    pub fn f1(&self) -> f64 {
        self.default_score(Metric::F1)
    }

    /// Dice `2TP / (2TP + FP + FN)`, equal to [`Counts::f1`]; `0/0` scores 1.
    ///
    /// ```
    /// use segloss::metrics::Counts;
    /// assert_eq!(Counts::new(0, 0, 0, 7).dice(), 1.0);
    /// ```
    pub fn dice(&self) -> f64 {
        self.f1()
    }

    /// IoU (Jaccard) `TP / (TP + FP + FN)`; `0/0` scores 1.
    ///
    /// ```
    /// assert_eq!(segloss::metrics::Counts::new(20, 5, 10, 65).iou(), 20.0 / 35.0);
    /// ```
    pub fn iou(&self) -> f64 {
        self.default_score(Metric::Iou)
    }

    /// Accuracy `(TP + TN) / total`; `0/0` scores 1.
    ///
    /// ```
    /// assert_eq!(segloss::metrics::Counts::new(20, 5, 10, 65).accuracy(), 0.85);
    /// ```
    pub fn accuracy(&self) -> f64 {
        self.default_score(Metric::Accuracy)
    }

    /// Balanced accuracy, the mean of recall and specificity (of those defined).
    ///
    /// ```
    /// let b = segloss::metrics::Counts::new(20, 5, 10, 65).balanced_accuracy();
    /// assert!((b - (20.0 / 30.0 + 65.0 / 70.0) / 2.0).abs() < 1e-15);
    /// ```
    pub fn balanced_accuracy(&self) -> f64 {
        self.default_score(Metric::BalancedAccuracy)
    }

    /// Matthews correlation coefficient (see [`Metric::Mcc`] for the degenerate cases).
    ///
    /// ```
    /// let m = segloss::metrics::Counts::new(20, 5, 10, 65).mcc();
    /// assert!((m - 0.629940788348712).abs() < 1e-12);
    /// ```
    pub fn mcc(&self) -> f64 {
        self.default_score(Metric::Mcc)
    }
}
