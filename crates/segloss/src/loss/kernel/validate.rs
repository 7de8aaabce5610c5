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

/// Labels per packed count of [`packed_class_counts`]: a class's byte holds at most this
/// many.
const PACKED_RUN: usize = 255;

/// The labels of each class `0..8` among `labels` (checked: each below the class count, at
/// most 8, or equal to `ignore`; at most [`PACKED_RUN`] of them), one byte per class:
/// byte `c` of the result counts class `c`. Branch-free; it vectorises as a sum of `1 << 8c`.
#[inline(always)]
fn packed_class_counts<L: Label>(labels: &[L], ignore: i64) -> u64 {
    let mut packed = 0u64;
    for &l in labels {
        let v = l.to_i64();
        // The shift is below 64 for every counted label (`v < 8`); an ignored one adds 0
        // whatever its value.
        packed += u64::from(v != ignore) << (((v as u32) << 3) & 63);
    }
    packed
}

/// Adds the number of labels of each class among `labels` (checked: each below
/// `counts.len()` or equal to `ignore`) to `counts`.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
fn class_counts<L: Label>(labels: &[L], ignore: i64, counts: &mut [u64]) {
    if counts.len() <= 8 {
        for run in labels.chunks(PACKED_RUN) {
            let packed = packed_class_counts(run, ignore);
            for (c, n) in counts.iter_mut().enumerate() {
                *n += (packed >> (8 * c)) & 0xff;
            }
        }
        return;
    }
    // Four histograms filled in turn: with one, a run of equal labels (the common case in
    // a mask) makes each increment wait for the store of the one before.
    let mut h = vec![[0u64; 4]; counts.len()];
    for quad in labels.chunks(4) {
        for (k, &l) in quad.iter().enumerate() {
            let v = l.to_i64();
            if v != ignore
                && let Some(hv) = usize::try_from(v).ok().and_then(|i| h.get_mut(i))
            {
                hv[k] += 1;
            }
        }
    }
    for (n, hv) in counts.iter_mut().zip(&h) {
        *n += hv.iter().sum::<u64>();
    }
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
    // With weights, each piece also counts its labels per class: `Σ w_y` is then
    // `Σ_c n_c w_c` over the exact counts, in class order, the same bits for any number of
    // threads (a sum of one `f64` per pixel was a chain of dependent adds, a tenth of a
    // cross-entropy call).
    let per_class = if weights.is_some() { classes } else { 0 };
    let parts = pieces(labels.len(), |a, b| {
        let piece = &labels[a..b];
        scan_labels(piece, classes as i64, ig)
            .map(|count| {
                let mut counts = vec![0u64; per_class];
                if per_class > 0 {
                    class_counts(piece, ig, &mut counts);
                }
                (count, counts)
            })
            .map_err(|i| a + i)
    });
    let scanned = parts
        .into_iter()
        .try_fold((0u64, vec![0u64; per_class]), |(c, mut n), p| {
            p.map(|(pc, pn)| {
                for (a, b) in n.iter_mut().zip(&pn) {
                    *a += b;
                }
                (c + pc, n)
            })
        });
    let scanned = scanned.map(|(count, n)| {
        let wsum = match weights {
            None => count as f64,
            Some(w) => n
                .iter()
                .zip(w)
                .map(|(&k, &wc)| k as f64 * f64::from(wc))
                .sum(),
        };
        (count, wsum)
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The packed counts (up to 8 classes) and the four histograms (more) count every
    /// class as a plain histogram does: runs longer than a byte holds, runs of one label,
    /// an ignore label inside and outside the class range, and ragged lengths.
    #[test]
    fn class_counts_match_a_plain_histogram() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        for classes in [1usize, 2, 4, 7, 8, 9, 12, 40] {
            for ignore in [-100i64, 0, classes as i64 - 1, 255] {
                for len in [0usize, 1, 254, 255, 256, 1000, 4099] {
                    let run = [1u64, 3, 300][next(3) as usize];
                    let mut labels = Vec::with_capacity(len);
                    while labels.len() < len {
                        let v = if next(5) == 0 {
                            ignore
                        } else {
                            next(classes as u64) as i64
                        };
                        for _ in 0..run.min((len - labels.len()) as u64) {
                            labels.push(v);
                        }
                    }
                    let mut want = vec![0u64; classes];
                    for &v in labels.iter().filter(|&&v| v != ignore) {
                        want[v as usize] += 1;
                    }
                    let mut got = vec![0u64; classes];
                    class_counts(&labels, ignore, &mut got);
                    assert_eq!(
                        got, want,
                        "{classes} classes, ignore {ignore}, {len} labels"
                    );
                    if let Ok(l8) = labels
                        .iter()
                        .map(|&v| u8::try_from(v))
                        .collect::<Result<Vec<_>, _>>()
                    {
                        let mut got8 = vec![0u64; classes];
                        class_counts(&l8, ignore, &mut got8);
                        assert_eq!(got8, want, "u8, {classes} classes, ignore {ignore}");
                    }
                }
            }
        }
    }
}
