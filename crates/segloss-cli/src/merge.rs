//! `segloss merge`: combine the states of a sharded `eval` run into its report.
//!
//! Every shard `i/n` of one run must be given exactly once; the merged report is identical to
//! the report a single unsharded run prints (the counts are integers and the image-wise mean
//! is taken over images in key order).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::Outcome;
use crate::eval::args::Format;
use crate::eval::output::{Overwrite, resolve};
use crate::eval::run::{emit, outcome};
use crate::eval::state::RunState;
use crate::usage_bail;

/// Combine `eval --save-state` files of all shards into one report.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Example:\n  for i in 0 1 2 3; do segloss eval --pred p/ --truth t/ --shard $i/4 --save-state s$i.json; done\n  segloss merge s*.json --format json --out report.json"
)]
pub struct MergeArgs {
    /// State files written by `segloss eval --save-state`, one per shard.
    #[arg(value_name = "STATE", required = true)]
    pub states: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write one CSV row per image (counts and scores), worst first.
    #[arg(long, value_name = "FILE")]
    pub per_image: Option<PathBuf>,
    /// Write the merged state to FILE.
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
}

/// Runs `segloss merge`.
///
/// # Errors
/// A usage error (an output that exists without `--force` or is one of the inputs), an
/// unreadable or invalid state file, or states that do not form one complete run.
pub fn run(args: MergeArgs) -> Result<Outcome> {
    let overwrite = if args.force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    let inputs = args
        .states
        .iter()
        .map(|p| resolve(p))
        .collect::<Result<Vec<_>>>()?;
    for (name, path) in [
        ("--out", &args.out),
        ("--per-image", &args.per_image),
        ("--save-state", &args.save_state),
    ] {
        if let Some(p) = path {
            let r = resolve(p)?;
            if inputs.contains(&r) {
                usage_bail!("{name} {}: is one of the input states", p.display());
            }
            if r.exists() && overwrite == Overwrite::Refuse {
                usage_bail!(
                    "{name} {}: already exists; not overwritten (use --force to replace it)",
                    p.display()
                );
            }
        }
    }
    let mut states = Vec::with_capacity(args.states.len());
    for path in &args.states {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let state: RunState = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a segloss state file", path.display()))?;
        state
            .check()
            .with_context(|| format!("invalid state file {}", path.display()))?;
        states.push((path.display().to_string(), state));
    }
    let merged = RunState::merge(states)?;
    if let Some(path) = &args.save_state {
        crate::eval::output::write_file(path, overwrite, |w| {
            serde_json::to_writer(&mut *w, &merged)?;
            Ok(w.write_all(b"\n")?)
        })?;
    }
    emit(
        &merged,
        args.format,
        args.out.as_deref(),
        args.per_image.as_deref(),
        overwrite,
    )?;
    Ok(outcome(&merged.failures, &merged.unpaired))
}
