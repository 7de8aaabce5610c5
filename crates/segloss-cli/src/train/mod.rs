//! `segloss train`: train a small U-Net with each loss on the same data and compare them.
//!
//! The pieces, one per file: [`synthetic`] draws the built-in task, [`folder`] reads a real
//! one, [`dataset`] batches tiles, [`model`] is the U-Net, [`losses`] parses and evaluates
//! the compared losses, [`trainer`] runs the loop, [`evaluate`] scores a model (objects
//! through `eval`'s object matching), [`report`] and [`plots`] write the results, [`device`] picks the backend,
//! [`guide`] draws the guide's figures.

pub mod dataset;
pub mod device;
pub mod evaluate;
pub mod folder;
pub mod guide;
pub mod losses;
pub mod model;
pub mod plots;
pub mod report;
pub mod rng;
pub mod synthetic;
pub mod trainer;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use serde::Serialize;

use crate::Outcome;
use device::{Denormals, DeviceChoice};
use evaluate::EvalOptions;
use folder::Unmatched;
use losses::{LossParams, LossSpec};
use model::{OutputBias, UNetConfig};
use plots::{Chart, PanelRow, Series};
use report::{Machine, Report, Summary};
use synthetic::{Split, SyntheticConfig};
use trainer::{RunOutput, TrainConfig};

/// Arguments of `segloss train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Losses to compare, comma-separated; each is terms joined by `+` with optional weights,
    /// e.g. `dice+0.5*focal`. Terms: bce, balanced-bce, focal, dice.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "bce,balanced-bce,focal,dice,dice+bce,dice+focal"
    )]
    pub losses: Vec<LossSpec>,
    /// Optimizer (Adam) steps per model.
    #[arg(long, default_value_t = 150)]
    pub steps: usize,
    /// Tiles per step.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,
    /// Number of training seeds (initial weights and batch order); several give the spread.
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// First training seed; runs use `seed, seed+1, ...`. A seed reproduces a run bit for bit
    /// on the same machine, at any thread count (not across CPUs: SIMD paths differ).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seed of the synthetic data (the same data for every training seed).
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// U-Net width: channels of the first level (doubling per level).
    #[arg(long, default_value_t = 8)]
    pub width: usize,
    /// U-Net depth: number of down-sampling steps.
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// Start of the output layer's bias: `prior` = log(π/(1−π)) with π the training masks'
    /// foreground fraction (Lin et al. 2017; the same for every loss), or `uniform` =
    /// burn's random default (earlier versions; on some seeds it left every BCE-type loss
    /// predicting no foreground, see the README).
    #[arg(long, value_enum, default_value_t = OutputBias::Prior)]
    pub output_bias: OutputBias,
    /// Tile side in pixels (a multiple of 2^depth).
    #[arg(long, default_value_t = 64)]
    pub tile_size: usize,
    /// Synthetic training tiles.
    #[arg(long, default_value_t = 512)]
    pub train_tiles: usize,
    /// Synthetic validation tiles.
    #[arg(long, default_value_t = 64)]
    pub val_tiles: usize,
    /// Probability that a synthetic training building's label is corrupted (shifted or
    /// missing). Validation labels stay clean.
    #[arg(long, default_value_t = 0.0)]
    pub label_noise: f32,
    /// Train on a folder with `images/` and `masks/` instead of the synthetic task.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// With `--data`: fraction of the images held out for validation.
    #[arg(long, default_value_t = 0.2)]
    pub val_fraction: f64,
    /// With `--data`: files without a partner stop the run (`fail`) or are left out and
    /// listed (`skip`).
    #[arg(long, value_enum, default_value_t = Unmatched::Fail)]
    pub unmatched: Unmatched,
    /// α of the balanced BCE (weight of positives; negatives get 1 − α).
    #[arg(long, default_value_t = 0.75)]
    pub bce_alpha: f32,
    /// α of the focal loss (weight of positives; negatives get 1 − α, as in Lin et al.).
    #[arg(long, default_value_t = 0.25)]
    pub focal_alpha: f32,
    /// γ of the focal loss.
    #[arg(long, default_value_t = 2.0)]
    pub gamma: f32,
    /// Probability at or above which a pixel counts as foreground when scoring.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// IoU at or above which a predicted object matches a true one.
    #[arg(long, default_value_t = 0.5)]
    pub object_iou: f64,
    /// Validate every this many steps (for the curves).
    #[arg(long, default_value_t = 25)]
    pub eval_every: usize,
    /// Validation tiles shown in each prediction panel.
    #[arg(long, default_value_t = 4)]
    pub panel_tiles: usize,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Flex)]
    pub device: DeviceChoice,
    /// CPU treatment of subnormal floats on Flex: `flush` (flush-to-zero, the default) or
    /// `keep` (IEEE default; only for measuring what flushing buys).
    #[arg(long, value_enum, default_value_t = Denormals::Flush)]
    pub denormals: Denormals,
    /// Report folder. Default: `segloss-report/train-<UTC time>`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write into `--out` even if it exists and is not empty (files of the same name are
    /// replaced).
    #[arg(long)]
    pub force: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// The data section of `metrics.json`.
