//! Binary counts over `u8` masks: branch-free, vectorised, validation fused.
//!
//! Per pixel with truth `t`, prediction `p` and keep bit `k = (t ≠ ignore)`, the kernel sums
//! `t·p·k`, `t·k`, `p·k` and `1 − k` in `u8` lanes (a block of at most 255 iterations cannot
//! overflow a lane), flushing them to `u64` after each block. `TP = Σtpk`, `FP = Σpk − TP`,
//! `FN = Σtk − TP`, `TN = kept − Σtk − Σpk + TP`. A lane flag records any `t > 1` or `p > 1` at
//! a kept pixel; if it is set the caller reruns the scalar path to report the first one.

use multiversion::multiversion;

use super::Tally;
use crate::metrics::Counts;

const LANES: usize = 64;
const BLOCKS: usize = 255;
const CHUNK: usize = LANES * BLOCKS;

/// Raw sums `[Σtpk, Σtk, Σpk, ignored]` and the bad flag.
#[derive(Default, Clone, Copy)]
struct Sums {
    s: [u64; 4],
    bad: bool,
}

impl Sums {
    fn add(mut self, o: Sums) -> Sums {
        for (a, b) in self.s.iter_mut().zip(o.s) {
            *a += b;
        }
        self.bad |= o.bad;
        self
    }
}

/// Counts `truth` against `pred`, or `None` if some kept pixel is not 0 or 1.
pub(super) fn count(truth: &[u8], pred: &[u8], ignore: Option<u8>) -> Option<Tally> {
    debug_assert_eq!(truth.len(), pred.len());
    // Without an ignore label, compare against a value and then disable it with the mask.
    let (ign, use_ign) = match ignore {
        Some(v) => (v, 0xFFu8),
        None => (0, 0),
    };
    let sums = count_par(truth, pred, ign, use_ign);
    if sums.bad {
        return None;
    }
    let [tp, st, sp, ignored] = sums.s;
    let kept = truth.len() as u64 - ignored;
    Some(Tally {
        counts: Counts::new(tp, sp - tp, st - tp, kept - st - sp + tp),
        ignored,
    })
}

#[cfg(feature = "rayon")]
fn count_par(truth: &[u8], pred: &[u8], ign: u8, use_ign: u8) -> Sums {
    use rayon::prelude::*;
    if truth.len() < super::PAR_MIN {
        return count_serial(truth, pred, ign, use_ign);
    }
    super::par_ranges(truth.len())
        .into_par_iter()
        .map(|r| count_serial(&truth[r.clone()], &pred[r], ign, use_ign))
        .reduce(Sums::default, Sums::add)
}

#[cfg(not(feature = "rayon"))]
fn count_par(truth: &[u8], pred: &[u8], ign: u8, use_ign: u8) -> Sums {
    count_serial(truth, pred, ign, use_ign)
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2+avx+sse4.2+bmi1+bmi2+popcnt",
    "x86_64+avx2+avx+sse4.2+bmi1+bmi2+popcnt",
    "aarch64+neon"
))]
fn count_serial(truth: &[u8], pred: &[u8], ign: u8, use_ign: u8) -> Sums {
    let mut out = Sums::default();
    let mut bad = 0u8;
    for (tc, pc) in truth.chunks(CHUNK).zip(pred.chunks(CHUNK)) {
        let mut a_tp = [0u8; LANES];
        let mut a_t = [0u8; LANES];
        let mut a_p = [0u8; LANES];
        let mut a_ig = [0u8; LANES];
        let mut a_bad = [0u8; LANES];
        let tb = tc.chunks_exact(LANES);
        let pb = pc.chunks_exact(LANES);
        let (tr, pr) = (tb.remainder(), pb.remainder());
        for (x, y) in tb.zip(pb) {
            let x: &[u8; LANES] = x.try_into().unwrap_or(&[0; LANES]);
            let y: &[u8; LANES] = y.try_into().unwrap_or(&[0; LANES]);
            for l in 0..LANES {
                let (t, p) = (x[l], y[l]);
                // keep = 0xFF for a counted pixel, 0 for an ignored one.
                let ig = ((t == ign) as u8).wrapping_neg() & use_ign;
                let keep = !ig;
                let tk = t & keep & 1;
                let pk = p & keep & 1;
                a_tp[l] = a_tp[l].wrapping_add(tk & pk);
                a_t[l] = a_t[l].wrapping_add(tk);
                a_p[l] = a_p[l].wrapping_add(pk);
                a_ig[l] = a_ig[l].wrapping_add(ig & 1);
                a_bad[l] |= (t | p) & keep & 0xFE;
            }
        }
        let sum = |a: &[u8; LANES]| a.iter().map(|&v| v as u64).sum::<u64>();
        out.s[0] += sum(&a_tp);
        out.s[1] += sum(&a_t);
        out.s[2] += sum(&a_p);
        out.s[3] += sum(&a_ig);
        bad |= a_bad.iter().fold(0, |acc, &v| acc | v);
        for (&t, &p) in tr.iter().zip(pr) {
            let ig = ((t == ign) as u8).wrapping_neg() & use_ign;
            let keep = !ig;
            let (tk, pk) = ((t & keep & 1) as u64, (p & keep & 1) as u64);
            out.s[0] += tk & pk;
            out.s[1] += tk;
            out.s[2] += pk;
            out.s[3] += (ig & 1) as u64;
            bad |= (t | p) & keep & 0xFE;
        }
    }
    out.bad = bad != 0;
    out
}
