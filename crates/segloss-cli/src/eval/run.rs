//! Running a plan: pair, score every pair in parallel, report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::args::Progress;
use super::count::count;
use super::decode::{Raster, decode_file};
use super::labels::{Encoding, Side};
use super::objects::count_objects;
use super::output::{Overwrite, write_file};
use super::overlay;
use super::pairing::{Pair, pair};
use super::per_image;
use super::plan::{Plan, RunMode, Unmatched};
use super::report::Report;
use super::state::{Failure, ImageRecord, RunState, Settings, Unpaired};
use crate::Outcome;
use crate::usage_bail;

/// How many names of unmatched files are printed on stderr (all are in the JSON report).
const LIST_LIMIT: usize = 10;

/// Runs `plan` to the end, reporting bad pairs as it goes.
///
/// # Errors
/// Input folders cannot be listed, `--strict` with unmatched files, no pair at all, or an
/// output cannot be written. A bad pair is not an error: it is reported, counted, and makes
/// the outcome [`Outcome::PartialFailure`].
pub fn run(plan: &Plan) -> Result<Outcome> {
    let pairing = pair(
        &plan.pred_root,
        &plan.pred_suffix,
        &plan.truth_root,
        &plan.truth_suffix,
    )?;
    let unpaired = Unpaired {
        pred: pairing.unmatched_pred,
        truth: pairing.unmatched_truth,
        ambiguous: pairing.ambiguous,
    };
    warn_unpaired(&unpaired);
    let unmatched = unpaired.pred.len() + unpaired.truth.len() + unpaired.ambiguous.len();
    if plan.unmatched == Unmatched::Fail && unmatched > 0 {
        bail!("--strict: {unmatched} file name(s) without a unique partner; nothing was scored");
    }
    let pairs_total = pairing.pairs.len() as u64;
    if pairs_total == 0 {
        bail!(
            "no pairs found: no file under {} has a partner under {} (check the folders and \
             --pred-suffix/--truth-suffix)",
            plan.pred_root.display(),
            plan.truth_root.display()
        );
    }
    let selected: Vec<Pair> = pairing
        .pairs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| plan.shard.contains(*i))
        .map(|(_, p)| p)
        .collect();
    if let Some(dir) = &plan.overlays
        && plan.overwrite == Overwrite::Refuse
    {
        let existing: Vec<PathBuf> = selected
            .iter()
            .map(|p| overlay_path(dir, &p.key))
            .filter(|p| p.exists())
            .collect();
        if let Some(first) = existing.first() {
            usage_bail!(
                "--overlays: {} overlay file(s) already exist, e.g. {}; not overwritten (use --force)",
                existing.len(),
                first.display()
            );
        }
    }

    let bar = progress_bar(plan.progress, selected.len() as u64);
    let started = Instant::now();
    let work = || {
        selected
            .par_iter()
            .map(|p| {
                let r = score_pair(p, plan);
                if let Err(e) = &r {
                    bar.suspend(|| eprintln!("error: {}: {e:#}", p.key));
                }
                bar.inc(1);
                r.map_err(|e| Failure {
                    key: p.key.clone(),
                    error: format!("{e:#}"),
                })
            })
            .collect::<Vec<_>>()
    };
    let results = match plan.jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .context("cannot start worker threads")?
            .install(work),
        None => work(),
    };
    bar.finish_and_clear();
    let elapsed = started.elapsed();

    let mut images = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(Scored::Image(img)) => images.push(img),
            Ok(Scored::Decoded(_)) => {}
            Err(f) => failures.push(f),
        }
    }

    if plan.mode == RunMode::DecodeOnly {
        let pixels: u64 = selected.iter().len().saturating_sub(failures.len()) as u64;
        println!(
            "decode-only: {} pair(s) decoded ({} failed) in {:.3} s",
            pixels,
            failures.len(),
            elapsed.as_secs_f64()
        );
        return Ok(outcome(&failures, &unpaired));
    }

    let settings = Settings::new(&plan.rule, plan.objects);
    let state = RunState::new(
        settings,
        plan.shard,
        pairs_total,
        images,
        failures,
        unpaired,
    );
    if !state.failures.is_empty() {
        eprintln!(
            "{} of {} pair(s) failed (listed above and in the JSON report)",
            state.failures.len(),
            selected.len()
        );
    }
    if let Some(path) = &plan.save_state {
        write_file(path, plan.overwrite, |w| {
            serde_json::to_writer(&mut *w, &state)?;
            Ok(w.write_all(b"\n")?)
        })?;
    }
    emit(
        &state,
        plan.format,
        plan.out.as_deref(),
        plan.per_image.as_deref(),
        plan.overwrite,
    )?;
    Ok(outcome(&state.failures, &state.unpaired))
}

