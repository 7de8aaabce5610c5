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
//! The curves are the closed forms of the losses as the guide writes them (Dice with
//! `ε = 1` in numerator and denominator).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

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
const PIXELS: f64 = 4096.0;
/// Foreground pixels in it (5 %).
const FOREGROUND: f64 = 205.0;
/// Prediction on every background pixel.
const BACKGROUND_P: f64 = 0.05;
/// Dice smoothing term.
const EPS: f64 = 1.0;

/// Focal loss of a pixel whose true class has probability `pt` (no α).
pub fn focal(pt: f64, gamma: f64) -> f64 {
    -(1.0 - pt).powf(gamma) * pt.ln()
}

/// `∂L_dice/∂p` of one foreground and one background pixel when every foreground pixel is
/// predicted at `p` (the figure's tile).
pub fn dice_grad_p(p: f64) -> (f64, f64) {
    let i = FOREGROUND * p;
    let sum_p = FOREGROUND * p + (PIXELS - FOREGROUND) * BACKGROUND_P;
    let d = sum_p + FOREGROUND + EPS;
    let num = 2.0 * i + EPS;
    // L = 1 − num/d; ∂num/∂p_k = 2 t_k, ∂d/∂p_k = 1.
    let fg = -(2.0 * d - num) / (d * d);
    let bg = num / (d * d);
    (fg, bg)
}

/// Magnitude of the gradient reaching a foreground pixel's logit, times the pixel count:
/// (BCE, focal with α = 0.25 and γ = 2, Dice).
pub fn logit_grads(p: f64) -> (f64, f64, f64) {
    let bce = 1.0 - p;
    // d/dx of −α (1−p)^γ log p with dp/dx = p(1−p):
    // α (1−p)^γ [γ p log p − (1 − p)].
    let (alpha, gamma) = (0.25, 2.0);
    let focal = (alpha * (1.0 - p).powf(gamma) * (gamma * p * p.ln() - (1.0 - p))).abs();
    let dice = dice_grad_p(p).0.abs() * p * (1.0 - p) * PIXELS;
    (bce, focal, dice)
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
    let left = [
        Series {
            label: "foreground pixel".into(),
            points: ps.iter().map(|&p| (p, dice_grad_p(p).0)).collect(),
        },
        Series {
            label: "background pixel".into(),
            points: ps.iter().map(|&p| (p, dice_grad_p(p).1)).collect(),
        },
    ];
    let right = [
        Series {
            label: "BCE".into(),
            points: ps.iter().map(|&p| (p, logit_grads(p).0)).collect(),
        },
        Series {
            label: "focal (α .25, γ 2)".into(),
            points: ps.iter().map(|&p| (p, logit_grads(p).1)).collect(),
        },
        Series {
            label: "Dice".into(),
            points: ps.iter().map(|&p| (p, logit_grads(p).2)).collect(),
        },
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
    fn dice_gradient_matches_finite_differences() {
        // L(p) as a function of one foreground pixel's prediction, the others fixed at p.
        let loss = |p: f64, pk: f64| {
            let i = FOREGROUND * p - p + pk;
            let sum_p = FOREGROUND * p - p + pk + (PIXELS - FOREGROUND) * BACKGROUND_P;
            1.0 - (2.0 * i + EPS) / (sum_p + FOREGROUND + EPS)
        };
        for p in [0.1, 0.5, 0.9] {
            let h = 1e-6;
            let fd = (loss(p, p + h) - loss(p, p - h)) / (2.0 * h);
            assert!((fd - dice_grad_p(p).0).abs() < 1e-9, "p {p}: {fd}");
        }
    }
}
