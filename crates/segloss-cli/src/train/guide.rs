//! `segloss plot-guide` (hidden): draws the figures of `docs/choosing-a-loss.md`.
//!
//! - `focal-loss.png`: focal loss `−(1 − p_t)^γ · log p_t` against `p_t` for several `γ`,
//!   as in Fig. 1 of Lin et al. (2017). `γ = 0` is cross-entropy.
//! - `dice-gradient.png`: the soft-Dice gradient against the prediction, on a 64×64 tile with
//!   205 foreground pixels (5 %) whose background is predicted at 0.05 and whose foreground
//!   pixels are all predicted at `p`. Left: `∂L/∂p` of one foreground and one background
//!   pixel. Right: the gradient reaching the logit of one foreground pixel, for BCE, focal
//!   and Dice, each multiplied by the pixel count so that BCE's mean-reduced gradient reads as
//!   its per-pixel value `p − 1`.
//!
//! The gradients come from segloss's own loss kernels (`segloss::loss`, default settings:
//! Dice with smoothing 1e-5, per image; BCE and focal mean-reduced), run on the figure's
//! tile; the focal curves are the closed form, checked against the kernel in the tests.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use segloss::Shape;
use segloss::loss::{BceConfig, DiceConfig, FocalAlpha, FocalConfig, Loss, Targets};

use crate::Outcome;

use super::plots::{self, Chart, Series};

/// Arguments of `segloss plot-guide`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlotGuideArgs {
    /// Folder to write the PNGs into (created if missing).
    #[arg(long, default_value = "docs/img")]
    pub out: PathBuf,
    /// Replace existing files of the same names.
    #[arg(long)]
    pub force: bool,
}

/// Pixels of the tile in the Dice-gradient figure (64×64).
const PIXELS: usize = 4096;
/// Foreground pixels in it (5 %).
const FOREGROUND: usize = 205;
/// Prediction on every background pixel.
const BACKGROUND_P: f64 = 0.05;

/// Focal loss of a pixel whose true class has probability `pt` (no α).
pub fn focal(pt: f64, gamma: f64) -> f64 {
    -(1.0 - pt).powf(gamma) * pt.ln()
}

fn logit(p: f64) -> f32 {
    (p / (1.0 - p)).ln() as f32
}

/// `∂loss/∂logit` over the figure's tile (foreground pixels first, all predicted at `p`),
/// computed by `loss`'s kernel.
fn tile_gradient(loss: &dyn Loss, p: f64) -> Result<Vec<f32>> {
    let logits: Vec<f32> = (0..PIXELS)
        .map(|i| logit(if i < FOREGROUND { p } else { BACKGROUND_P }))
        .collect();
    let targets: Vec<f32> = (0..PIXELS)
        .map(|i| if i < FOREGROUND { 1.0 } else { 0.0 })
        .collect();
    let shape = Shape::new(&[1, 1, PIXELS])?;
    let mut grad = vec![0.0f32; PIXELS];
    loss.forward(&logits, Targets::Dense(&targets), &shape, Some(&mut grad))?;
    Ok(grad)
}

/// The three losses of the figure: BCE, focal (α 0.25, γ 2), Dice (segloss defaults).
fn figure_losses() -> Result<[Box<dyn Loss>; 3]> {
    Ok([
        Box::new(BceConfig::new().init()?),
        Box::new(
            FocalConfig::new()
                .with_gamma(2.0)
                .with_alpha(FocalAlpha::Balanced(0.25))
                .init()?,
        ),
        Box::new(DiceConfig::new().init()?),
    ])
}

/// `∂L_dice/∂p` of one foreground and one background pixel when every foreground pixel is
/// predicted at `p` (the figure's tile): the kernel's logit gradient divided by `σ'(x)`.
fn dice_grad_p(dice: &dyn Loss, p: f64) -> Result<(f64, f64)> {
    let g = tile_gradient(dice, p)?;
    Ok((
        f64::from(g[0]) / (p * (1.0 - p)),
        f64::from(g[PIXELS - 1]) / (BACKGROUND_P * (1.0 - BACKGROUND_P)),
    ))
}

/// `|∂L/∂logit|` of one foreground pixel times the pixel count, for each loss.
fn logit_grads(losses: &[Box<dyn Loss>; 3], p: f64) -> Result<[f64; 3]> {
    let mut out = [0.0; 3];
    for (o, l) in out.iter_mut().zip(losses) {
        *o = f64::from(tile_gradient(l.as_ref(), p)?[0]).abs() * PIXELS as f64;
    }
    Ok(out)
}

