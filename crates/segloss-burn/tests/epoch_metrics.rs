//! Epoch metrics fed batch by batch: their value equals the core metrics engine on the
//! concatenated data, and differs from the average of per-batch scores.

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use common::Rng;
use segloss::Shape;
use segloss::metrics::{Average, ConfusionMatrixConfig, Conventions};
use segloss_burn::metrics::{EpochMetric, SegScore, SegmentationInput};

const SCORES: [SegScore; 4] = [
    SegScore::Dice,
    SegScore::Iou,
    SegScore::Precision,
    SegScore::Recall,
];

fn core_metric(score: SegScore) -> segloss::metrics::Metric {
    match score {
        SegScore::Dice => segloss::metrics::Metric::F1,
        SegScore::Iou => segloss::metrics::Metric::Iou,
        SegScore::Precision => segloss::metrics::Metric::Precision,
        SegScore::Recall => segloss::metrics::Metric::Recall,
    }
}

/// Logits uniform in `[-3, 3)`.
fn logit(rng: &mut Rng) -> f32 {
    rng.unit_f32() * 6.0 - 3.0
}

/// One batch: logits `[n, c, s]` and labels `[n, s]` on the host. `bias` shifts the logit
/// of the true class, so batches differ in quality.
struct Batch {
    n: usize,
    logits: Vec<f32>,
    labels: Vec<i64>,
}

fn batch(rng: &mut Rng, n: usize, c: usize, s: usize, bias: f32, ignore: Option<i64>) -> Batch {
    let classes = c.max(2) as u64;
    let labels: Vec<i64> = (0..n * s)
        .map(|i| match ignore {
            Some(ig) if i % 7 == 3 => ig,
            _ => (rng.next() % classes) as i64,
        })
        .collect();
    let mut logits: Vec<f32> = (0..n * c * s).map(|_| logit(rng)).collect();
    for img in 0..n {
        for p in 0..s {
            let y = labels[img * s + p];
            if c == 1 {
                let sign = if y == 1 { 1.0 } else { -1.0 };
                logits[img * s + p] += sign * bias;
            } else if (0..c as i64).contains(&y) {
                logits[(img * c + y as usize) * s + p] += bias;
            }
        }
    }
    Batch { n, logits, labels }
}

fn input(b: &Batch, c: usize, s: usize, device: &Device) -> SegmentationInput {
    let x = Tensor::<3>::from_data(TensorData::new(b.logits.clone(), [b.n, c, s]), device);
    let y = Tensor::<2, Int>::from_data(TensorData::new(b.labels.clone(), [b.n, s]), device);
    SegmentationInput::new(x, y).unwrap()
}

/// Feeds `batches` through the metric and returns its epoch value and the per-batch values.
fn run(metric: &mut EpochMetric, batches: &[Batch], c: usize, s: usize) -> (f64, Vec<f64>) {
    let device = Device::flex();
    let mut per_batch = Vec::new();
    for b in batches {
        let mut alone = metric.clone();
        alone.clear();
        alone.update(&input(b, c, s, &device)).unwrap();
        per_batch.push(alone.value().unwrap());
        metric.update(&input(b, c, s, &device)).unwrap();
    }
    (metric.value().unwrap(), per_batch)
}

fn concat(batches: &[Batch]) -> (usize, Vec<f32>, Vec<i64>) {
    let n = batches.iter().map(|b| b.n).sum();
    let x = batches.iter().flat_map(|b| b.logits.clone()).collect();
    let y = batches.iter().flat_map(|b| b.labels.clone()).collect();
    (n, x, y)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn binary_metrics_equal_the_core_on_the_concatenated_epoch() {
    let (s, mut rng) = (24, Rng(1));
    // Batches of different sizes and quality: the per-batch average is biased.
    let batches = [
        batch(&mut rng, 1, 1, s, 4.0, None),
        batch(&mut rng, 4, 1, s, 0.5, None),
        batch(&mut rng, 2, 1, s, 1.5, None),
    ];
    let (n, x, y) = concat(&batches);
    // Counted by hand: x > 0 predicts the foreground.
    let [mut tp, mut fp, mut fn_] = [0.0f64; 3];
    for (&x, &y) in x.iter().zip(&y) {
        match (x > 0.0, y == 1) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fn_ += 1.0,
            (false, false) => {}
        }
    }
    assert_eq!(x.len(), n * s);
    for score in SCORES {
        let expected = match score {
            SegScore::Dice => 2.0 * tp / (2.0 * tp + fp + fn_),
            SegScore::Iou => tp / (tp + fp + fn_),
            SegScore::Precision => tp / (tp + fp),
            SegScore::Recall => tp / (tp + fn_),
        };
        let mut metric = EpochMetric::binary(score);
        let (epoch, per_batch) = run(&mut metric, &batches, 1, s);
        assert!(
            (epoch - expected).abs() < 1e-9,
            "{score:?}: {epoch} vs core {expected}"
        );
        let avg = mean(&per_batch);
        assert!(
            (avg - epoch).abs() > 1e-3,
            "{score:?}: per-batch average {avg} should differ from {epoch}"
        );
    }
}

