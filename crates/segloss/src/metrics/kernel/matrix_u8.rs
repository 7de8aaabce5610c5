//! Multi-class confusion matrix over `u8` masks for up to 15 classes.
//!
//! Each chunk of `64 × 255` pixels is done in two steps, both branch-free and vectorised:
//! 1. code every pixel as `t·k + p` if `t < k`, `p < k` and `t` is not the ignore label, else
//!    as the sentinel 255 (no cell; `k ≤ 15` keeps every real code below 255), counting
//!    ignored pixels and flagging invalid ones in `u8` lanes;
//! 2. for each group of eight cells, count the matching codes in `u8` lanes (at most 255
//!    per lane per chunk, so no overflow) and flush them to the `u64` matrix.
//!
//! The code buffer (16 KiB) stays in L1 across the cell passes, so the masks are read from
//! memory once. Larger `k` or wider label types take the scalar path.

use multiversion::multiversion;

const LANES: usize = 64;
const BLOCKS: usize = 255;
const CHUNK: usize = LANES * BLOCKS;
const GROUP: usize = 8;
/// Largest `k` of this kernel: all `k²` codes must stay below the sentinel 255.
pub(super) const MAX_CLASSES: usize = 15;

/// Adds the matrix to `out` and returns the ignored count, or `None` (with `out` partly
/// written) if some kept pixel has a label `≥ k`.
pub(super) fn count(
    truth: &[u8],
    pred: &[u8],
    classes: usize,
    ignore: Option<u8>,
    out: &mut [u64],
) -> Option<u64> {
    if classes > MAX_CLASSES || classes == 0 {
        return None;
    }
    let (ign, use_ign) = match ignore {
        Some(v) => (v, 0xFFu8),
        None => (0, 0),
    };
    let (ignored, bad) = count_par(truth, pred, classes as u8, ign, use_ign, out);
    if bad { None } else { Some(ignored) }
}

#[cfg(feature = "rayon")]
fn count_par(t: &[u8], p: &[u8], k: u8, ign: u8, use_ign: u8, out: &mut [u64]) -> (u64, bool) {
    use rayon::prelude::*;
    if t.len() < super::PAR_MIN {
        return count_serial(t, p, k, ign, use_ign, out);
    }
    let cells = out.len();
    let (m, ignored, bad) = super::par_ranges(t.len())
        .into_par_iter()
        .map(|r| {
            let mut m = vec![0u64; cells];
            let (i, b) = count_serial(&t[r.clone()], &p[r], k, ign, use_ign, &mut m);
            (m, i, b)
        })
        .reduce(
            || (vec![0u64; cells], 0, false),
            |(mut a, ia, ba), (b, ib, bb)| {
                for (x, y) in a.iter_mut().zip(&b) {
                    *x += y;
                }
                (a, ia + ib, ba | bb)
            },
        );
    for (o, v) in out.iter_mut().zip(&m) {
        *o += v;
    }
    (ignored, bad)
}

#[cfg(not(feature = "rayon"))]
fn count_par(t: &[u8], p: &[u8], k: u8, ign: u8, use_ign: u8, out: &mut [u64]) -> (u64, bool) {
    count_serial(t, p, k, ign, use_ign, out)
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2+avx+sse4.2+bmi1+bmi2+popcnt",
    "x86_64+avx2+avx+sse4.2+bmi1+bmi2+popcnt",
    "aarch64+neon"
))]
fn count_serial(
    truth: &[u8],
    pred: &[u8],
    k: u8,
    ign: u8,
    use_ign: u8,
    out: &mut [u64],
) -> (u64, bool) {
    let cells = (k as usize) * (k as usize);
    let mut codes = [0u8; CHUNK];
    let mut ignored = 0u64;
    let mut bad = 0u8;
    for (tc, pc) in truth.chunks(CHUNK).zip(pred.chunks(CHUNK)) {
        let n = tc.len();
        let mut a_ig = [0u8; LANES];
        let mut a_bad = [0u8; LANES];
        for ((x, y), c) in tc
            .chunks_exact(LANES)
            .zip(pc.chunks_exact(LANES))
            .zip(codes.chunks_exact_mut(LANES))
        {
            let x: &[u8; LANES] = x.try_into().unwrap_or(&[0; LANES]);
            let y: &[u8; LANES] = y.try_into().unwrap_or(&[0; LANES]);
            let c: &mut [u8; LANES] = c.try_into().unwrap_or_else(|_| unreachable!());
            for l in 0..LANES {
                let (t, p) = (x[l], y[l]);
                let ig = ((t == ign) as u8).wrapping_neg() & use_ign;
                let valid = (((t < k) & (p < k)) as u8).wrapping_neg();
                let code = t.wrapping_mul(k).wrapping_add(p);
                let counted = valid & !ig;
                c[l] = (code & counted) | !counted;
                a_ig[l] = a_ig[l].wrapping_add(ig & 1);
                a_bad[l] |= !valid & !ig;
            }
        }
        ignored += a_ig.iter().map(|&v| v as u64).sum::<u64>();
        bad |= a_bad.iter().fold(0, |acc, &v| acc | v);
        let full = n - n % LANES;
        for i in full..n {
            let (t, p) = (tc[i], pc[i]);
            let ig = ((t == ign) as u8).wrapping_neg() & use_ign;
            let valid = (((t < k) & (p < k)) as u8).wrapping_neg();
            let counted = valid & !ig;
            codes[i] = (t.wrapping_mul(k).wrapping_add(p) & counted) | !counted;
            ignored += (ig & 1) as u64;
            bad |= !valid & !ig;
        }
        for g in (0..cells).step_by(GROUP) {
            let mut acc = [[0u8; LANES]; GROUP];
            for c in codes[..full].chunks_exact(LANES) {
                let c: &[u8; LANES] = c.try_into().unwrap_or(&[0xFF; LANES]);
                for (j, a) in acc.iter_mut().enumerate() {
                    let cell = (g + j) as u8;
                    for l in 0..LANES {
                        a[l] = a[l].wrapping_add((c[l] == cell) as u8);
                    }
                }
            }
            for (j, a) in acc.iter().enumerate() {
                if g + j < cells {
                    out[g + j] += a.iter().map(|&v| v as u64).sum::<u64>();
                }
            }
        }
        for &c in &codes[full..n] {
            if (c as usize) < cells {
                out[c as usize] += 1;
            }
        }
    }
    (ignored, bad != 0)
}
