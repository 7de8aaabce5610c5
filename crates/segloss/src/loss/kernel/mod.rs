//! The fused kernels behind every loss, and the driver that splits work into units.
//!
//! Layout of the work: the input is cut into *units* whose boundaries depend only on the
//! shape (never on the number of threads): a piece of one `(n, c)` row for sigmoid losses, a
//! range of pixels of one image for softmax losses. Each unit returns partial `f64` sums,
//! which are combined in unit order, so results are bit-for-bit identical with or without
//! the `rayon` feature and for any number of threads.
//!
//! Inside a unit the hot loops work on blocks of [`LANES`] elements with `[f32; LANES]`
//! accumulators that are folded into `f64` every [`FOLD`] blocks; the per-element math is
//! branch-free (`crate::math` functions and selects) so LLVM vectorises it. Each hot
//! function exists twice: multiversioned for AVX-512 / AVX2+FMA with run-time detection, and
//! the plain (scalar-target) body, which [`force_scalar`] selects so tests cover it. The
//! softmax passes of every pixel term and Dice-type loss (any class count; a constant one
//! up to 12, and up to 8 in the lane loops) have a third version in explicit AVX-512
//! ([`softmax_avx512`]), bit for bit the same as the others; so do the binary sigmoid losses
//! (BCE, focal, no term) and their Dice-type passes ([`sigmoid_avx512`]).

#[cfg(target_arch = "x86_64")]
mod avx512;
pub(crate) mod driver;
pub(crate) mod sigmoid;
#[cfg(target_arch = "x86_64")]
mod sigmoid_avx512;
pub(crate) mod softmax;
#[cfg(target_arch = "x86_64")]
mod softmax_avx512;
pub(crate) mod validate;

use std::sync::atomic::{AtomicBool, Ordering};

/// Elements per block in the hot loops (one AVX-512 register, two AVX2 registers).
pub(crate) const LANES: usize = 16;
/// Blocks accumulated in `f32` lanes before folding into `f64`.
pub(crate) const FOLD: usize = 32;
/// Elements of one `(n, c)` row per unit for sigmoid losses.
pub(crate) const ROW_CHUNK: usize = 32 * 1024;
/// Pixels per unit for softmax losses (each pixel touches `C` channels).
pub(crate) const PIXEL_CHUNK: usize = 4 * 1024;

static FORCE_SCALAR: AtomicBool = AtomicBool::new(false);

/// Whether the multiversioned (SIMD-target) kernels are used.
#[inline]
pub(crate) fn simd_enabled() -> bool {
    !FORCE_SCALAR.load(Ordering::Relaxed)
}

/// Forces the portable (no extra target features) kernels, process-wide, for testing the
/// fallback path. Not part of the stable API.
#[doc(hidden)]
pub fn force_scalar(on: bool) {
    FORCE_SCALAR.store(on, Ordering::Relaxed);
}

/// How far ahead the explicit AVX-512 block loops prefetch their inputs, in elements (per
/// class plane for softmax): 16 blocks, one cache line of each input per block. Measured on
/// the Ice Lake-SP VM (`docs/kernel-performance.md`): the hardware prefetchers alone left
/// the binary focal kernels 1.2× slower.
#[cfg(target_arch = "x86_64")]
const PF: usize = 256;

/// Prefetches the cache line [`PF`] elements after `p + i` into L1: a hint, so an address
/// past the end of a slice is never read, and a prefetch does not fault.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn prefetch(p: *const f32, i: usize) {
    // SAFETY: `prefetcht0` needs only SSE, which every x86-64 CPU has; `wrapping_add` keeps
    // the address computation defined.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            p.wrapping_add(i + PF).cast(),
        )
    };
}

/// [`prefetch`] for writing (`prefetchw`): the line comes in owned, ready for the store.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn prefetch_w(p: *mut f32, i: usize) {
    // SAFETY: as in `prefetch` (`prefetchw` is in every x86-64 CPU with AVX-512).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_ET0 }>(
            p.wrapping_add(i + PF).cast_const().cast(),
        )
    };
}