#[derive(Debug, Serialize)]
struct DataInfo {
    source: String,
    tile_size: usize,
    train_tiles: usize,
    val_tiles: usize,
    train_foreground: f64,
    val_foreground: f64,
    label_noise: Option<f32>,
    /// With `--data`: the images held out for validation, and the files left out for want
    /// of a partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    val_images: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<Vec<String>>,
}

/// The config section of `metrics.json`.
#[derive(Debug, Serialize)]
struct ConfigInfo {
    steps: usize,
    batch_size: usize,
    learning_rate: f64,
    optimizer: &'static str,
    model: UNetConfig,
    output_bias: OutputBias,
    /// The starting output bias, when not random.
    output_bias_value: Option<f32>,
    parameters: usize,
    bce_alpha: f32,
    focal_alpha: f32,
    gamma: f32,
    threshold: f32,
    object_iou: f64,
    seeds: Vec<u64>,
    denormals: Denormals,
}

/// Creates the report folder, refusing to mix with existing files unless `force`.
fn prepare_out(out: &Path, force: bool) -> Result<()> {
    if out.exists() {
        let non_empty = std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_some();
        if non_empty && !force {
            bail!(
                "{} exists and is not empty; choose another --out or pass --force",
                out.display()
            );
        }
    }
    std::fs::create_dir_all(out.join("weights"))
        .with_context(|| format!("creating {}", out.display()))
}

