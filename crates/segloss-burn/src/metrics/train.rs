//! burn-train metrics (feature `train`): [`EpochMetric`] behind burn-train's `Metric` and
//! `Numeric` traits, in percent like burn's classification metrics.

use std::sync::Arc;

use burn::tensor::TensorReadError;
use burn::train::metric::{
    Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry,
};
use segloss::metrics::{Average, ConfusionMatrix};

use super::{EpochMetric, SegScore, SegmentationInput};

/// A burn-train metric that accumulates the confusion counts of every batch of the epoch and
/// scores them (an [`EpochMetric`]), rather than averaging per-batch ratios as burn's own Dice
/// metric does.
///
/// The value is in percent. `value()` is the score of all batches so far in the epoch; the
/// batch entry shows the last batch's own score too.
#[derive(Clone)]
pub struct SegmentationMetric {
    name: MetricName,
    inner: EpochMetric,
}

impl SegmentationMetric {
    fn wrap(inner: EpochMetric) -> Self {
        Self {
            name: Arc::new(inner.name()),
            inner,
        }
    }

    /// The metric of the foreground of a binary problem ([`EpochMetric::binary`]).
    pub fn binary(score: SegScore) -> Self {
        Self::wrap(EpochMetric::binary(score))
    }

    /// The metric of a multi-class problem ([`EpochMetric::multiclass`]).
    pub fn multiclass(score: SegScore, average: Average) -> Self {
        Self::wrap(EpochMetric::multiclass(score, average))
    }

    /// Pixels with this label are not counted.
    pub fn with_ignore_index(self, ignore_index: i64) -> Self {
        Self::wrap(self.inner.with_ignore_index(ignore_index))
    }

    /// The epoch's confusion matrix so far (rows = truth, columns = prediction).
    pub fn confusion(&self) -> Option<&ConfusionMatrix> {
        self.inner.confusion()
    }

    fn entry(&self, batch: Option<f64>) -> SerializedEntry {
        let epoch = self.inner.value();
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
    /// `update` can only report tensor-read errors ([`EpochMetric::update`] returns the typed
    /// error instead). Shapes were checked by [`SegmentationInput::new`].
    fn update(
        &mut self,
        item: &SegmentationInput,
        _metadata: &MetricMetadata,
    ) -> std::result::Result<SerializedEntry, TensorReadError> {
        let batch = self
            .inner
            .update(item)
            .unwrap_or_else(|e| panic!("segmentation metric: {e}"));
        Ok(self.entry(batch))
    }

    fn compute(&mut self) -> std::result::Result<SerializedEntry, TensorReadError> {
        Ok(self.entry(None))
    }

    fn clear(&mut self) {
        self.inner.clear();
    }
}

impl Numeric for SegmentationMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(NumericEntry::Value(100.0 * self.inner.value()?))
    }

    fn running_value(&self) -> Option<NumericEntry> {
        self.value()
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(self.value().map_or(f64::NAN, |v| v.current()))
    }
}
