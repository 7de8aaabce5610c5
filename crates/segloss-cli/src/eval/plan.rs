//! Validating the command line into a run plan.
//!
//! Every check that needs no input file happens here, before anything is read or written;
//! a failure is a usage error (exit code 2).

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::args::{EvalArgs, Format, Progress};
use super::decode::DecodeLimits;
use super::labels::{Encoding, LabelRule};
use super::objects::ObjectRule;
use super::output::{Overwrite, resolve};
use super::shard::Shard;
use crate::usage_bail;

/// What to do with files that have no partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    /// List them and go on (default).
    List,
    /// List them and fail before scoring anything (`--strict`).
    Fail,
}

/// What the run does with each pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Decode, count and report.
    Evaluate,
    /// Decode only and report the time taken (a timing baseline; writes nothing).
    DecodeOnly,
}

/// A validated `eval` run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Prediction folder, resolved.
    pub pred_root: PathBuf,
    /// Truth folder, resolved.
    pub truth_root: PathBuf,
    /// Stem suffix of prediction files.
    pub pred_suffix: String,
    /// Stem suffix of truth files.
    pub truth_suffix: String,
    /// How samples become labels.
    pub rule: LabelRule,
    /// Policy for unpaired files.
    pub unmatched: Unmatched,
    /// Report format.
    pub format: Format,
    /// Report file; stdout when `None`.
    pub out: Option<PathBuf>,
    /// Per-image CSV file.
    pub per_image: Option<PathBuf>,
    /// Object-level settings, with `--objects`.
    pub objects: Option<ObjectRule>,
    /// Overlay folder.
    pub overlays: Option<PathBuf>,
    /// The slice of pairs to evaluate.
    pub shard: Shard,
    /// State file.
    pub save_state: Option<PathBuf>,
    /// Worker threads; `None` for one per CPU.
    pub jobs: Option<usize>,
    /// Decoding limits.
    pub limits: DecodeLimits,
    /// Whether outputs may replace existing files.
    pub overwrite: Overwrite,
    /// Progress bar policy.
    pub progress: Progress,
    /// Evaluate or only decode.
    pub mode: RunMode,
}

