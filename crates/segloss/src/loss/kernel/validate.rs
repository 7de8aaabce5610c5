//! Read-only input checks that name the first bad position.
//!
//! Where they run: the kernels count bad values inside their own passes and call
//! these checks only when the count is not zero, to build the typed error (the pass has
//! then written part of `grad`, which the driver fills with zeros). Checks run before a
//! pass that writes leave `grad` untouched. The contract of [`crate::loss::Loss::forward`]:
//! on error `grad` holds no partial result: errors found before the pass (buffer lengths,
//! target kind, configuration, shape) leave it untouched; errors found in the values during
//! the pass leave it filled with zeros (details on `Loss::forward`).
//!
//! The checks are branch-free reductions over blocks (they vectorise); only when a block
//! fails is it rescanned to report the first bad position. The input is cut into pieces of
//! [`PAR_CHUNK`] elements that run in parallel with the `rayon` feature (a serial check
//! would cap the speed-up of the pixel losses on two threads); the first bad position is
//! the first one of the first piece that has one, whatever the thread count.

use super::run_units;
use crate::error::{Error, Result};
use crate::label::Label;
use multiversion::multiversion;

const BLOCK: usize = 1024;
/// Elements per parallel piece of a check.
const PAR_CHUNK: usize = 64 * 1024;

/// Runs `f` on the pieces of `0..len` and returns the results in piece order.
fn pieces<R: Send>(len: usize, f: impl Fn(usize, usize) -> R + Sync + Send) -> Vec<R> {
    let n = len.div_ceil(PAR_CHUNK);
    run_units(n, None::<Vec<()>>, |u, _| {
        let a = u * PAR_CHUNK;
        f(a, (a + PAR_CHUNK).min(len))
    })
}

/// The first position that `f` reports, over the pieces of `0..len`.
fn par_first(len: usize, f: impl Fn(usize, usize) -> Option<usize> + Sync + Send) -> Option<usize> {
    pieces(len, |a, b| f(a, b).map(|i| a + i))
        .into_iter()
        .flatten()
        .next()
}

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
    match par_first(x.len(), |a, b| first_bad_finite(&x[a..b])) {
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
    match par_first(t.len(), |a, b| first_bad_unit(&t[a..b])) {
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

/// Whether every logit of `x` is finite and every target of `t` lies in `[0, 1]`, in one
/// branch-free loop over both.
#[inline(always)]
fn all_good_pair(x: &[f32], t: &[f32]) -> bool {
    let mut ok = true;
    for (&v, &w) in x.iter().zip(t) {
        ok &= (v.abs() <= f32::MAX) & (0.0..=1.0).contains(&w);
    }
    ok
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
fn pair_good(x: &[f32], t: &[f32]) -> bool {
    x.chunks(BLOCK)
        .zip(t.chunks(BLOCK))
        .all(|(xc, tc)| all_good_pair(xc, tc))
}

/// [`logits`] and [`dense_targets`] in one pass over both buffers (used before the
/// element-wise maps, and to name the error once a sigmoid pass has counted a bad value;
/// a fast pass over both, then the separate checks only when it fails). On failure
/// the error is the one the two separate checks give: the first bad logit if any, else the
/// first bad target. `x` and `t` have the same length.
///
/// # Errors
/// See [`logits`] and [`dense_targets`].
pub(crate) fn dense_inputs(op: &'static str, x: &[f32], t: &[f32]) -> Result<()> {
    let good = pieces(x.len(), |a, b| pair_good(&x[a..b], &t[a..b]));
    if good.iter().all(|&g| g) {
        return Ok(());
    }
    logits(op, x)?;
    dense_targets(op, t)
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
    let parts = pieces(labels.len(), |a, b| {
        let piece = &labels[a..b];
        scan_labels(piece, classes as i64, ig)
            .map(|count| {
                // Summed per piece in f64, the pieces in order: the same bits for any
                // number of threads.
                let wsum = match weights {
                    None => count as f64,
                    Some(w) => piece
                        .iter()
                        .filter(|l| l.to_i64() != ig)
                        .map(|l| w[l.to_i64() as usize] as f64)
                        .sum(),
                };
                (count, wsum)
            })
            .map_err(|i| a + i)
    });
    let scanned = parts
        .into_iter()
        .try_fold((0u64, 0f64), |(c, w), p| p.map(|(pc, pw)| (c + pc, w + pw)));
    match scanned {
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
        Ok(sums) => Ok(sums),
    }
}
