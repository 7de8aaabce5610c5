//! Kernels that turn scores (probabilities or logits) into predictions while counting.

use super::Tally;
use super::labels::{class_below, is_ignored, label_error};
use crate::error::{Error, Result};
use crate::label::Label;
use crate::metrics::{Counts, Real};

/// What a binary score is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScoreKind {
    /// A probability in `[0, 1]`; positive iff `p ≥ threshold`.
    Probability,
    /// A logit; positive iff `σ(x) ≥ threshold`, tested as `x ≥ ln(t / (1 − t))`.
    Logit,
}

impl ScoreKind {
    pub(crate) fn input(self) -> &'static str {
        match self {
            ScoreKind::Probability => "probs",
            ScoreKind::Logit => "logits",
        }
    }
}

/// First invalid score: non-finite, or (probabilities) outside `[0, 1]`. `base` is added to
/// reported indices.
fn check_scores<R: Real>(
    op: &'static str,
    scores: &[R],
    kind: ScoreKind,
    base: usize,
) -> Result<()> {
    let bad = match kind {
        ScoreKind::Logit => scores.iter().fold(false, |b, v| b | !v.is_finite_value()),
        ScoreKind::Probability => scores.iter().fold(false, |b, v| {
            let x = v.to_f64();
            b | !(0.0..=1.0).contains(&x)
        }),
    };
    if !bad {
        return Ok(());
    }
    for (i, v) in scores.iter().enumerate() {
        let x = v.to_f64();
        if !x.is_finite() {
            return Err(Error::NonFinite {
                op,
                input: kind.input(),
                index: base + i,
                value: x,
            });
        }
        if kind == ScoreKind::Probability && !(0.0..=1.0).contains(&x) {
            return Err(Error::OutOfRange {
                op,
                input: "probs",
                index: base + i,
                value: x,
                min: 0.0,
                max: 1.0,
            });
        }
    }
    Ok(())
}

/// Binary counts of `truth` (0, 1 or ignore) against thresholded `scores`. Every score is
/// checked, including those at ignored pixels. `base` offsets reported indices.
#[allow(clippy::too_many_arguments)]
pub(crate) fn binary_scores<T: Label, R: Real>(
    op: &'static str,
    truth: &[T],
    scores: &[R],
    kind: ScoreKind,
    threshold: f64,
    ignore: Option<i64>,
    base: usize,
) -> Result<Tally> {
    debug_assert_eq!(truth.len(), scores.len());
    check_scores(op, scores, kind, base)?;
    // Compare in the scores' own precision, as PyTorch does with `probs >= 0.7`: an `f32`
    // probability written as 0.7 is then positive at threshold 0.7.
    let cut = R::from_f64(match kind {
        ScoreKind::Probability => threshold,
        ScoreKind::Logit => (threshold / (1.0 - threshold)).ln(),
    });
    let (mut tp, mut st, mut sp, mut ignored) = (0u64, 0u64, 0u64, 0u64);
    for (i, (&t, &s)) in truth.iter().zip(scores).enumerate() {
        if is_ignored(t, ignore) {
            ignored += 1;
            continue;
        }
        let tc =
            class_below(t, 2).ok_or_else(|| label_error(op, "truth", base + i, t, 2, ignore))?;
        let pc = (s >= cut) as u64;
        tp += tc & pc;
        st += tc;
        sp += pc;
    }
    let n = truth.len() as u64 - ignored;
    Ok(Tally {
        counts: Counts::new(tp, sp - tp, st - tp, n + tp - st - sp),
        ignored,
    })
}

/// Adds the `C × C` matrix of one image's `truth` (`S` labels) against the argmax over the
/// channel axis of its `scores` (`C × S`, channel-major) to `out`; returns the ignored count.
/// Ties go to the lowest channel. `truth_base` and `score_base` offset reported indices.
#[allow(clippy::too_many_arguments)]
pub(crate) fn argmax_matrix<T: Label, R: Real>(
    op: &'static str,
    truth: &[T],
    scores: &[R],
    classes: usize,
    ignore: Option<i64>,
    truth_base: usize,
    score_base: usize,
    out: &mut [u64],
) -> Result<u64> {
    let s_len = truth.len();
    debug_assert_eq!(scores.len(), classes * s_len);
    check_scores(op, scores, ScoreKind::Logit, score_base)?;
    let k = classes as u64;
    let mut ignored = 0u64;
    const TILE: usize = 1024;
    let mut best = [0f64; TILE];
    let mut arg = [0u32; TILE];
    for start in (0..s_len).step_by(TILE) {
        let end = (start + TILE).min(s_len);
        let w = end - start;
        for (b, v) in best[..w].iter_mut().zip(&scores[start..end]) {
            *b = v.to_f64();
        }
        arg[..w].fill(0);
        for c in 1..classes {
            let row = &scores[c * s_len + start..c * s_len + end];
            for ((b, a), v) in best[..w].iter_mut().zip(&mut arg[..w]).zip(row) {
                let x = v.to_f64();
                let gt = x > *b;
                *b = if gt { x } else { *b };
                *a = if gt { c as u32 } else { *a };
            }
        }
        for (j, &t) in truth[start..end].iter().enumerate() {
            if is_ignored(t, ignore) {
                ignored += 1;
                continue;
            }
            let i = start + j;
            let tc = class_below(t, k)
                .ok_or_else(|| label_error(op, "truth", truth_base + i, t, classes, ignore))?;
            out[(tc * k) as usize + arg[j] as usize] += 1;
        }
    }
    Ok(ignored)
}
