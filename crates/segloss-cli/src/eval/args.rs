//! The `eval` command line, exactly as the user typed it (validated into a [`Plan`]).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::decode::DecodeLimits;

/// Score predicted masks against ground truth.
///
/// Files are paired by relative path and file stem (recursively); unmatched files are listed.
/// Exit codes: 0 every pair was scored; 1 some files failed (each is reported, the rest are
/// scored) or nothing could be scored; 2 usage error (nothing was read or written).
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Examples:\n  segloss eval --pred out/ --truth masks/\n  \
    segloss eval --pred probs/ --truth masks/ --threshold 0.5 --objects --format json --out report.json\n  \
    segloss eval --pred p/ --truth t/ --shard 3/16 --save-state shard-3.json   # then: segloss merge shard-*.json"
)]
pub struct EvalArgs {
    /// Folder of predicted masks (PNG or TIFF), searched recursively.
    #[arg(long, value_name = "DIR")]
    pub pred: PathBuf,
    /// Folder of ground-truth masks, searched recursively.
    #[arg(long, value_name = "DIR")]
    pub truth: PathBuf,
    /// Suffix of prediction file stems, removed before pairing (`tile_12_pred.png` -> `tile_12`).
    #[arg(long, value_name = "S", default_value = "")]
    pub pred_suffix: String,
    /// Suffix of truth file stems, removed before pairing (`tile_12_mask.png` -> `tile_12`).
    #[arg(long, value_name = "S", default_value = "")]
    pub truth_suffix: String,

    /// Read predictions as probability maps: positive where value/max >= T (floats: value >= T).
    #[arg(long, value_name = "T")]
    pub threshold: Option<f64>,
    /// Number of classes of multi-class index masks (default: binary masks, 0/1 or 0/255).
    #[arg(long, value_name = "K")]
    pub classes: Option<u32>,
    /// Truth value whose pixels are left out of every count (e.g. 255).
    #[arg(long, value_name = "V")]
    pub ignore: Option<u32>,
    /// Fail (exit 1, nothing scored) if any file has no partner.
    #[arg(long)]
    pub strict: bool,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write one CSV row per image (counts and scores), worst first.
    #[arg(long, value_name = "FILE")]
    pub per_image: Option<PathBuf>,
    /// Also score objects: 8-connected components matched one-to-one (SpaceNet convention).
    #[arg(long)]
    pub objects: bool,
    /// Smallest IoU for two objects to match, in (0, 1] (with --objects) [default: 0.5].
    #[arg(long, value_name = "F")]
    pub object_iou: Option<f64>,
    /// Drop objects smaller than N pixels, in both masks (with --objects) [default: 0].
    #[arg(long, value_name = "N")]
    pub min_area: Option<u64>,
    /// The class whose components are objects (with --objects) [default: 1].
    #[arg(long, value_name = "C")]
    pub object_class: Option<u32>,
    /// Write one overlay PNG per image into DIR (TP, FP, FN in distinct colours).
    #[arg(long, value_name = "DIR")]
    pub overlays: Option<PathBuf>,

    /// Evaluate only shard I of N (0-based), a deterministic slice of the sorted pairs.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Write the mergeable metric state to FILE (combine shards with `segloss merge`).
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<PathBuf>,
    /// Worker threads (default: one per CPU).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Refuse images declaring more pixels than this (decompression-bomb guard).
    #[arg(long, value_name = "N", default_value_t = DecodeLimits::DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// Progress bar on stderr: auto (only when stderr is a terminal) or never.
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,
    /// Timing mode: decode every pair and check sizes, count nothing, write nothing.
    #[arg(long, hide = true)]
    pub decode_only: bool,
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum Format {
    /// An aligned table for people.
    Table,
    /// The documented JSON schema (see docs/eval.md).
    Json,
    /// Comma-separated rows, one per class and average.
    Csv,
}

/// When to show a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    /// Only when stderr is a terminal.
    Auto,
    /// Never.
    Never,
}
