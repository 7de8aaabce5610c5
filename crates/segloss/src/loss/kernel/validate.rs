//! Input checks, run before anything is written so that an error leaves `grad` untouched.
//!
//! The checks are branch-free reductions over blocks (they vectorise); only when a block
//! fails is it rescanned to report the first bad position.

use crate::error::{Error, Result};
use crate::label::Label;
use multiversion::multiversion;

const BLOCK: usize = 1024;

#[inline(always)]
fn all_finite(x: &[f32]) -> bool {
    let mut ok = true;
    for &v in x {
        ok &= v.abs() <= f32::MAX;
    }
    ok
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
fn first_bad_finite(x: &[f32]) -> Option<usize> {
    for (b, chunk) in x.chunks(BLOCK).enumerate() {
        if !all_finite(chunk) {
            let i = chunk.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Some(b * BLOCK + i);
        }
    }
    None
}

#[inline(always)]
fn all_unit(x: &[f32]) -> bool {
    let mut ok = true;
    for &v in x {
        ok &= (0.0..=1.0).contains(&v);
    }
    ok
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
fn first_bad_unit(x: &[f32]) -> Option<usize> {
    for (b, chunk) in x.chunks(BLOCK).enumerate() {
        if !all_unit(chunk) {
            let i = chunk
                .iter()
                .position(|v| !(0.0..=1.0).contains(v))
                .unwrap_or(0);
            return Some(b * BLOCK + i);
        }
    }
    None
}

/// Checks that every logit is finite.
///
/// # Errors
/// [`Error::NonFinite`] naming the first NaN or infinite logit.
pub(crate) fn logits(op: &'static str, x: &[f32]) -> Result<()> {
    match first_bad_finite(x) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite {
            op,
            input: "logits",
            index,
            value: x[index] as f64,
        }),
    }
}

/// Checks that every dense target lies in `[0, 1]` (NaN fails).
///
/// # Errors
/// [`Error::OutOfRange`] naming the first bad target.
pub(crate) fn dense_targets(op: &'static str, t: &[f32]) -> Result<()> {
    match first_bad_unit(t) {
        None => Ok(()),
        Some(index) => Err(Error::OutOfRange {
            op,
            input: "targets",
            index,
            value: t[index] as f64,
            min: 0.0,
            max: 1.0,
        }),
    }
}

/// Whether every label of `labels` is below `classes` or equals `ignore` (branch-free).
#[inline(always)]
fn block_labels_ok<L: Label>(labels: &[L], classes: i64, ignore: i64) -> bool {
    let mut ok = true;
    for &l in labels {
        let v = l.to_i64();
        ok &= (v >= 0 && v < classes) | (v == ignore);
    }
    ok
}

/// Number of labels of `labels` that are not `ignore`.
#[inline(always)]
fn block_count<L: Label>(labels: &[L], ignore: i64) -> u64 {
    let mut n = 0u64;
    for &l in labels {
        n += (l.to_i64() != ignore) as u64;
    }
    n
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
fn scan_labels<L: Label>(labels: &[L], classes: i64, ignore: i64) -> Result<u64, usize> {
    let mut count = 0u64;
    for (b, chunk) in labels.chunks(BLOCK).enumerate() {
        if !block_labels_ok(chunk, classes, ignore) {
            let i = chunk
                .iter()
                .position(|&l| {
                    let v = l.to_i64();
                    !((v >= 0 && v < classes) || v == ignore)
                })
                .unwrap_or(0);
            return Err(b * BLOCK + i);
        }
        count += block_count(chunk, ignore);
    }
    Ok(count)
}

/// Checks class-index targets: every label is below `classes` or equals `ignore`.
/// Returns the number of counted (non-ignored) pixels and the sum of the class weights of
/// their labels (equal to the count without weights).
///
/// # Errors
/// [`Error::LabelOutOfRange`] naming the first label `≥ classes`, or [`Error::NegativeLabel`]
/// naming the first negative one (other than the ignore label).
pub(crate) fn labels<L: Label>(
    op: &'static str,
    labels: &[L],
    classes: usize,
    ignore: Option<i64>,
    weights: Option<&[f32]>,
) -> Result<(u64, f64)> {
    let ig = ignore.unwrap_or(i64::MIN);
    match scan_labels(labels, classes as i64, ig) {
        Err(index) => {
            let l = labels[index];
            // A negative label has no class index: report it signed, not wrapped to u64.
            Err(match l.to_class() {
                Some(value) => Error::LabelOutOfRange {
                    op,
                    input: "targets",
                    index,
                    value,
                    classes,
                    ignore_index: ignore.and_then(|i| u64::try_from(i).ok()),
                },
                None => Error::NegativeLabel {
                    op,
                    input: "targets",
                    index,
                    value: l.to_i64(),
                    classes,
                    ignore_index: ignore,
                },
            })
        }
        Ok(count) => {
            let wsum = match weights {
                None => count as f64,
                Some(w) => labels
                    .iter()
                    .filter(|l| l.to_i64() != ig)
                    .map(|l| w[l.to_i64() as usize] as f64)
                    .sum(),
            };
            Ok((count, wsum))
        }
    }
}