#[test]
fn multiclass_micro_and_macro_equal_the_core_with_an_ignore_label() {
    let (c, s, mut rng) = (4, 30, Rng(2));
    let ig = Some(255);
    let batches = [
        batch(&mut rng, 3, c, s, 3.0, ig),
        batch(&mut rng, 1, c, s, 0.0, ig),
        batch(&mut rng, 2, c, s, 1.0, ig),
    ];
    let (n, x, y) = concat(&batches);
    let mut core = ConfusionMatrixConfig::new(c)
        .with_ignore_index(255)
        .init()
        .unwrap();
    core.update_argmax(&y, &x, &Shape::new(&[n, c, s]).unwrap())
        .unwrap();
    for average in [Average::Micro, Average::Macro] {
        for score in SCORES {
            let expected = core
                .score(core_metric(score), average, &Conventions::default())
                .unwrap()
                .value()
                .unwrap();
            let mut metric = EpochMetric::multiclass(score, average).with_ignore_index(255);
            let (epoch, per_batch) = run(&mut metric, &batches, c, s);
            assert!(
                (epoch - expected).abs() < 1e-9,
                "{score:?} {average:?}: {epoch} vs core {expected}"
            );
            assert_eq!(metric.confusion().unwrap().matrix(), core.matrix());
            let avg = mean(&per_batch);
            assert!(
                (avg - epoch).abs() > 1e-3,
                "{score:?} {average:?}: per-batch average {avg} vs {epoch}"
            );
        }
    }
}

#[test]
fn clear_starts_a_new_epoch() {
    let (c, s, mut rng) = (3, 10, Rng(3));
    let a = batch(&mut rng, 2, c, s, 2.0, None);
    let b = batch(&mut rng, 2, c, s, 0.0, None);
    let mut metric = EpochMetric::multiclass(SegScore::Iou, Average::Macro);
    let (_, alone) = run(&mut metric.clone(), std::slice::from_ref(&b), c, s);
    run(&mut metric, std::slice::from_ref(&a), c, s);
    metric.clear();
    assert!(metric.value().is_none());
    let (epoch, _) = run(&mut metric, std::slice::from_ref(&b), c, s);
    assert_eq!(epoch, alone[0]);
}

#[test]
fn a_label_out_of_range_is_a_typed_error_and_leaves_the_epoch_unchanged() {
    let device = Device::flex();
    let mut metric = EpochMetric::multiclass(SegScore::Dice, Average::Micro);
    let x = Tensor::<3>::zeros([1, 3, 4], &device);
    let good = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 1, 0, 2], [1, 4]), &device);
    metric
        .update(&SegmentationInput::new(x.clone(), good).unwrap())
        .unwrap();
    let before = metric.confusion().unwrap().matrix().to_vec();
    let bad = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 1, 5, 2], [1, 4]), &device);
    let err = metric
        .update(&SegmentationInput::new(x, bad).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            err,
            segloss_burn::Error::Core(segloss::Error::LabelOutOfRange { .. })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("expected a class index below 3"),
        "{err}"
    );
    assert_eq!(metric.confusion().unwrap().matrix(), &before[..]);
}

#[test]
fn inputs_of_the_wrong_shape_are_rejected_when_built() {
    let device = Device::flex();
    let x = Tensor::<4>::zeros([2, 3, 4, 4], &device);
    let y = Tensor::<3, Int>::zeros([2, 4, 5], &device);
    let err = SegmentationInput::new(x, y).unwrap_err();
    assert!(
        matches!(
            err,
            segloss_burn::Error::ShapeMismatch {
                input: "targets",
                ..
            }
        ),
        "{err:?}"
    );
}
