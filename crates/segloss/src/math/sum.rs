//! Summing per-element `f32` terms in `f64` without stopping the loop from vectorising.
//!
//! A loop such as `for i in .. { grad[i] = …; total += term as f64 }` is never vectorised:
//! floating-point addition is not associative, so the compiler must add the terms one by one
//! in order, and the whole loop body (the `exp`, the `ln`, the gradient) stays scalar, 10–20×
//! slower than the vector code. The kernels instead work in blocks of [`BLOCK`] elements:
//!
//! ```text
//! let mut terms = [0.0f32; BLOCK];
//! let mut total = LaneSum::default();
//! for (((xs, ts), gs)) in logits.chunks(BLOCK).zip(targets.chunks(BLOCK)).zip(grad.chunks_mut(BLOCK)) {
//!     let terms = &mut terms[..xs.len()];
//!     for (((&x, &t), g), term) in xs.iter().zip(ts).zip(gs).zip(terms.iter_mut()) {
//!         *g = …;      // a pure element-wise map: vectorised
//!         *term = …;
//!     }
//!     total.add(terms); // f64 lanes: vectorised too
//! }
//! total.sum()
//! ```
//!
//! The block buffer lives on the stack (1 KiB) and stays in L1 cache, so the extra pass costs
//! a few percent; the sum is exact up to `f64` rounding, in a fixed order (the result does not
//! depend on the CPU features), as the house rule on long sums asks.

/// Elements per block: small enough for the buffer to stay in L1, large enough that the
/// per-block overhead vanishes.
pub(crate) const BLOCK: usize = 256;

/// Number of independent `f64` accumulators; a multiple of every vector width we target
/// (2 lanes for SSE2, 4 for AVX2, 8 for AVX-512).
const LANES: usize = 8;

/// An `f64` sum of `f32` terms kept in [`LANES`] independent accumulators, so adding a block
/// is a vectorised convert-and-add.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LaneSum {
    lanes: [f64; LANES],
}

impl LaneSum {
    /// Adds every term of `terms`, widened to `f64`.
    #[inline(always)]
    pub(crate) fn add(&mut self, terms: &[f32]) {
        let mut chunks = terms.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (lane, &t) in self.lanes.iter_mut().zip(chunk) {
                *lane += f64::from(t);
            }
        }
        for (lane, &t) in self.lanes.iter_mut().zip(chunks.remainder()) {
            *lane += f64::from(t);
        }
    }

    /// Adds one `f64` value (a partial result from elsewhere).
    #[inline(always)]
    pub(crate) fn add_f64(&mut self, value: f64) {
        self.lanes[0] += value;
    }

    /// The total, lanes added pairwise.
    #[inline(always)]
    pub(crate) fn sum(&self) -> f64 {
        let l = &self.lanes;
        ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_sum_matches_sequential_f64_sum() {
        // Terms of very different sizes, and lengths that are not multiples of the lanes.
        for len in [0, 1, 7, 8, 9, 255, 256, 1000] {
            let terms: Vec<f32> = (0..len)
                .map(|i| ((i * 7919) % 1013) as f32 * 1e-3 + if i % 97 == 0 { 1e6 } else { 0.0 })
                .collect();
            let mut s = LaneSum::default();
            for block in terms.chunks(BLOCK) {
                s.add(block);
            }
            s.add_f64(0.5);
            let want: f64 = terms.iter().map(|&t| f64::from(t)).sum::<f64>() + 0.5;
            assert!(
                (s.sum() - want).abs() <= 1e-12 * want.abs().max(1.0),
                "len {len}: {} vs {want}",
                s.sum()
            );
        }
    }
}
