//! A ready-made summary of every score: what `eval` prints and training logs.

use super::{Average, Conventions, Counts, ImageCounts, Metric, average};
use crate::error::Result;

/// Scores of a whole problem that are not per class: for a multi-class matrix the
/// multi-class accuracy `trace / n`, balanced accuracy (mean recall over classes with
/// support) and MCC (Gorodkin's R_K, as scikit-learn's `matthews_corrcoef`); for a binary
/// problem the binary versions, which coincide.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Overall {
    /// Fraction of counted pixels predicted correctly.
    pub accuracy: Option<f64>,
    /// Mean recall over the classes present in the truth.
    pub balanced_accuracy: Option<f64>,
    /// Matthews correlation coefficient.
    pub mcc: Option<f64>,
}

impl Overall {
    /// The binary scores of `counts`.
    ///
    /// ```
    /// use segloss::metrics::{Counts, Overall};
    /// let o = Overall::from_counts(&Counts::new(20, 5, 10, 65), &Default::default());
    /// assert_eq!(o.accuracy, Some(0.85));
    /// ```
    pub fn from_counts(counts: &Counts, conv: &Conventions) -> Self {
        let zd = conv.zero_division;
        Self {
            accuracy: counts.score_unchecked(Metric::Accuracy, zd),
            balanced_accuracy: counts.score_unchecked(Metric::BalancedAccuracy, zd),
            mcc: counts.score_unchecked(Metric::Mcc, zd),
        }
    }
}

/// The headline scores of one class or one average.
///
/// `None` marks a score skipped by [`crate::metrics::ZeroDivision::Skip`] or an average with
/// nothing to average.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Summary {
    /// `TP / (TP + FP)`.
    pub precision: Option<f64>,
    /// `TP / (TP + FN)` (sensitivity).
    pub recall: Option<f64>,
    /// `TN / (TN + FP)`.
    pub specificity: Option<f64>,
    /// `2TP / (2TP + FP + FN)`, F1 = Dice.
    pub f1: Option<f64>,
    /// `TP / (TP + FP + FN)`, IoU = Jaccard.
    pub iou: Option<f64>,
    /// `(TP + TN) / total` (one against the rest).
    pub accuracy: Option<f64>,
    /// Mean of recall and specificity (one against the rest).
    pub balanced_accuracy: Option<f64>,
    /// Matthews correlation coefficient (one against the rest).
    pub mcc: Option<f64>,
}

/// The metrics a [`Summary`] holds, in field order.
const SUMMARY_METRICS: [Metric; 8] = [
    Metric::Precision,
    Metric::Recall,
    Metric::Specificity,
    Metric::F1,
    Metric::Iou,
    Metric::Accuracy,
    Metric::BalancedAccuracy,
    Metric::Mcc,
];

impl Summary {
    fn from_fn(mut f: impl FnMut(Metric) -> Result<Option<f64>>) -> Result<Self> {
        let mut v = [None; 8];
        for (slot, m) in v.iter_mut().zip(SUMMARY_METRICS) {
            *slot = f(m)?;
        }
        let [
            precision,
            recall,
            specificity,
            f1,
            iou,
            accuracy,
            balanced_accuracy,
            mcc,
        ] = v;
        Ok(Self {
            precision,
            recall,
            specificity,
            f1,
            iou,
            accuracy,
            balanced_accuracy,
            mcc,
        })
    }
}

/// One class's counts and scores.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClassReport {
    /// The class index (for a binary problem: 1, the positive class).
    pub class: usize,
    /// `TP, FP, FN, TN` of this class (one against the rest).
    pub counts: Counts,
    /// `TP + FN`, the pixels of this class in the truth.
    pub support: u64,
    /// The class's scores.
    pub scores: Summary,
}

/// Every score of an accumulated state: per class, micro, macro, weighted, image-wise and
/// overall. Built by the accumulators' `report` methods.
///
/// # Examples
/// ```
/// use segloss::metrics::{ConfusionMatrix, Conventions};
/// // rows = truth, columns = prediction
/// let m = ConfusionMatrix::from_matrix(2, vec![65, 5, 10, 20]).unwrap();
/// let r = m.report(&Conventions::default()).unwrap();
/// assert_eq!(r.classes[1].scores.precision, Some(0.8));
/// assert_eq!(r.overall.accuracy, Some(0.85));
/// assert_eq!(r.pixels, 100);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Report {
    /// Per-class counts and scores.
    pub classes: Vec<ClassReport>,
    /// Scores of the summed counts ([`Average::Micro`]).
    pub micro_avg: Summary,
    /// Mean of the class scores ([`Average::Macro`]).
    pub macro_avg: Summary,
    /// Support-weighted mean of the class scores ([`Average::Weighted`]).
    pub weighted_avg: Summary,
    /// Mean over images of the per-image macro scores ([`Average::ImageWise`]), if per-image
    /// counts were kept.
    pub image_wise: Option<Summary>,
    /// Scores of the whole problem.
    pub overall: Overall,
    /// Counted (not ignored) pixels.
    pub pixels: u64,
    /// Ignored pixels.
    pub ignored: u64,
    /// Number of images, if per-image counts were kept.
    pub images: Option<usize>,
    /// The conventions the scores follow.
    pub conventions: Conventions,
}

impl Report {
    /// Builds a report from per-class counts (`class_ids[i]` names `classes[i]`).
    ///
    /// # Errors
    /// [`crate::Error::Incompatible`] if `images` has a different number of classes.
    pub fn from_classes(
        classes: &[Counts],
        class_ids: &[usize],
        images: Option<&ImageCounts>,
        ignored: u64,
        overall: Overall,
        conv: &Conventions,
    ) -> Result<Self> {
        let zd = conv.zero_division;
        let per_class = classes
            .iter()
            .zip(class_ids)
            .map(|(c, &class)| {
                Ok(ClassReport {
                    class,
                    counts: *c,
                    support: c.support(),
                    scores: Summary::from_fn(|m| Ok(c.score_unchecked(m, zd)))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let avg =
            |a: Average| Summary::from_fn(|m| Ok(average(classes, images, m, a, conv)?.value()));
        Ok(Self {
            classes: per_class,
            micro_avg: avg(Average::Micro)?,
            macro_avg: avg(Average::Macro)?,
            weighted_avg: avg(Average::Weighted)?,
            image_wise: images.map(|_| avg(Average::ImageWise)).transpose()?,
            overall,
            pixels: classes.first().map_or(0, Counts::total),
            ignored,
            images: images.map(ImageCounts::len),
            conventions: *conv,
        })
    }
}
