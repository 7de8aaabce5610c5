//! The burn-train wrapper (feature `train`): burn-train's `Metric`/`Numeric` traits report the
//! [`EpochMetric`] value in percent, `clear()` starts a new epoch, and a bad label panics with
//! the core message (burn-train's `update` cannot return it). The accumulation itself is tested
//! without the feature in `epoch_metrics.rs`.
#![cfg(feature = "train")]

use burn::data::dataloader::Progress;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::metric::{Metric, MetricMetadata, Numeric};
use segloss::metrics::Average;
use segloss_burn::metrics::{EpochMetric, SegScore, SegmentationInput, SegmentationMetric};

fn metadata() -> MetricMetadata {
    MetricMetadata {
        progress: Progress {
            items_processed: 1,
            items_total: 1,
            unit: None,
        },
        iteration: Some(0),
        lr: None,
    }
}

fn input(c: usize, logits: Vec<f32>, labels: Vec<i64>) -> SegmentationInput {
    let device = Device::flex();
    let s = labels.len();
    let x = Tensor::<3>::from_data(TensorData::new(logits, [1, c, s]), &device);
    let y = Tensor::<2, Int>::from_data(TensorData::new(labels, [1, s]), &device);
    SegmentationInput::new(x, y).unwrap()
}

fn batches() -> Vec<SegmentationInput> {
    vec![
        input(
            2,
            vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0],
            vec![0, 1, 1, 1],
        ),
        input(
            2,
            vec![0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0],
            vec![1, 0, 0, 1],
        ),
    ]
}

#[test]
fn reports_the_epoch_metric_in_percent() {
    for average in [Average::Micro, Average::Macro] {
        for score in [
            SegScore::Dice,
            SegScore::Iou,
            SegScore::Precision,
            SegScore::Recall,
        ] {
            let mut wrapped = SegmentationMetric::multiclass(score, average);
            let mut plain = EpochMetric::multiclass(score, average);
            for b in batches() {
                wrapped.update(&b, &metadata()).unwrap();
                plain.update(&b).unwrap();
            }
            let want = 100.0 * plain.value().unwrap();
            assert_eq!(
                wrapped.value().unwrap().current(),
                want,
                "{score:?} {average:?}"
            );
            assert_eq!(wrapped.confusion(), plain.confusion());
            assert_eq!(*wrapped.name(), plain.name());
        }
    }
}

#[test]
fn clear_starts_a_new_epoch() {
    let mut metric = SegmentationMetric::multiclass(SegScore::Iou, Average::Macro);
    let [a, b]: [SegmentationInput; 2] = batches().try_into().unwrap();
    metric.update(&a, &metadata()).unwrap();
    metric.clear();
    assert!(metric.value().is_none());
    metric.update(&b, &metadata()).unwrap();
    let mut alone = EpochMetric::multiclass(SegScore::Iou, Average::Macro);
    alone.update(&b).unwrap();
    assert_eq!(
        metric.value().unwrap().current(),
        100.0 * alone.value().unwrap()
    );
}

#[test]
#[should_panic(expected = "expected a class index below 3")]
fn a_label_out_of_range_panics_with_the_core_message() {
    let mut metric = SegmentationMetric::multiclass(SegScore::Dice, Average::Micro);
    let bad = input(3, vec![0.0; 12], vec![0, 1, 5, 2]);
    let _ = metric.update(&bad, &metadata());
}
