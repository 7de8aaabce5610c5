//! `segloss`: score predicted segmentation masks, train with Dice/focal losses, time the kernels.
//!
//! `main` is thin: it parses the arguments, runs the subcommand and maps the outcome to a
//! documented exit code.
//!
//! Exit codes: `0` success; `1` the command ran but some inputs failed (each is reported);
//! `2` usage error (bad arguments, nothing was done).

mod bench;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::PartialFailure) => ExitCode::from(1),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
