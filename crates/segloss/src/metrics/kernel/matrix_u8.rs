//! Multi-class confusion matrix over `u8` masks for up to 15 classes.
//!
//! Each chunk of `L × 255` pixels (`L` = 64-byte lanes with AVX-512BW, else 32) is done in two steps, both branch-free and vectorised:
//! 1. code every pixel as `t·k + p` if `t < k`, `p < k` and `t` is not the ignore label, else
//!    as the sentinel 255 (no cell; `k ≤ 15` keeps every real code below 255), counting
//!    ignored pixels and flagging invalid ones in `u8` lanes;
//! 2. for each group of twelve cells, count the matching codes in `u8` lanes (at most 255
//!    per lane per chunk, so no overflow) and flush them to the `u64` matrix.
//!
//! The code buffer (16 KiB) stays in L1 across the cell passes, so the masks are read from
//! memory once. Larger `k` or wider label types take the scalar path.

use multiversion::multiversion;

const LANES: usize = 64;
const BLOCKS: usize = 255;
const CHUNK: usize = LANES * BLOCKS;
const GROUP: usize = 12;
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

/// Picks the widest kernel the CPU runs: 64-byte lanes where AVX-512BW is present (32
/// vector registers hold 12 accumulators), 32-byte lanes elsewhere.
fn count_serial(
    truth: &[u8],
    pred: &[u8],
    k: u8,
    ign: u8,
    use_ign: u8,
    out: &mut [u64],
) -> (u64, bool) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw") {
        return count_wide(truth, pred, k, ign, use_ign, out);
    }
    count_narrow(truth, pred, k, ign, use_ign, out)
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx2+avx+sse4.2+bmi1+bmi2+popcnt"))]
fn count_wide(
    truth: &[u8],
    pred: &[u8],
    k: u8,
    ign: u8,
    use_ign: u8,
    out: &mut [u64],
) -> (u64, bool) {
    count_lanes::<64>(truth, pred, k, ign, use_ign, out)
}

#[multiversion(targets("x86_64+avx2+avx+sse4.2+bmi1+bmi2+popcnt", "aarch64+neon"))]
fn count_narrow(
    truth: &[u8],
    pred: &[u8],
    k: u8,
    ign: u8,
    use_ign: u8,
    out: &mut [u64],
) -> (u64, bool) {
    count_lanes::<32>(truth, pred, k, ign, use_ign, out)
}

#[inline(always)]
fn count_lanes<const L: usize>(
    truth: &[u8],
    pred: &[u8],
    k: u8,
    ign: u8,
    use_ign: u8,
    out: &mut [u64],
) -> (u64, bool) {
    let cells = (k as usize) * (k as usize);
    let chunk = L * BLOCKS;
    let mut codes = [0u8; CHUNK];
    let mut ignored = 0u64;
    let mut bad = 0u8;
    for (tc, pc) in truth.chunks(chunk).zip(pred.chunks(chunk)) {
        let n = tc.len();
        let mut a_ig = [0u8; L];
        let mut a_bad = [0u8; L];
        for ((x, y), c) in tc
            .chunks_exact(L)
            .zip(pc.chunks_exact(L))
            .zip(codes.chunks_exact_mut(L))
        {
            let x: &[u8; L] = x.try_into().unwrap_or(&[0; L]);
            let y: &[u8; L] = y.try_into().unwrap_or(&[0; L]);
            let c: &mut [u8; L] = c.try_into().unwrap_or_else(|_| unreachable!());
            for l in 0..L {
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
        let full = n - n % L;
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
            let mut acc = [[0u8; L]; GROUP];
            for c in codes[..full].chunks_exact(L) {
                let c: &[u8; L] = c.try_into().unwrap_or(&[0xFF; L]);
                for (j, a) in acc.iter_mut().enumerate() {
                    let cell = (g + j) as u8;
                    for l in 0..L {
                        // A select, so AVX-512 can use one masked add per cell.
                        a[l] = if c[l] == cell {
                            a[l].wrapping_add(1)
                        } else {
                            a[l]
                        };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Both lane widths agree with a naive count, whichever one the CPU would pick.
    #[test]
    fn wide_and_narrow_kernels_equal_naive() {
        let mut s = 12345u64;
        for (n, k, ign) in [
            (0usize, 3u8, 255u8),
            (1, 1, 0),
            (63, 6, 255),
            (20_000, 6, 255),
            (40_001, 15, 2),
        ] {
            let (mut t, mut p) = (vec![0u8; n], vec![0u8; n]);
            for i in 0..n {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                t[i] = if s.is_multiple_of(11) {
                    ign
                } else {
                    (s % k as u64) as u8
                };
                p[i] = ((s >> 9) % k as u64) as u8;
            }
            let kk = k as usize * k as usize;
            let mut want = vec![0u64; kk];
            let mut ignored = 0;
            for (&a, &b) in t.iter().zip(&p) {
                if a == ign {
                    ignored += 1;
                } else {
                    want[a as usize * k as usize + b as usize] += 1;
                }
            }
            let mut got = vec![0u64; kk];
            assert_eq!(
                count_narrow(&t, &p, k, ign, 0xFF, &mut got),
                (ignored, false)
            );
            assert_eq!(got, want, "narrow n={n} k={k}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512bw") {
                let mut got = vec![0u64; kk];
                assert_eq!(count_wide(&t, &p, k, ign, 0xFF, &mut got), (ignored, false));
                assert_eq!(got, want, "wide n={n} k={k}");
            }
            if n > 100 {
                let mut bad_t = t.clone();
                bad_t[n - 50] = k;
                if k != ign {
                    assert!(count_narrow(&bad_t, &p, k, ign, 0xFF, &mut got).1);
                    #[cfg(target_arch = "x86_64")]
                    if std::arch::is_x86_feature_detected!("avx512bw") {
                        assert!(count_wide(&bad_t, &p, k, ign, 0xFF, &mut got).1);
                    }
                }
            }
        }
    }
}
