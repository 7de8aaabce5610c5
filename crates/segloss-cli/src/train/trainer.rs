//! The training loop: one model per (loss, seed), same data, same batches, same schedule.
//!
//! For a given seed every loss starts from the same initial weights (the device RNG is
//! re-seeded before the model is built) and sees the same batches in the same order; only
//! the loss differs.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::dataset::{CHANNELS, TileSet};
use super::evaluate::{EvalOptions, Scores, evaluate};
use super::losses::{LossParams, LossSpec};
use super::model::{OutputBias, UNet, UNetConfig};
use super::rng::SplitMix64;

/// Schedule and model of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Optimizer steps per model.
    pub steps: usize,
    /// Tiles per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Validate every this many steps (and after the last one).
    pub eval_every: usize,
    /// The network.
    pub model: UNetConfig,
    /// How the output layer's bias starts (the same for every loss).
    pub output_bias: OutputBias,
    /// Loss settings (α, γ).
    pub loss_params: LossParams,
    /// Validation options.
    pub eval: EvalOptions,
}

impl TrainConfig {
    /// Validates the schedule.
    ///
    /// # Errors
    /// Zero steps, batch size or validation interval, a learning rate that is not positive
    /// and finite, or an invalid model or loss setting.
    pub fn check(&self) -> Result<()> {
        if self.steps == 0 {
            bail!("steps: expected at least 1, found 0");
        }
        if self.batch_size == 0 {
            bail!("batch size: expected at least 1, found 0");
        }
        if self.eval_every == 0 {
            bail!("eval every: expected at least 1 step, found 0");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            bail!(
                "learning rate: expected a positive finite value, found {}",
                self.learning_rate
            );
        }
        if !(0.0..=1.0).contains(&self.eval.threshold) {
            bail!(
                "threshold: expected a probability in [0, 1], found {}",
                self.eval.threshold
            );
        }
        self.model.check()?;
        self.loss_params.check()
    }
}

/// The loss after one step.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StepLoss {
    /// Step number (1-based).
    pub step: usize,
    /// The training loss of that step's batch.
    pub loss: f64,
    /// Wall time of the step (batch upload, forward, backward, optimizer update; not
    /// validation), seconds.
    pub seconds: f64,
}

/// Validation scores at one step.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Checkpoint {
    /// Step number (1-based).
    pub step: usize,
    /// The scores.
    pub scores: Scores,
}

/// Everything one (loss, seed) training produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The loss, as given.
    pub loss: LossSpec,
    /// The seed (initial weights and batch order).
    pub seed: u64,
    /// Training loss per step.
    pub losses: Vec<StepLoss>,
    /// Validation scores over training; the last one is the final result.
    pub checkpoints: Vec<Checkpoint>,
    /// Probability maps of the first validation tiles, after training.
    pub probabilities: Vec<Vec<f32>>,
    /// Wall time of training and validation, seconds.
    pub seconds: f64,
    /// The trained model.
    pub model: UNet,
}

impl RunOutput {
    /// The final validation scores.
    pub fn scores(&self) -> &Scores {
        &self
            .checkpoints
            .last()
            .expect("a run validates at least once, after its last step")
            .scores
    }
}

/// The batch order of a seed: a reshuffle of the training set each epoch. Identical for every
/// loss trained with that seed.
pub fn batch_order(seed: u64, tiles: usize, steps: usize, batch: usize) -> Vec<Vec<usize>> {
    let mut rng = SplitMix64::derive(seed, u64::MAX);
    let mut order: Vec<usize> = Vec::new();
    let mut pos = 0usize;
    (0..steps)
        .map(|_| {
            (0..batch)
                .map(|_| {
                    if pos == order.len() {
                        order = (0..tiles).collect();
                        rng.shuffle(&mut order);
                        pos = 0;
                    }
                    pos += 1;
                    order[pos - 1]
                })
                .collect()
        })
        .collect()
}

/// Trains one model with `loss` and `seed`, showing progress on `bar`.
///
/// # Errors
/// The configuration is invalid, the training set is empty, or the loss became non-finite.
pub fn train_one(
    cfg: &TrainConfig,
    loss: &LossSpec,
    seed: u64,
    device: &Device,
    train: &TileSet,
    val: &TileSet,
    bar: &ProgressBar,
) -> Result<RunOutput> {
    cfg.check()?;
    loss.check()?;
    if train.tiles.is_empty() || val.tiles.is_empty() {
        bail!("training and validation sets must both hold at least one tile");
    }
    let start = Instant::now();
    device.seed(seed);
    let mut model = cfg.model.init(device)?;
    if let Some(b) = cfg.output_bias.value(train.foreground_fraction()) {
        model = model.with_output_bias(b, device);
    }
    let mut optim = AdamConfig::new().init();
    let (h, w) = (train.height, train.width);
    let mut losses = Vec::with_capacity(cfg.steps);
    let mut checkpoints = Vec::new();
    let mut last = None;
    for (i, idx) in batch_order(seed, train.tiles.len(), cfg.steps, cfg.batch_size)
        .into_iter()
        .enumerate()
    {
        let step = i + 1;
        let step_start = Instant::now();
        let (x, y) = train.batch(&idx);
        let b = idx.len();
        let x = Tensor::<4>::from_data(TensorData::new(x, [b, CHANNELS, h, w]), device);
        let y = Tensor::<4>::from_data(TensorData::new(y, [b, 1, h, w]), device);
        let logits = model.forward(x);
        let value = loss.forward(&cfg.loss_params, logits, y)?;
        let v = f64::from(
            value
                .clone()
                .try_into_scalar::<f32>()
                .map_err(|e| anyhow::anyhow!("reading the loss at step {step}: {e:?}"))?,
        );
        if !v.is_finite() {
            bail!("loss {loss} (seed {seed}) became {v} at step {step}");
        }
        let grads = GradientsParams::from_grads(value.backward(), &model);
        model = optim.step(cfg.learning_rate, model, grads);
        losses.push(StepLoss {
            step,
            loss: v,
            seconds: step_start.elapsed().as_secs_f64(),
        });
        bar.inc(1);
        bar.set_message(format!("loss {v:.4}"));
        if step % cfg.eval_every == 0 || step == cfg.steps {
            let ev = evaluate(&model, device, val, &cfg.eval);
            checkpoints.push(Checkpoint {
                step,
                scores: ev.scores,
            });
            last = Some(ev);
        }
    }
    let last = last.context("no validation pass ran")?;
    Ok(RunOutput {
        loss: loss.clone(),
        seed,
        losses,
        checkpoints,
        probabilities: last.probabilities,
        seconds: start.elapsed().as_secs_f64(),
        model,
    })
}

/// A progress bar for one run, drawn on stderr when it is a terminal.
pub fn progress_bar(steps: usize, label: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(steps as u64),
        if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    let style =
        ProgressStyle::with_template("{prefix:>22} [{bar:30}] {pos:>4}/{len} {msg} ({elapsed})")
            .expect("the template is valid")
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_order_covers_each_epoch_once() {
        let order = batch_order(1, 10, 5, 4);
        assert_eq!(order.len(), 5);
        let first: Vec<usize> = order.concat()[..10].to_vec();
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(batch_order(1, 10, 5, 4), order);
        assert_ne!(batch_order(2, 10, 5, 4), order);
    }
}