/// [`prefetch`] where the target has it, nothing elsewhere: for the lane loops, which are
/// compiled for every target.
#[inline(always)]
pub(crate) fn prefetch_ahead(p: *const f32, i: usize) {
    #[cfg(target_arch = "x86_64")]
    prefetch(p, i);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, i);
}

/// Branch-free select, written so LLVM emits a blend.
#[inline(always)]
pub(crate) fn sel(c: bool, a: f32, b: f32) -> f32 {
    if c { a } else { b }
}

/// Sum of `f32` lanes in `f64`, and zeroes them: pairwise, lane `l` with lane `l + 8`,
/// then `l + 4`, `l + 2`, `l + 1`.
///
/// The order is fixed so that every path gives the same bits: it is the order of halving a
/// vector (`avx512::fold_vec` does it with four vector adds). A lane-order chain of
/// 16 dependent scalar adds per sum took 2.7% of a softmax Dice+CE profile.
#[inline(always)]
pub(crate) fn fold(acc: &mut [f32; LANES]) -> f64 {
    let mut s = [0f64; LANES / 2];
    for l in 0..LANES / 2 {
        s[l] = f64::from(acc[l]) + f64::from(acc[l + LANES / 2]);
    }
    let mut w = LANES / 4;
    while w > 0 {
        for l in 0..w {
            s[l] += s[l + w];
        }
        w /= 2;
    }
    *acc = [0.0; LANES];
    s[0]
}

/// Runs `f(unit, grad_part)` for every unit, in parallel with the `rayon` feature, and
/// returns the results in unit order.
pub(crate) fn run_units<G, R, F>(units: usize, grads: Option<Vec<G>>, f: F) -> Vec<R>
where
    G: Send,
    R: Send,
    F: Fn(usize, Option<G>) -> R + Sync + Send,
{
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        match grads {
            Some(gs) => gs
                .into_par_iter()
                .enumerate()
                .map(|(u, g)| f(u, Some(g)))
                .collect(),
            None => (0..units).into_par_iter().map(|u| f(u, None)).collect(),
        }
    }
    #[cfg(not(feature = "rayon"))]
    {
        match grads {
            Some(gs) => gs
                .into_iter()
                .enumerate()
                .map(|(u, g)| f(u, Some(g)))
                .collect(),
            None => (0..units).map(|u| f(u, None)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lanes whose sum depends on the order: `2^60 + 1 − 2^60` is 0 added in lane order
    /// (the `1` is lost) and 1 pairwise (lane 0 meets lane 8 first).
    fn order_sensitive() -> [f32; LANES] {
        let mut a = [0f32; LANES];
        a[0] = 2f32.powi(60);
        a[1] = 1.0;
        a[8] = -(2f32.powi(60));
        a
    }

    #[test]
    fn fold_adds_pairwise_and_zeroes() {
        let mut a = order_sensitive();
        assert_eq!(fold(&mut a), 1.0);
        assert_eq!(a, [0.0; LANES]);
        // Lane order would have lost the 1.
        let seq = order_sensitive()
            .iter()
            .fold(0f64, |s, &v| s + f64::from(v));
        assert_eq!(seq, 0.0);
        let mut b: [f32; LANES] = std::array::from_fn(|l| l as f32 + 0.5);
        assert_eq!(fold(&mut b), 128.0);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_fold_is_the_portable_fold() {
        if !avx512::available() {
            return;
        }
        let mut cases = vec![order_sensitive()];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200 {
            cases.push(std::array::from_fn(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                // Signs, and exponents spread over 2^±40, so that the order shows.
                let m = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                m * 2f32.powi(((state >> 8) % 81) as i32 - 40)
            }));
        }
        for case in cases {
            let mut a = case;
            // SAFETY: AVX-512F was detected just above.
            let got = unsafe { avx512::fold_lanes(&case) };
            assert_eq!(got.to_bits(), fold(&mut a).to_bits(), "{case:?}");
        }
    }
}