/// Runs `segloss plot-guide`.
///
/// # Errors
/// An output file exists (without `--force`) or cannot be written.
pub fn run(args: &PlotGuideArgs) -> Result<Outcome> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let focal_path = args.out.join("focal-loss.png");
    let dice_path = args.out.join("dice-gradient.png");
    for p in [&focal_path, &dice_path] {
        refuse_overwrite(p, args.force)?;
    }
    let xs: Vec<f64> = (1..=400).map(|i| f64::from(i) / 400.0).collect();
    let series: Vec<Series> = [0.0, 0.5, 1.0, 2.0, 5.0]
        .iter()
        .map(|&g| Series {
            label: format!("γ = {g}"),
            points: xs.iter().map(|&p| (p, focal(p, g))).collect(),
        })
        .collect();
    plots::line_chart(
        &focal_path,
        &Chart {
            title: "focal loss −(1 − p_t)^γ · log p_t",
            x_label: "probability of the true class p_t",
            y_label: "loss",
            x: 0.0..1.0,
            y: 0.0..5.0,
        },
        &series,
        (720, 480),
    )?;

    let ps: Vec<f64> = (1..100).map(|i| f64::from(i) / 100.0).collect();
    let losses = figure_losses()?;
    let dice_p = ps
        .iter()
        .map(|&p| dice_grad_p(losses[2].as_ref(), p))
        .collect::<Result<Vec<_>>>()?;
    let by_logit = ps
        .iter()
        .map(|&p| logit_grads(&losses, p))
        .collect::<Result<Vec<_>>>()?;
    let series = |label: &str, f: &dyn Fn(usize) -> f64| Series {
        label: label.into(),
        points: ps.iter().enumerate().map(|(i, &p)| (p, f(i))).collect(),
    };
    let left = [
        series("foreground pixel", &|i| dice_p[i].0),
        series("background pixel", &|i| dice_p[i].1),
    ];
    let right = [
        series("BCE", &|i| by_logit[i][0]),
        series("focal (α .25, γ 2)", &|i| by_logit[i][1]),
        series("Dice", &|i| by_logit[i][2]),
    ];
    let lo = left
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::min);
    let hi = left
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let top = right
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    plots::two_charts(
        &dice_path,
        (
            &Chart {
                title: "Dice loss: ∂L/∂p (5 % foreground)",
                x_label: "prediction p on the foreground",
                y_label: "∂L/∂p",
                x: 0.0..1.0,
                y: lo * 1.1..hi + 0.1 * (hi - lo),
            },
            &left,
        ),
        (
            &Chart {
                title: "|∂L/∂logit| × pixels, foreground pixel",
                x_label: "prediction p on the foreground",
                y_label: "gradient",
                x: 0.0..1.0,
                y: 0.0..top * 1.1,
            },
            &right,
        ),
        (1200, 480),
    )?;
    println!("wrote {} and {}", focal_path.display(), dice_path.display());
    Ok(Outcome::Success)
}

fn refuse_overwrite(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!("{} exists; pass --force to replace it", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focal_with_gamma_zero_is_cross_entropy() {
        assert!((focal(0.3, 0.0) + 0.3f64.ln()).abs() < 1e-15);
        // Well-classified (p_t = 0.9): γ = 2 shrinks the loss 100×.
        assert!((focal(0.9, 2.0) / focal(0.9, 0.0) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn focal_curve_matches_the_kernel() {
        for (pt, gamma) in [(0.3, 2.0f32), (0.8, 0.5), (0.6, 5.0)] {
            let f = FocalConfig::new()
                .with_gamma(gamma)
                .with_alpha(FocalAlpha::None)
                .init()
                .unwrap();
            let shape = Shape::new(&[1, 1, 1]).unwrap();
            let v = f
                .forward(&[logit(pt)], Targets::Dense(&[1.0]), &shape, None)
                .unwrap();
            let expected = focal(pt, f64::from(gamma));
            assert!(
                (v - expected).abs() < 1e-5 * expected.max(1.0),
                "{v} vs {expected}"
            );
        }
    }

    #[test]
    fn dice_gradient_has_the_expected_signs_and_size() {
        let losses = figure_losses().unwrap();
        // Closed form with segloss's default smoothing (1e-5), per image.
        let closed = |p: f64| {
            let (n, f, q, s) = (PIXELS as f64, FOREGROUND as f64, BACKGROUND_P, 1e-5);
            let d = f * p + (n - f) * q + f + s;
            let num = 2.0 * f * p + s;
            (-(2.0 * d - num) / (d * d), num / (d * d))
        };
        for p in [0.1, 0.5, 0.9] {
            let (fg, bg) = dice_grad_p(losses[2].as_ref(), p).unwrap();
            let (cf, cb) = closed(p);
            assert!(fg < 0.0 && bg > 0.0);
            assert!((fg - cf).abs() < 1e-3 * cf.abs(), "p {p}: {fg} vs {cf}");
            assert!((bg - cb).abs() < 1e-3 * cb.abs(), "p {p}: {bg} vs {cb}");
        }
        // BCE's mean-reduced gradient times the pixel count is 1 − p on a positive pixel.
        let g = logit_grads(&losses, 0.3).unwrap();
        assert!((g[0] - 0.7).abs() < 1e-4, "{}", g[0]);
    }
}
