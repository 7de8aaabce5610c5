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

/// Picks the kernel: bit planes (`matrix_planes`) where AVX-512 VBMI, VPOPCNTDQ and GFNI are
/// present, else mask-and-popcount where AVX-512BW is, else 32-byte lanes.
fn count_serial(
    truth: &[u8],
    pred: &[u8],
    k: u8,
    ign: u8,
    use_ign: u8,
    out: &mut [u64],
) -> (u64, bool) {
    #[cfg(target_arch = "x86_64")]
    if has_planes() {
        // SAFETY: `has_planes` checked every feature `count_planes` is compiled for.
        return unsafe { super::matrix_planes::count_planes(truth, pred, k, ign, use_ign, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("popcnt")
    {
        // SAFETY: the CPU has the features `count_masks` is compiled for.
        return unsafe { avx512::count_masks(truth, pred, k, ign, use_ign, out) };
    }
    count_narrow(truth, pred, k, ign, use_ign, out)
}

/// Whether the CPU runs the bit-plane kernel (Ice Lake and later, Zen 4 and later).
#[cfg(target_arch = "x86_64")]
fn has_planes() -> bool {
    std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vbmi")
        && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
        && std::arch::is_x86_feature_detected!("gfni")
        && std::arch::is_x86_feature_detected!("popcnt")
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    //! AVX-512BW: a byte compare yields a 64-bit mask, so per 64 pixels the kernel takes
    //! `k` masks `T_i = (t = i)` and `k` masks `P_j = (p = j)` and adds
    //! `popcount(T_i & P_j)` to cell `(i, j)`: no code byte, no flush, and the work per
    //! cell is one `and`, one `popcnt` and one add on scalar ports while the vector ports
    //! only compare. A kept pixel whose `t` or `p` matches no class sets the bad flag.
    use super::MAX_CLASSES;
    use std::arch::x86_64::*;

    /// Dispatches to the kernel specialised for `k` (fully unrolled cell loops).
    ///
    /// # Safety
    /// The CPU must support AVX-512F, AVX-512BW and POPCNT.
    #[target_feature(enable = "avx512f,avx512bw,popcnt")]
    pub(super) unsafe fn count_masks(
        truth: &[u8],
        pred: &[u8],
        k: u8,
        ign: u8,
        use_ign: u8,
        out: &mut [u64],
    ) -> (u64, bool) {
        macro_rules! by_k {
            ($($k:literal)*) => {
                match k {
                    $($k => count_k::<$k>(truth, pred, ign, use_ign, out),)*
                    _ => unreachable!("k is checked to be in 1..=MAX_CLASSES"),
                }
            };
        }
        by_k!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    }

    #[target_feature(enable = "avx512f,avx512bw,popcnt")]
    fn count_k<const K: usize>(
        truth: &[u8],
        pred: &[u8],
        ign: u8,
        use_ign: u8,
        out: &mut [u64],
    ) -> (u64, bool) {
        debug_assert!(K <= MAX_CLASSES);
        let n = truth.len().min(pred.len());
        let full = n - n % 64;
        let mut class_v = [_mm512_setzero_si512(); K];
        for (c, v) in class_v.iter_mut().enumerate() {
            *v = _mm512_set1_epi8(c as i8);
        }
        let ign_v = _mm512_set1_epi8(ign as i8);
        let use_mask = if use_ign != 0 { u64::MAX } else { 0 };
        let mut acc = [[0u64; K]; K];
        let (mut ignored, mut bad) = (0u64, 0u64);
        let mut i = 0;
        while i < full {
            // SAFETY: `i + 64 <= full <= n`, the length of both slices.
            let (t, p) = unsafe {
                (
                    _mm512_loadu_si512(truth.as_ptr().add(i).cast()),
                    _mm512_loadu_si512(pred.as_ptr().add(i).cast()),
                )
            };
            let ig = _mm512_cmpeq_epi8_mask(t, ign_v) & use_mask;
            let keep = !ig;
            let mut tm = [0u64; K];
            let mut pm = [0u64; K];
            let (mut t_any, mut p_any) = (0u64, 0u64);
            for c in 0..K {
                tm[c] = _mm512_cmpeq_epi8_mask(t, class_v[c]) & keep;
                pm[c] = _mm512_cmpeq_epi8_mask(p, class_v[c]);
                t_any |= tm[c];
                p_any |= pm[c];
            }
            bad |= keep & !(t_any & p_any);
            ignored += ig.count_ones() as u64;
            for a in 0..K {
                for b in 0..K {
                    acc[a][b] += (tm[a] & pm[b]).count_ones() as u64;
                }
            }
            i += 64;
        }
        let k = K as u8;
        for j in full..n {
            let (t, p) = (truth[j], pred[j]);
            if use_ign != 0 && t == ign {
                ignored += 1;
            } else if t < k && p < k {
                acc[t as usize][p as usize] += 1;
            } else {
                bad = 1;
            }
        }
        for (o, a) in out.iter_mut().zip(acc.iter().flatten()) {
            *o += a;
        }
        (ignored, bad != 0)
    }
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
    use proptest::prelude::*;

    type Kernel = fn(&[u8], &[u8], u8, u8, u8, &mut [u64]) -> (u64, bool);

    /// Every kernel this CPU can run: the portable build, the AVX2 build, and the AVX-512
    /// mask and bit-plane kernels where the features are present.
    fn kernels() -> Vec<(&'static str, Kernel)> {
        let mut v: Vec<(&'static str, Kernel)> =
            vec![("portable", count_lanes::<32>), ("narrow", count_narrow)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("popcnt")
            {
                // SAFETY: features detected above.
                v.push(("masks", |t, p, k, i, u, o| unsafe {
                    avx512::count_masks(t, p, k, i, u, o)
                }));
            }
            if has_planes() {
                // SAFETY: features detected by `has_planes`.
                v.push(("planes", |t, p, k, i, u, o| unsafe {
                    super::super::matrix_planes::count_planes(t, p, k, i, u, o)
                }));
            }
        }
        v
    }

    /// Masks of `n` pixels from `seed`: labels in `0..k`, about 1 in 9 truth pixels set to
    /// `ign` (with any prediction byte, which must not count as bad), and if `bad` is set one
    /// kept pixel of truth or prediction set to a label `>= k`.
    fn masks(n: usize, k: u8, ign: Option<u8>, seed: u64, bad: Option<u8>) -> (Vec<u8>, Vec<u8>) {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let (mut t, mut p) = (vec![0u8; n], vec![0u8; n]);
        for i in 0..n {
            let r = next();
            t[i] = (r % k as u64) as u8;
            p[i] = ((r >> 8) % k as u64) as u8;
            if let Some(v) = ign
                && (r >> 16) % 9 == 0
            {
                t[i] = v;
                p[i] = (r >> 24) as u8;
            }
        }
        if let (Some(v), true) = (bad, n > 0) {
            let r = next();
            let at = (r % n as u64) as usize;
            if Some(t[at]) == ign {
                t[at] = 0;
            }
            if r & (1 << 40) == 0 && Some(v) != ign {
                t[at] = v;
            } else {
                p[at] = v;
            }
        }
        (t, p)
    }

    /// The matrix and ignored count, or `None` if a kept pixel has a label `>= k`.
    fn naive(t: &[u8], p: &[u8], k: u8, ign: Option<u8>) -> Option<(Vec<u64>, u64)> {
        let mut m = vec![0u64; k as usize * k as usize];
        let mut ignored = 0;
        for (&a, &b) in t.iter().zip(p) {
            if Some(a) == ign {
                ignored += 1;
            } else if a < k && b < k {
                m[a as usize * k as usize + b as usize] += 1;
            } else {
                return None;
            }
        }
        Some((m, ignored))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every kernel equals the naive loop for every `k` the fast path takes (1..=15),
        /// with and without an ignore label (which may also be a class), across block and
        /// chunk boundaries (lengths up to 20 000 > one 8 160-pixel AVX2 chunk), and every
        /// kernel flags a bad label anywhere.
        #[test]
        fn kernels_equal_naive(
            k in 1u8..=15,
            n in prop_oneof![0usize..1100, 0usize..20_000],
            ign in proptest::option::of(any::<u8>()),
            seed in any::<u64>(),
            bad in proptest::option::of(any::<u8>()),
        ) {
            let bad = bad.map(|v| v.max(k));
            let (t, p) = masks(n, k, ign, seed, bad);
            let want = naive(&t, &p, k, ign);
            let (iv, use_ign) = ign.map_or((0, 0), |v| (v, 0xFF));
            for (name, kernel) in kernels() {
                let mut got = vec![0u64; k as usize * k as usize];
                let (ignored, is_bad) = kernel(&t, &p, k, iv, use_ign, &mut got);
                match &want {
                    Some((m, ig)) => {
                        prop_assert!(!is_bad, "{} flagged a valid input", name);
                        prop_assert_eq!(&got, m, "{}", name);
                        prop_assert_eq!(ignored, *ig, "{}", name);
                    }
                    None => prop_assert!(is_bad, "{} missed a bad label", name),
                }
            }
        }
    }

    /// The largest `k` with every cell hit, ignore label 255 and a full 512-pixel block.
    #[test]
    fn largest_k_fills_every_cell() {
        let k = MAX_CLASSES as u8;
        let n = 4 * 512 + 7;
        let t: Vec<u8> = (0..n)
            .map(|i| if i % 17 == 16 { 255 } else { (i % 15) as u8 })
            .collect();
        let p: Vec<u8> = (0..n).map(|i| ((i / 15) % 15) as u8).collect();
        let want = naive(&t, &p, k, Some(255)).expect("valid");
        assert!(want.0.iter().all(|&c| c > 0));
        for (name, kernel) in kernels() {
            let mut got = vec![0u64; MAX_CLASSES * MAX_CLASSES];
            assert_eq!(
                kernel(&t, &p, k, 255, 0xFF, &mut got),
                (want.1, false),
                "{name}"
            );
            assert_eq!(got, want.0, "{name}");
        }
    }
}