/// Renders the report and per-image CSV of `state` to their destinations.
///
/// # Errors
/// The engine rejects the state or a file cannot be written.
pub fn emit(
    state: &RunState,
    format: super::args::Format,
    out: Option<&Path>,
    per_image_path: Option<&Path>,
    overwrite: Overwrite,
) -> Result<()> {
    let report = Report::build(state)?;
    if let Some(path) = per_image_path {
        write_file(path, overwrite, |w| per_image::write(state, w))?;
    }
    match out {
        Some(path) => write_file(path, overwrite, |w| report.write(format, w))?,
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            report.write(format, &mut lock)?;
            lock.flush()?;
        }
    }
    Ok(())
}

/// The outcome implied by failed pairs and ambiguous names.
pub fn outcome(failures: &[Failure], unpaired: &Unpaired) -> Outcome {
    if failures.is_empty() && unpaired.ambiguous.is_empty() {
        Outcome::Success
    } else {
        Outcome::PartialFailure
    }
}

enum Scored {
    Image(ImageRecord),
    Decoded(u64),
}

fn score_pair(p: &Pair, plan: &Plan) -> Result<Scored> {
    let pred = decode_file(&p.pred, &plan.limits)?;
    let truth = decode_file(&p.truth, &plan.limits)?;
    if (pred.width, pred.height) != (truth.width, truth.height) {
        bail!(
            "sizes differ: prediction {} is {}x{}, truth {} is {}x{}",
            p.pred.display(),
            pred.width,
            pred.height,
            p.truth.display(),
            truth.width,
            truth.height
        );
    }
    if plan.mode == RunMode::DecodeOnly {
        return Ok(Scored::Decoded(
            u64::from(pred.width) * u64::from(pred.height),
        ));
    }
    let (width, height) = (truth.width, truth.height);
    let truth_l = labels(plan, truth, Side::Truth, &p.truth)?;
    let pred_l = labels(plan, pred, Side::Pred, &p.pred)?;
    let classes = match plan.rule.encoding {
        Encoding::Classes(k) => Some(k),
        _ => None,
    };
    let counts = count(&truth_l, &pred_l, classes)?;
    let objects = plan.objects.as_ref().map(|rule| {
        count_objects(
            &truth_l,
            &pred_l,
            width as usize,
            truth_l.ignore_label(),
            rule,
        )
    });
    if let Some(dir) = &plan.overlays {
        let path = overlay_path(dir, &p.key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let rgb = overlay::render(&truth_l, &pred_l);
        write_file(&path, plan.overwrite, |w| {
            overlay::write_png(w, width, height, &rgb)
        })?;
    }
    Ok(Scored::Image(ImageRecord {
        key: p.key.clone(),
        width,
        height,
        ignored: counts.ignored,
        counts: counts.counts,
        objects,
    }))
}

fn labels(plan: &Plan, raster: Raster, side: Side, path: &Path) -> Result<super::labels::Labels> {
    plan.rule
        .to_labels(raster, side)
        .with_context(|| format!("in {}", path.display()))
}

fn overlay_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.png"))
}

fn progress_bar(policy: Progress, len: u64) -> ProgressBar {
    if policy == Progress::Never || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} pairs  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn warn_unpaired(u: &Unpaired) {
    let list = |names: &[String]| {
        let mut s = names
            .iter()
            .take(LIST_LIMIT)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > LIST_LIMIT {
            s.push_str(&format!(", ... ({} more)", names.len() - LIST_LIMIT));
        }
        s
    };
    if !u.pred.is_empty() {
        eprintln!(
            "warning: {} prediction file(s) without truth: {}",
            u.pred.len(),
            list(&u.pred)
        );
    }
    if !u.truth.is_empty() {
        eprintln!(
            "warning: {} truth file(s) without prediction: {}",
            u.truth.len(),
            list(&u.truth)
        );
    }
    for (key, files) in &u.ambiguous {
        eprintln!(
            "error: {key}: several files claim this name ({}); not scored",
            files.join(", ")
        );
    }
}
