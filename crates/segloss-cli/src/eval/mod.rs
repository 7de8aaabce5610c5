//! `segloss eval`: score folders of predicted masks against ground truth.
//!
//! The flow is ripgrep's: raw arguments ([`args`]) are validated into a [`plan::Plan`]
//! (usage errors exit with 2), files are paired ([`pairing`]), each pair is decoded
//! ([`decode`]), turned into labels ([`labels`]) and counted by the metrics engine
//! ([`count`]), optionally with objects ([`objects`]) and an overlay picture ([`overlay`]).
//! Results form a mergeable [`state::RunState`] from which the [`report`] and the
//! [`per_image`] CSV are rendered. A bad pair is reported and counted; the run goes on.

pub mod args;
pub mod count;
pub mod decode;
pub mod labels;
pub mod objects;
pub mod output;
pub mod overlay;
pub mod pairing;
pub mod per_image;
pub mod plan;
pub mod report;
pub mod run;
pub mod shard;
pub mod state;

use crate::Outcome;

/// Runs `segloss eval`.
///
/// # Errors
/// A usage error (see [`plan`]) or a failure that stops the whole run (see [`run::run`]).
pub fn run(args: args::EvalArgs) -> anyhow::Result<Outcome> {
    let plan = args.into_plan()?;
    run::run(&plan)
}
