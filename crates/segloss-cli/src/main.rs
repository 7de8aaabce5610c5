//! `segloss`: score predicted segmentation masks, train with Dice/focal losses, time the kernels.
//!
//! `main` is thin: it parses the arguments, runs the subcommand and maps the outcome to a
//! documented exit code.
//!
//! Exit codes: `0` success; `1` the command ran but some inputs failed (each is reported), or
//! an input or output failed so that nothing could be done; `2` usage error (bad arguments or
//! an invalid run plan, such as an output inside an input folder: nothing was read or written).

mod bench;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod eval;
mod merge;
mod predict;
mod train;
mod usage;

/// Segmentation losses and metrics for imbalanced data.
#[derive(Debug, Parser)]
#[command(name = "segloss", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Time forward plus backward of a fused loss kernel on seeded random inputs.
    Bench(bench::BenchArgs),
    /// Score predicted masks against ground-truth masks (PNG/TIFF folders).
    Eval(Box<eval::args::EvalArgs>),
    /// Combine the states saved by sharded `eval --save-state` runs into one report.
    Merge(merge::MergeArgs),
    /// Train a small U-Net with each loss on the same data and compare them (the demo).
    Train(train::TrainArgs),
    /// Run weights saved by `train` on images and write masks that `eval` can score.
    Predict(predict::PredictArgs),
    /// Draw the figures of docs/choosing-a-loss.md.
    #[command(hide = true)]
    PlotGuide(train::guide::PlotGuideArgs),
}

/// What a subcommand reports back to `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything succeeded.
    Success,
    /// The run completed, but some inputs failed (each was reported on stderr).
    PartialFailure,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<Outcome> = match cli.command {
        Command::Bench(args) => bench::run(&args),
        Command::Eval(args) => eval::run(*args),
        Command::Merge(args) => merge::run(args),
        Command::Train(args) => train::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::PlotGuide(args) => train::guide::run(&args),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::PartialFailure) => ExitCode::from(1),
        Err(err) if usage::is_usage_error(&err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
