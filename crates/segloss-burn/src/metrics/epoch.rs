//! Epoch metrics: Dice/F1, IoU, precision and recall over every batch of an epoch, from exact
//! confusion counts, for any training loop (the `train` feature wraps them for burn-train).

use segloss::metrics::{Average, BinaryConfusion, ConfusionMatrix, Conventions, Counts};

use super::{SegmentationInput, batch_confusion_matrix};
use crate::error::Result;

/// Which score an [`EpochMetric`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegScore {
    /// Dice = F1 = `2TP / (2TP + FP + FN)`.
    Dice,
    /// IoU = `TP / (TP + FP + FN)`.
    Iou,
    /// `TP / (TP + FP)`.
    Precision,
    /// `TP / (TP + FN)`.
    Recall,
}

impl SegScore {
    /// The core metrics engine's name for this score.
    pub fn core(self) -> segloss::metrics::Metric {
        match self {
            SegScore::Dice => segloss::metrics::Metric::F1,
            SegScore::Iou => segloss::metrics::Metric::Iou,
            SegScore::Precision => segloss::metrics::Metric::Precision,
            SegScore::Recall => segloss::metrics::Metric::Recall,
        }
    }
}

/// A score accumulated over an epoch as exact `u64` confusion counts (via
/// [`batch_confusion_matrix`] and the core engine), rather than averaged over per-batch ratios
/// as burn's own Dice metric does: `Dice = 2ΣTP / (2ΣTP + ΣFP + ΣFN)` over all batches.
///
/// - [`EpochMetric::binary`]: one foreground class (logits `C = 1`, `x > 0` → foreground;
///   labels 0/1); the score of the foreground.
/// - [`EpochMetric::multiclass`]: argmax over `C ≥ 2` channels, micro or macro average over
///   the classes (macro skips classes absent from truth and prediction, the core's default
///   [`Conventions`]).
///
/// Values are fractions in `[0, 1]` (the burn-train wrapper reports percent).
///
/// ```
/// use burn::tensor::{Device, Int, Tensor, TensorData};
/// use segloss_burn::metrics::{EpochMetric, SegScore, SegmentationInput};
/// let device = Device::flex();
/// let batch = |x: Vec<f32>, y: Vec<i64>| {
///     let n = y.len();
///     SegmentationInput::new(
///         Tensor::<3>::from_data(TensorData::new(x, [1, 1, n]), &device),
///         Tensor::<2, Int>::from_data(TensorData::new(y, [1, n]), &device),
///     )
///     .unwrap()
/// };
/// let mut dice = EpochMetric::binary(SegScore::Dice);
/// // Batch 1: TP 1, FN 1 (Dice 2/3). Batch 2: TP 3, FP 1 (Dice 6/7).
/// assert_eq!(dice.update(&batch(vec![2.0, -1.0], vec![1, 1])).unwrap(), Some(2.0 / 3.0));
/// dice.update(&batch(vec![1.0, 1.0, 1.0, 1.0], vec![1, 1, 1, 0])).unwrap();
/// // The epoch: 2·4 / (2·4 + 1 + 1) = 0.8, not the mean of the batch scores (0.762).
/// assert_eq!(dice.value(), Some(0.8));
/// ```
#[derive(Debug, Clone)]
pub struct EpochMetric {
    score: SegScore,
    average: Average,
    binary: bool,
    ignore_index: Option<i64>,
    conventions: Conventions,
    epoch: Option<ConfusionMatrix>,
}

impl EpochMetric {
    fn new(score: SegScore, average: Average, binary: bool) -> Self {
        Self {
            score,
            average,
            binary,
            ignore_index: None,
            conventions: Conventions::default(),
            epoch: None,
        }
    }

    /// The score of the foreground of a binary problem.
    pub fn binary(score: SegScore) -> Self {
        Self::new(score, Average::Macro, true)
    }

    /// The score of a multi-class problem, [`Average::Micro`] or [`Average::Macro`].
    pub fn multiclass(score: SegScore, average: Average) -> Self {
        Self::new(score, average, false)
    }

    /// Pixels with this label are not counted.
    pub fn with_ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = Some(ignore_index);
        self
    }

    /// A short name: the score and `binary`, `Micro` or `Macro`, e.g. `"Dice (binary)"`.
    pub fn name(&self) -> String {
        let kind = if self.binary {
            "binary".to_string()
        } else {
            format!("{:?}", self.average)
        };
        format!("{:?} ({kind})", self.score)
    }

    /// Adds a batch to the epoch and returns that batch's own score (`None` where it is
    /// undefined, e.g. precision with no positive prediction).
    ///
    /// # Errors
    /// A core [`segloss::Error::LabelOutOfRange`] or [`segloss::Error::NegativeLabel`] for a
    /// label outside the classes that is not the ignore label, and a core error if the batch
    /// has a different number of classes than the epoch so far. On error the epoch is
    /// unchanged.
    pub fn update(&mut self, item: &SegmentationInput) -> Result<Option<f64>> {
        let classes = item.logits.dims()[1].max(2);
        let counts =
            batch_confusion_matrix(item.logits.clone(), item.targets.clone(), self.ignore_index)?;
        let batch = ConfusionMatrix::from_matrix(classes, counts)?;
        let batch_score = self.score_of(&batch);
        match &mut self.epoch {
            Some(epoch) => epoch.merge(&batch)?,
            None => self.epoch = Some(batch),
        }
        Ok(batch_score)
    }

    /// The score of every batch so far (`None` before the first batch or where undefined).
    pub fn value(&self) -> Option<f64> {
        self.epoch.as_ref().and_then(|cm| self.score_of(cm))
    }

    /// The epoch's confusion matrix so far (rows = truth, columns = prediction).
    pub fn confusion(&self) -> Option<&ConfusionMatrix> {
        self.epoch.as_ref()
    }

    /// Forgets every batch: the next [`EpochMetric::update`] starts a new epoch.
    pub fn clear(&mut self) {
        self.epoch = None;
    }

    fn score_of(&self, cm: &ConfusionMatrix) -> Option<f64> {
        if self.binary {
            let counts = Counts::new(cm.get(1, 1), cm.get(0, 1), cm.get(1, 0), cm.get(0, 0));
            return BinaryConfusion::from_counts(counts)
                .score(self.score.core(), Average::Macro, &self.conventions)
                .ok()
                .and_then(|a| a.value());
        }
        cm.score(self.score.core(), self.average, &self.conventions)
            .ok()
            .and_then(|a| a.value())
    }
}
