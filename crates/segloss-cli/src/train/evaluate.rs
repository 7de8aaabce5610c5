//! Validation: run a model over a tile set and score it, pixels and objects.
//!
//! Pixel scores come from confusion counts accumulated over the whole validation set (not
//! averages of per-tile ratios). A pixel is predicted positive when `σ(logit) ≥ threshold`.

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use segloss::metrics::{BinaryConfusion, Counts};
use serde::Serialize;

use super::dataset::{CHANNELS, TileSet};
use super::model::UNet;
use crate::eval::labels::Labels;
use crate::eval::objects::{ObjectCounts, ObjectRule, count_objects};

/// The scores of one model on one validation set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Pixel Dice = F1.
    pub dice: f64,
    /// Pixel IoU.
    pub iou: f64,
    /// Pixel precision.
    pub precision: f64,
    /// Pixel recall.
    pub recall: f64,
    /// Object F1 (components matched at IoU ≥ 0.5).
    pub object_f1: f64,
    /// Object precision.
    pub object_precision: f64,
    /// Object recall.
    pub object_recall: f64,
    /// The pixel confusion counts.
    pub counts: Counts,
    /// The object counts (`tp`: matched pairs, `fp`, `fn`: unmatched predicted / true
    /// components).
    pub objects: ObjectCounts,
}

impl Scores {
    fn from_counts(counts: Counts, objects: ObjectCounts) -> Self {
        Self {
            dice: counts.dice(),
            iou: counts.iou(),
            precision: counts.precision(),
            recall: counts.recall(),
            object_f1: objects.f1(),
            object_precision: objects.precision(),
            object_recall: objects.recall(),
            counts,
            objects,
        }
    }
}

/// Options of a validation pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalOptions {
    /// Probability at or above which a pixel is predicted positive. Default 0.5.
    pub threshold: f32,
    /// IoU at or above which two objects match. Default 0.5.
    pub object_iou: f64,
    /// Tiles per forward pass.
    pub batch_size: usize,
    /// Keep the probability maps of this many leading tiles (for the prediction panels).
    pub keep_probabilities: usize,
}

/// The result of a validation pass.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The scores.
    pub scores: Scores,
    /// Probability maps (`H×W`) of the first `keep_probabilities` tiles.
    pub probabilities: Vec<Vec<f32>>,
}

/// Probabilities `σ(logit)` for the normalized inputs `x` (`B×3×H×W` flattened), one
/// `H×W` map per tile, computed without autodiff.
pub fn predict_probabilities(
    model: &UNet,
    device: &Device,
    x: Vec<f32>,
    batch: usize,
    height: usize,
    width: usize,
) -> Vec<Vec<f32>> {
    let input =
        Tensor::<4>::from_data(TensorData::new(x, [batch, CHANNELS, height, width]), device);
    let probs = sigmoid(model.forward(input));
    let flat: Vec<f32> = probs
        .into_data()
        .try_into_vec::<f32>()
        .expect("a float tensor converts to f32");
    flat.chunks(height * width).map(<[f32]>::to_vec).collect()
}

/// Scores `model` on `set`. The model is switched to inference mode (batch norm uses its
/// running statistics) on the non-autodiff version of `device`.
pub fn evaluate(model: &UNet, device: &Device, set: &TileSet, opts: &EvalOptions) -> Evaluation {
    let plain = device.clone().without_autodiff();
    let model = model.valid();
    let mut confusion = BinaryConfusion::new();
    let mut objects = ObjectCounts::default();
    let rule = ObjectRule {
        class: 1,
        iou_threshold: opts.object_iou,
        min_area: 0,
    };
    let mut kept = Vec::new();
    let indices: Vec<usize> = (0..set.tiles.len()).collect();
    for chunk in indices.chunks(opts.batch_size.max(1)) {
        let (x, _) = set.batch(chunk);
        let probs = predict_probabilities(&model, &plain, x, chunk.len(), set.height, set.width);
        for (&i, p) in chunk.iter().zip(probs) {
            let pred: Vec<u8> = p.iter().map(|&v| u8::from(v >= opts.threshold)).collect();
            let truth = &set.tiles[i].mask;
            confusion
                .update(truth, &pred)
                .expect("masks and predictions are 0/1 of equal length (TileSet::check)");
            let (t, p_labels) = (Labels::U8(truth.clone()), Labels::U8(pred));
            objects.add(&count_objects(
                &t,
                &p_labels,
                set.width,
                t.ignore_label(),
                &rule,
            ));
            if kept.len() < opts.keep_probabilities {
                kept.push(p);
            }
        }
    }
    Evaluation {
        scores: Scores::from_counts(confusion.counts(), objects),
        probabilities: kept,
    }
}
