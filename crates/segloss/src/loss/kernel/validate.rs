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

/// Checks class-index targets: every label is below `classes` or equals `ignore`.
/// Returns the number of counted (non-ignored) pixels and the sum of the class weights of
/// their labels (equal to the count without weights).
///
/// # Errors
/// [`Error::LabelOutOfRange`] naming the first bad label.
pub(crate) fn labels<L: Label>(
    op: &'static str,
    labels: &[L],
    classes: usize,
    ignore: Option<i64>,
    weights: Option<&[f32]>,
) -> Result<(u64, f64)> {
    let ig = ignore.unwrap_or(i64::MIN);
    let mut count = 0u64;
    let mut wsum = 0f64;
    for (index, &l) in labels.iter().enumerate() {
        let v = l.to_i64();
        if v == ig {
            continue;
        }
        if v < 0 || v as u64 >= classes as u64 {
            return Err(Error::LabelOutOfRange {
                op,
                input: "targets",
                index,
                value: l.to_class().unwrap_or(v as u64),
                classes,
                ignore_index: ignore.map(|i| i as u64),
            });
        }
        count += 1;
        wsum += weights.map_or(1.0, |w| w[v as usize] as f64);
    }
    Ok((count, wsum))
}
