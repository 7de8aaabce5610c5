//! `segloss predict`: run weights saved by `segloss train` on new images and write masks.
//!
//! Every PNG/TIFF under `--input` (recursively) gets a mask `--out/<same relative path>.png`:
//! 8-bit gray, 0 = background, 255 = foreground (`σ(logit) ≥ --threshold`), the format
//! `segloss eval` reads. `--probabilities` writes the probability (0–255) instead. Images of
//! any size are processed in windows of `--window` pixels, padded by edge replication to a
//! multiple of `2^depth`.
//!
//! A bad image is reported and skipped; the exit code is then 1. Existing output files are
//! never replaced without `--force`, and the output folder may not lie inside the input.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::Device;

use crate::Outcome;
use crate::train::dataset::{CHANNELS, normalize};
use crate::train::device::DeviceChoice;
use crate::train::evaluate::predict_probabilities;
use crate::train::folder::read_rgb;
use crate::train::model::{UNet, UNetConfig};

/// Arguments of `segloss predict`.
#[derive(Debug, Clone, clap::Args)]
pub struct PredictArgs {
    /// Weights written by `segloss train` (`<report>/weights/<loss>-seed<k>.bpk`).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// The model shape; default `model.json` beside the weights.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Folder of images (PNG/TIFF, searched recursively).
    #[arg(long, value_name = "DIR")]
    pub input: PathBuf,
    /// Folder for the masks (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Probability at or above which a pixel is foreground.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// Write probabilities (0–255) instead of 0/255 masks.
    #[arg(long)]
    pub probabilities: bool,
    /// Window side for large images (rounded up to a multiple of 2^depth).
    #[arg(long, default_value_t = 512)]
    pub window: usize,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Flex)]
    pub device: DeviceChoice,
}

/// Loads a trained model: shape from `model`, weights from `weights`, on `device`.
///
/// # Errors
/// A file is missing or does not match.
pub fn load_model(weights: &Path, model: &Path, device: &Device) -> Result<(UNet, UNetConfig)> {
    let text =
        std::fs::read_to_string(model).with_context(|| format!("reading {}", model.display()))?;
    let cfg: UNetConfig =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", model.display()))?;
    let net = cfg
        .init(device)
        .with_context(|| format!("model shape in {}", model.display()))?
        .try_load_file(weights)
        .map_err(|e| anyhow::anyhow!("loading {}: {e}", weights.display()))?;
    Ok((net, cfg))
}

/// Image files under `dir`, with their paths relative to it, sorted.
fn images(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let path = entry
                .with_context(|| format!("listing {}", d.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "tif" | "tiff"))
            {
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
                out.push((rel, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Probability map (`H×W`) of one image, computed window by window.
fn predict_image(
    net: &UNet,
    device: &Device,
    rgb: &crate::train::folder::Rgb,
    multiple: usize,
    window: usize,
) -> Vec<f32> {
    let (h, w) = (rgb.height, rgb.width);
    let win = window.max(multiple).div_ceil(multiple) * multiple;
    let mut probs = vec![0.0f32; h * w];
    let px = h * w;
    for y0 in (0..h).step_by(win) {
        for x0 in (0..w).step_by(win) {
            let wh = (h - y0).min(win).div_ceil(multiple) * multiple;
            let ww = (w - x0).min(win).div_ceil(multiple) * multiple;
            let mut x = Vec::with_capacity(CHANNELS * wh * ww);
            for c in 0..CHANNELS {
                for y in 0..wh {
                    // Edge replication beyond the image.
                    let sy = (y0 + y).min(h - 1);
                    for xx in 0..ww {
                        let sx = (x0 + xx).min(w - 1);
                        x.push(normalize(rgb.data[c * px + sy * w + sx]));
                    }
                }
            }
            let p = predict_probabilities(net, device, x, 1, wh, ww);
            for y in 0..(h - y0).min(win) {
                for xx in 0..(w - x0).min(win) {
                    probs[(y0 + y) * w + x0 + xx] = p[0][y * ww + xx];
                }
            }
        }
    }
    probs
}

/// Runs `segloss predict`.
///
/// # Errors
/// Bad options or an unusable model; a bad image is reported and skipped instead.
pub fn run(args: &PredictArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!(
            "threshold: expected a probability in [0, 1], found {}",
            args.threshold
        );
    }
    let input = args
        .input
        .canonicalize()
        .with_context(|| format!("opening input folder {}", args.input.display()))?;
    let out_abs = std::path::absolute(&args.out)
        .with_context(|| format!("resolving {}", args.out.display()))?;
    let input_abs = std::path::absolute(&args.input)
        .with_context(|| format!("resolving {}", args.input.display()))?;
    let out_real = out_abs.canonicalize().unwrap_or_else(|_| out_abs.clone());
    if out_abs.starts_with(&input_abs) || out_real.starts_with(&input) {
        bail!(
            "--out {} lies inside --input {}; masks are never written into the input",
            args.out.display(),
            args.input.display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let out = args
        .out
        .canonicalize()
        .with_context(|| format!("opening {}", args.out.display()))?;
    let model_path = match &args.model {
        Some(m) => m.clone(),
        None => args
            .weights
            .parent()
            .unwrap_or(Path::new("."))
            .join("model.json"),
    };
    let device = args.device.device()?.without_autodiff();
    let (net, cfg) = load_model(&args.weights, &model_path, &device)?;
    let net = net.valid();
    let files = images(&input)?;
    if files.is_empty() {
        bail!("{}: no PNG or TIFF images found", args.input.display());
    }
    let (mut ok, mut failed) = (0usize, 0usize);
    for (rel, path) in &files {
        let dest = out.join(rel).with_extension("png");
        let result = (|| -> Result<()> {
            if dest.exists() && !args.force {
                bail!("{} exists; pass --force to replace it", dest.display());
            }
            let rgb = read_rgb(path)?;
            let probs = predict_image(&net, &device, &rgb, cfg.multiple(), args.window);
            let bytes: Vec<u8> = probs
                .iter()
                .map(|&p| {
                    if args.probabilities {
                        (p.clamp(0.0, 1.0) * 255.0).round() as u8
                    } else if p >= args.threshold {
                        255
                    } else {
                        0
                    }
                })
                .collect();
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            image::GrayImage::from_raw(rgb.width as u32, rgb.height as u32, bytes)
                .context("internal: mask size")?
                .save(&dest)
                .with_context(|| format!("writing {}", dest.display()))
        })();
        match result {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                eprintln!("error: {}: {e:#}", path.display());
            }
        }
    }
    eprintln!(
        "predicted {ok} image(s) into {}; {failed} failed",
        args.out.display()
    );
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::PartialFailure
    })
}
