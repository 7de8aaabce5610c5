//! burn-train metrics (feature `train`): Dice/F1, IoU, precision and recall over an epoch,
//! accumulated as exact confusion counts with the core metrics engine.

use std::sync::Arc;

use burn::tensor::{Int, Tensor, TensorReadError};
use burn::train::metric::{
    Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry,
};
use segloss::metrics::{Average, BinaryConfusion, ConfusionMatrix, Conventions, Counts};

use super::batch_confusion_matrix;
use crate::error::{Error, Result};
use crate::targets::{canonical, check_logits};

const OP: &str = "segmentation metric";

/// What a [`SegmentationMetric`] reads from a batch: logits `[N, C, S]` and class indices
/// `[N, S]` (binary: `C = 1` and labels `{0, 1}`).
#[derive(Debug, Clone)]
pub struct SegmentationInput {
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
}

impl SegmentationInput {
    /// Wraps logits `[N, C, D1, ...]` and class indices `[N, D1, ...]`, reshaped to the
    /// canonical layout. Labels are checked when the metric reads the input (they need a
    /// device read, and the ignore label is the metric's setting).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the logits lack a spatial axis or have a zero dimension,
    /// or the targets' shape is not the logits' shape without the channel axis.
    ///
    /// ```
    /// use burn::tensor::{Device, Int, Tensor};
    /// use segloss_burn::metrics::SegmentationInput;
    /// let device = Device::flex();
    /// let x = Tensor::<4>::zeros([2, 3, 4, 4], &device);
    /// assert!(SegmentationInput::new(x.clone(), Tensor::<3, Int>::zeros([2, 4, 4], &device)).is_ok());
    /// assert!(SegmentationInput::new(x, Tensor::<3, Int>::zeros([2, 4, 5], &device)).is_err());
    /// ```
    pub fn new<const D: usize, const K: usize>(
        logits: Tensor<D>,
        targets: Tensor<K, Int>,
    ) -> Result<Self> {
        let dims = logits.dims().to_vec();
        check_logits(OP, &dims)?;
        let mut expected = dims.clone();
        expected.remove(1);
        let found = targets.dims().to_vec();
        if found != expected {
            return Err(Error::ShapeMismatch {
                op: OP,
                input: "targets",
                expected: format!("{expected:?} (the logits' shape without the channel axis)"),
                found,
            });
        }
        let [n, c, s] = canonical(&dims);
        Ok(Self {
            logits: logits.reshape([n, c, s]),
            targets: targets.reshape([n, s]),
        })
    }
}

/// Which score a [`SegmentationMetric`] reports.
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
    fn core(self) -> segloss::metrics::Metric {
        match self {
            SegScore::Dice => segloss::metrics::Metric::F1,
            SegScore::Iou => segloss::metrics::Metric::Iou,
            SegScore::Precision => segloss::metrics::Metric::Precision,
            SegScore::Recall => segloss::metrics::Metric::Recall,
        }
    }
}

/// A burn-train metric that accumulates the confusion counts of every batch of the epoch
/// (exact `u64`, via [`batch_confusion_matrix`] and the core engine) and scores them, rather
/// than averaging per-batch ratios as burn's own Dice metric does.
///
/// - [`SegmentationMetric::binary`]: one foreground class (logits `C = 1`, `x > 0` →
///   foreground; labels 0/1); the score of the foreground.
/// - [`SegmentationMetric::multiclass`]: argmax over `C ≥ 2` channels, micro or macro
///   average over the classes (macro skips classes absent from truth and prediction, the
///   core's default [`Conventions`]).
///
/// The value is in percent, like burn's classification metrics. `value()` is the score of
/// all batches so far in the epoch; the batch entry shows the last batch's own score too.
#[derive(Clone)]
pub struct SegmentationMetric {
    name: MetricName,
    score: SegScore,
    average: Average,
    binary: bool,
    ignore_index: Option<i64>,
    conventions: Conventions,
    epoch: Option<ConfusionMatrix>,
}

impl SegmentationMetric {
    fn new(score: SegScore, average: Average, binary: bool) -> Self {
        let kind = if binary {
            "binary".to_string()
        } else {
            format!("{average:?}")
        };
        Self {
            name: Arc::new(format!("{score:?} ({kind})")),
            score,
            average,
            binary,
            ignore_index: None,
            conventions: Conventions::default(),
            epoch: None,
        }
    }

    /// The metric of the foreground of a binary problem.
    pub fn binary(score: SegScore) -> Self {
        Self::new(score, Average::Macro, true)
    }

    /// The metric of a multi-class problem, [`Average::Micro`] or [`Average::Macro`].
    pub fn multiclass(score: SegScore, average: Average) -> Self {
        Self::new(score, average, false)
    }

    /// Pixels with this label are not counted.
    pub fn with_ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = Some(ignore_index);
        self
    }

    /// The epoch's confusion matrix so far (rows = truth, columns = prediction).
    pub fn confusion(&self) -> Option<&ConfusionMatrix> {
        self.epoch.as_ref()
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

    fn entry(&self, batch: Option<f64>) -> SerializedEntry {
        let epoch = self.epoch.as_ref().and_then(|cm| self.score_of(cm));
        let fmt = |v: Option<f64>| v.map_or("N/A".to_string(), |v| format!("{:.2} %", 100.0 * v));
        SerializedEntry::new(
            format!("epoch {} - batch {}", fmt(epoch), fmt(batch)),
            epoch.map_or(SerializedEntry::NOT_AVAILABLE.to_string(), |v| {
                NumericEntry::Value(100.0 * v).serialize()
            }),
        )
    }
}

impl Metric for SegmentationMetric {
    type Input = SegmentationInput;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: Some("%".to_string()),
            higher_is_better: true,
        }
        .into()
    }

    /// # Panics
    /// If a label is outside the classes and not the ignore label (the message is the core's
    /// [`segloss::Error::LabelOutOfRange`] or [`segloss::Error::NegativeLabel`]): burn-train's
    /// `update` can only report tensor-read errors. Shapes were checked by
    /// [`SegmentationInput::new`].
    fn update(
        &mut self,
        item: &SegmentationInput,
        _metadata: &MetricMetadata,
    ) -> std::result::Result<SerializedEntry, TensorReadError> {
        let classes = item.logits.dims()[1].max(2);
        let counts =
            batch_confusion_matrix(item.logits.clone(), item.targets.clone(), self.ignore_index)
                .unwrap_or_else(|e| panic!("segmentation metric: {e}"));
        let batch = ConfusionMatrix::from_matrix(classes, counts)
            .unwrap_or_else(|e| panic!("segmentation metric: {e}"));
        let batch_score = self.score_of(&batch);
        match &mut self.epoch {
            Some(epoch) => epoch
                .merge(&batch)
                .unwrap_or_else(|e| panic!("segmentation metric: {e}")),
            None => self.epoch = Some(batch),
        }
        Ok(self.entry(batch_score))
    }

    fn compute(&mut self) -> std::result::Result<SerializedEntry, TensorReadError> {
        Ok(self.entry(None))
    }

    fn clear(&mut self) {
        self.epoch = None;
    }
}

impl Numeric for SegmentationMetric {
    fn value(&self) -> Option<NumericEntry> {
        let v = self.epoch.as_ref().and_then(|cm| self.score_of(cm))?;
        Some(NumericEntry::Value(100.0 * v))
    }

    fn running_value(&self) -> Option<NumericEntry> {
        self.value()
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(self.value().map_or(f64::NAN, |v| v.current()))
    }
}
