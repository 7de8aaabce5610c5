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
//! softmax pass 1 of cross-entropy and the Dice-type losses (2 to 8 classes) has a third
//! version in explicit AVX-512 ([`softmax_avx512`]), bit for bit the same as the others.

pub(crate) mod driver;
pub(crate) mod sigmoid;
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

/// Branch-free select, written so LLVM emits a blend.
#[inline(always)]
pub(crate) fn sel(c: bool, a: f32, b: f32) -> f32 {
    if c { a } else { b }
}

/// Sum of `f32` lanes in `f64`.
#[inline(always)]
pub(crate) fn fold(acc: &mut [f32; LANES]) -> f64 {
    let s = acc.iter().map(|&v| v as f64).sum::<f64>();
    *acc = [0.0; LANES];
    s
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