impl EvalArgs {
    /// Checks the arguments and builds the plan.
    ///
    /// # Errors
    /// A [`crate::usage::UsageError`] naming the offending option.
    pub fn into_plan(self) -> Result<Plan> {
        let pred_root = input_dir(&self.pred, "--pred")?;
        let truth_root = input_dir(&self.truth, "--truth")?;

        if let Some(k) = self.classes
            && !(2..=65535).contains(&k)
        {
            usage_bail!("--classes {k}: expected between 2 and 65535");
        }
        let encoding = match (self.threshold, self.classes) {
            (Some(t), _) if !(0.0..=1.0).contains(&t) => {
                usage_bail!("--threshold {t}: expected a number in [0, 1]")
            }
            (Some(t), None | Some(2)) => Encoding::Threshold(t),
            (Some(_), Some(k)) => {
                usage_bail!(
                    "--threshold makes binary masks; it cannot be combined with --classes {k}"
                )
            }
            (None, Some(k)) => Encoding::Classes(k),
            (None, None) => Encoding::Binary,
        };
        if let Some(v) = self.ignore
            && v > 65535
        {
            usage_bail!("--ignore {v}: expected a mask value between 0 and 65535");
        }
        let rule = LabelRule {
            encoding,
            ignore: self.ignore,
        };
        let classes = encoding.classes();

        let objects = if self.objects {
            let iou_threshold = self.object_iou.unwrap_or(0.5);
            if !(iou_threshold > 0.0 && iou_threshold <= 1.0) {
                usage_bail!("--object-iou {iou_threshold}: expected a number in (0, 1]");
            }
            let class = self.object_class.unwrap_or(1);
            if class >= classes {
                usage_bail!("--object-class {class}: expected a class index below {classes}");
            }
            Some(ObjectRule {
                class,
                iou_threshold,
                min_area: self.min_area.unwrap_or(0),
            })
        } else {
            for (set, name) in [
                (self.object_iou.is_some(), "--object-iou"),
                (self.min_area.is_some(), "--min-area"),
                (self.object_class.is_some(), "--object-class"),
            ] {
                if set {
                    usage_bail!("{name} needs --objects");
                }
            }
            None
        };

        let shard = match &self.shard {
            Some(s) => match s.parse::<Shard>() {
                Ok(shard) => shard,
                Err(msg) => usage_bail!("{msg}"),
            },
            None => Shard::WHOLE,
        };
        if self.jobs == Some(0) {
            usage_bail!("--jobs 0: expected at least 1");
        }
        if self.max_pixels == 0 {
            usage_bail!("--max-pixels 0: expected at least 1");
        }

        let mode = if self.decode_only {
            if self.out.is_some()
                || self.per_image.is_some()
                || self.overlays.is_some()
                || self.save_state.is_some()
            {
                usage_bail!(
                    "--decode-only is a timing mode and writes nothing; drop the output options"
                );
            }
            RunMode::DecodeOnly
        } else {
            RunMode::Evaluate
        };

        let overwrite = if self.force {
            Overwrite::Allow
        } else {
            Overwrite::Refuse
        };
        let inputs = [&pred_root, &truth_root];
        let mut files: Vec<(&'static str, PathBuf)> = Vec::new();
        for (name, path) in [
            ("--out", &self.out),
            ("--per-image", &self.per_image),
            ("--save-state", &self.save_state),
        ] {
            if let Some(p) = path {
                output_file(p, name, &inputs, overwrite)?;
                let r = resolve(p)?;
                if let Some((other, _)) = files.iter().find(|(_, q)| *q == r) {
                    usage_bail!("{name} and {other} name the same file {}", p.display());
                }
                files.push((name, r));
            }
        }
        if let Some(dir) = &self.overlays {
            let r = resolve(dir)?;
            for root in inputs {
                if r.starts_with(root) || root.starts_with(&r) {
                    usage_bail!(
                        "--overlays {}: overlaps the input folder {}; outputs never go into input folders",
                        dir.display(),
                        root.display()
                    );
                }
            }
            if r.exists() && !r.is_dir() {
                usage_bail!("--overlays {}: exists and is not a folder", dir.display());
            }
        }

        Ok(Plan {
            pred_root,
            truth_root,
            pred_suffix: self.pred_suffix,
            truth_suffix: self.truth_suffix,
            rule,
            unmatched: if self.strict {
                Unmatched::Fail
            } else {
                Unmatched::List
            },
            format: self.format,
            out: self.out,
            per_image: self.per_image,
            objects,
            overlays: self.overlays,
            shard,
            save_state: self.save_state,
            jobs: self.jobs,
            limits: DecodeLimits {
                max_pixels: self.max_pixels,
            },
            overwrite,
            progress: self.progress,
            mode,
        })
    }
}

fn input_dir(path: &Path, name: &str) -> Result<PathBuf> {
    if !path.is_dir() {
        usage_bail!("{name} {}: not a folder", path.display());
    }
    resolve(path)
}

fn output_file(path: &Path, name: &str, inputs: &[&PathBuf], overwrite: Overwrite) -> Result<()> {
    let r = resolve(path)?;
    for root in inputs {
        if r.starts_with(root) {
            usage_bail!(
                "{name} {}: inside the input folder {}; outputs never go into input folders",
                path.display(),
                root.display()
            );
        }
    }
    if r.is_dir() {
        usage_bail!(
            "{name} {}: is a folder, expected a file name",
            path.display()
        );
    }
    if r.exists() && overwrite == Overwrite::Refuse {
        usage_bail!(
            "{name} {}: already exists; not overwritten (use --force to replace it)",
            path.display()
        );
    }
    match r.parent() {
        Some(parent) if parent.is_dir() => Ok(()),
        _ => usage_bail!("{name} {}: its folder does not exist", path.display()),
    }
}