/// Runs `segloss train`.
///
/// # Errors
/// Bad options, unreadable data, or a report file that cannot be written.
pub fn run(args: &TrainArgs) -> Result<Outcome> {
    let model_cfg = UNetConfig::default()
        .with_width(args.width)
        .with_depth(args.depth);
    model_cfg.check()?;
    if !args.tile_size.is_multiple_of(model_cfg.multiple()) {
        bail!(
            "tile size: expected a multiple of 2^depth = {}, found {}",
            model_cfg.multiple(),
            args.tile_size
        );
    }
    if args.seeds == 0 {
        bail!("seeds: expected at least 1, found 0");
    }
    if args.losses.is_empty() {
        bail!("losses: expected at least one");
    }
    let cfg = TrainConfig {
        steps: args.steps,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        eval_every: args.eval_every,
        model: model_cfg,
        output_bias: args.output_bias,
        loss_params: LossParams {
            bce_alpha: args.bce_alpha,
            focal_alpha: args.focal_alpha,
            gamma: args.gamma,
        },
        eval: EvalOptions {
            threshold: args.threshold,
            object_iou: args.object_iou,
            batch_size: 32,
            keep_probabilities: args.panel_tiles,
        },
    };
    cfg.check()?;
    for l in &args.losses {
        l.check()?;
    }

    let (train, val, source, folder_lists) = match &args.data {
        Some(dir) => {
            let l = folder::load(
                dir,
                args.tile_size,
                args.val_fraction,
                args.data_seed,
                args.unmatched,
            )?;
            if !l.unmatched.is_empty() {
                eprintln!(
                    "warning: {} file(s) without a partner were left out: {}",
                    l.unmatched.len(),
                    l.unmatched.join(", ")
                );
            }
            (
                l.train,
                l.val,
                format!("folder {} ({} pairs)", dir.display(), l.pairs),
                Some((l.val_images, l.unmatched)),
            )
        }
        None => {
            let syn = SyntheticConfig::default()
                .with_size(args.tile_size)
                .with_label_noise(args.label_noise);
            (
                syn.generate(args.data_seed, Split::Train, args.train_tiles)?,
                syn.generate(args.data_seed, Split::Validation, args.val_tiles)?,
                format!("synthetic (data seed {})", args.data_seed),
                None,
            )
        }
    };
    train.check()?;
    val.check()?;

    let out = args.out.clone().unwrap_or_else(|| {
        let t = report::iso_utc(report::now_unix()).replace(':', "-");
        PathBuf::from("segloss-report").join(format!("train-{t}"))
    });
    prepare_out(&out, args.force)?;
    let device = args.device.device_with(args.denormals)?;

    eprintln!(
        "segloss train: {} losses × {} seed(s), {} steps of {} tiles ({}×{}), {} training / {} validation tiles, foreground {:.1} %, device {}",
        args.losses.len(),
        args.seeds,
        args.steps,
        args.batch_size,
        args.tile_size,
        args.tile_size,
        train.tiles.len(),
        val.tiles.len(),
        100.0 * train.foreground_fraction(),
        args.device.name()
    );
    let seeds: Vec<u64> = (args.seed..args.seed + args.seeds).collect();
    let mut runs: Vec<RunOutput> = Vec::new();
    for &seed in &seeds {
        for loss in &args.losses {
            let label = if seeds.len() > 1 {
                format!("{loss} (seed {seed})")
            } else {
                loss.to_string()
            };
            let bar = trainer::progress_bar(args.steps, &label, args.quiet);
            let r = trainer::train_one(&cfg, loss, seed, &device, &train, &val, &bar)?;
            bar.finish_with_message(format!("Dice {:.3}", r.scores().dice));
            runs.push(r);
        }
    }

    let summary = report::summarize(&runs);
    let parameters = runs.first().map_or(0, |r| r.model.num_params());
    let weights = save_weights(&out, &model_cfg, &runs)?;
    write_curves(&out, &runs, &args.losses)?;
    write_panels(&out, &runs, &val, args.threshold)?;
    let rep = Report {
        segloss_version: env!("CARGO_PKG_VERSION"),
        date_utc: report::iso_utc(report::now_unix()),
        machine: Machine::current(),
        device: args.device.name(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        data: DataInfo {
            source,
            tile_size: args.tile_size,
            train_tiles: train.tiles.len(),
            val_tiles: val.tiles.len(),
            train_foreground: train.foreground_fraction(),
            val_foreground: val.foreground_fraction(),
            label_noise: args.data.is_none().then_some(args.label_noise),
            val_images: folder_lists.as_ref().map(|l| l.0.clone()),
            skipped: folder_lists.map(|l| l.1),
        },
        config: ConfigInfo {
            steps: args.steps,
            batch_size: args.batch_size,
            learning_rate: args.lr,
            optimizer: "Adam (beta1 0.9, beta2 0.999, eps 1e-5)",
            model: model_cfg,
            output_bias: args.output_bias,
            output_bias_value: args.output_bias.value(train.foreground_fraction()),
            parameters,
            bce_alpha: args.bce_alpha,
            focal_alpha: args.focal_alpha,
            gamma: args.gamma,
            threshold: args.threshold,
            object_iou: args.object_iou,
            seeds: seeds.clone(),
            denormals: args.denormals,
        },
        runs: (&runs, &weights),
        summary: &summary,
    };
    report::write_json(&out.join("metrics.json"), &rep)?;
    write_text(&out.join("metrics.csv"), &report::runs_csv(&runs))?;
    write_text(&out.join("summary.csv"), &report::summary_csv(&summary))?;
    let table = report::table(&summary);
    write_text(&out.join("table.md"), &table)?;
    println!("{table}");
    print_spread_note(&summary);
    println!("report: {}", out.display());
    Ok(Outcome::Success)
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Warns when the losses' mean Dice differ by less than the seed-to-seed spread.
fn print_spread_note(summary: &[Summary]) {
    let means: Vec<f64> = summary.iter().map(|s| s.dice.mean).collect();
    let gap = means.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - means.iter().copied().fold(f64::INFINITY, f64::min);
    let sd = summary.iter().map(|s| s.dice.sd).fold(0.0, f64::max);
    if summary.first().is_some_and(|s| s.seeds == 1) {
        println!(
            "(one seed: differences under ~0.02 Dice may be noise; rerun with --seeds 3 for the spread)"
        );
    } else if gap < 2.0 * sd {
        println!(
            "(the Dice range across losses, {gap:.3}, is under twice the largest seed sd, {sd:.3}: treat the ranking as uncertain)"
        );
    }
}

/// Saves each run's weights (burnpack) and `weights/model.json`; returns the relative paths.
fn save_weights(out: &Path, model: &UNetConfig, runs: &[RunOutput]) -> Result<Vec<Option<String>>> {
    report::write_json(&out.join("weights").join("model.json"), model)?;
    runs.iter()
        .map(|r| {
            let rel = format!(
                "weights/{}-seed{}.bpk",
                report::slug(&r.loss.to_string()),
                r.seed
            );
            let path = out.join(&rel);
            r.model
                .clone()
                .save_file(&path)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            Ok(Some(rel))
        })
        .collect()
}

/// `curves.png`: training loss (relative to step 1, smoothed) and validation Dice per step,
/// each the mean over seeds.
fn write_curves(out: &Path, runs: &[RunOutput], losses: &[LossSpec]) -> Result<()> {
    let mut train_series = Vec::new();
    let mut val_series = Vec::new();
    let mut y_max: f64 = 1.0;
    for loss in losses {
        let rs: Vec<&RunOutput> = runs.iter().filter(|r| &r.loss == loss).collect();
        let Some(first) = rs.first() else { continue };
        let n = rs.len() as f64;
        let rel: Vec<(f64, f64)> = (0..first.losses.len())
            .map(|i| {
                let v = rs
                    .iter()
                    .map(|r| r.losses[i].loss / r.losses[0].loss.max(1e-12))
                    .sum::<f64>()
                    / n;
                (first.losses[i].step as f64, v)
            })
            .collect();
        let smooth = plots::smooth(&rel, 4);
        y_max = smooth.iter().map(|p| p.1).fold(y_max, f64::max);
        train_series.push(Series {
            label: loss.to_string(),
            points: smooth,
        });
        let dice: Vec<(f64, f64)> = (0..first.checkpoints.len())
            .map(|i| {
                let v = rs.iter().map(|r| r.checkpoints[i].scores.dice).sum::<f64>() / n;
                (first.checkpoints[i].step as f64, v)
            })
            .collect();
        val_series.push(Series {
            label: loss.to_string(),
            points: dice,
        });
    }
    let steps = runs.first().map_or(1, |r| r.losses.len()) as f64;
    plots::two_charts(
        &out.join("curves.png"),
        (
            &Chart {
                title: "training loss / loss at step 1",
                x_label: "step",
                y_label: "relative loss",
                x: 1.0..steps,
                y: 0.0..y_max * 1.05,
            },
            &train_series,
        ),
        (
            &Chart {
                title: "validation Dice",
                x_label: "step",
                y_label: "Dice (F1)",
                x: 0.0..steps,
                y: 0.0..1.0,
            },
            &val_series,
        ),
        (1200, 480),
    )
}

/// `predictions-<loss>.png` for the first seed of each loss.
fn write_panels(
    out: &Path,
    runs: &[RunOutput],
    val: &dataset::TileSet,
    threshold: f32,
) -> Result<()> {
    let mut done: Vec<String> = Vec::new();
    for r in runs {
        let name = r.loss.to_string();
        if done.contains(&name) {
            continue;
        }
        let rows: Vec<PanelRow<'_>> = r
            .probabilities
            .iter()
            .zip(&val.tiles)
            .map(|(p, t)| PanelRow {
                image: &t.image,
                truth: &t.mask,
                probability: p,
            })
            .collect();
        let s = r.scores();
        plots::prediction_panel(
            &out.join(format!("predictions-{}.png", report::slug(&name))),
            &format!(
                "{name} (seed {}): Dice {:.3}, object F1 {:.3}",
                r.seed, s.dice, s.object_f1
            ),
            &rows,
            val.height,
            val.width,
            threshold,
        )?;
        done.push(name);
    }
    Ok(())
}
