//! Elementary functions used by the loss kernels.
//!
//! These are the only transcendental functions the kernels call, so that making them fast
//! speeds up every loss at once. Each one is a branch-free polynomial approximation
//! (Cody–Waite range reduction and Cephes minimax polynomials, the scheme SLEEF and most
//! vector math libraries use; for `ln(1 + e)` on `[0, 1]`, a minimax polynomial of our own): only `+ − × ÷`, compares that become selects, and integer
//! operations on the bit pattern. Marked `#[inline(always)]`, they are inlined into the
//! multiversioned kernel loops and the compiler vectorises them with whatever the running CPU
//! has: SSE2 in the baseline build, AVX2 or AVX-512 in the runtime-selected clones.
//!
//! The polynomials and the range reductions use `f32::mul_add` (fused multiply-add, one
//! rounding). Rust never contracts `a * b + c` on its own, and the loops are throughput-bound
//! on these polynomials: written as FMAs they run 1.2–1.7× faster (binary focal, 8×1×512²,
//! AVX-512). Every SIMD clone requires the `fma` feature, so each `mul_add` is one
//! instruction there; the baseline x86-64 build (no FMA) calls the C library's correctly
//! rounded `fmaf`, which gives the same bits, slowly — that path only runs on x86-64 CPUs
//! older than AVX2 (before 2013) or when forced for tests. The results are therefore
//! bit-for-bit the same on every path, which `accuracy_tests::vector_paths_match_scalar`
//! checks.
//!
//! | function | max error (measured) | saturation |
//! |---|---|---|
//! | [`exp`] | 1 ulp, all `f32` (exhaustive) | `0` below `-103.97`, `+∞` above `88.72` |
//! | [`ln`] | 1 ulp, all `x > 0` (exhaustive) | `-∞` at 0, NaN below 0 |
//! | [`exp_neg`] | that of `exp`, bit for bit, for `x ≤ 0` | as `exp` |
//! | [`exp_minus`] | `exp_neg(-a)`, bit for bit, for `a ≥ 0` | as `exp` |
//! | [`ln_1p`] | 2 ulp, all `x > -1` | `-∞` at `-1` |
//! | [`ln_1p_unit`] | 1.35 ulp, all `x ∈ [0, 1]` (exhaustive) | — |
//! | [`softplus`] | 2 ulp, all finite `x` | `x` above 17.4, `e^x` below -17 |
//! | [`log_sigmoid`] | 2 ulp, all finite `x` | `x` below -17.4, `-e^{-x}` above 17 |
//! | [`sigmoid`] | 3 ulp, all finite `x` (2 for `x ≥ 0`) | `1` above 17.4, `e^x` below -17 |
//!
//! "ulp" is the spacing of `f32` values at the exact result (computed in `f64`); for
//! subnormal results it is `2^-149`. Inputs of `±1e4` and beyond give the correctly
//! saturated value, never NaN or an infinity where the true value is finite. NaN inputs
//! propagate to NaN outputs (the kernels reject non-finite logits before they get here).
//!
//! A kernel loop that also accumulates a sum in `f64` must not add term by term, or none of
//! this vectorises: see [`sum`] for the block pattern and [`LaneSum`].
//!
//! To see the vector code: `RUSTFLAGS=--emit=asm` or `objdump -d` on a release build and look
//! for `zmm`/`ymm` registers and `vdivps` in the kernel's `…_avx512…`/`…_avx2…` clones.

// A toolbox: not every build uses every function (the set the kernels call changes with the
// losses, and some exist for callers still to come), which must not fail `-D warnings`.
#![allow(dead_code, unused_imports)]

mod exp;
mod log;
mod logistic;
mod sum;

#[cfg(test)]
mod accuracy_tests;

pub(crate) use exp::{EXP_LO, EXP_POLY, LN2_HI, LN2_LO, LOG2_E, ROUND_MAGIC, ROUND_MAGIC_NEG};
pub(crate) use exp::{exp, exp_minus, exp_neg};
pub(crate) use log::{LN_1P_UNIT_POLY, LN_POLY, SQRT_HALF_BITS};
pub(crate) use log::{ln, ln_1p, ln_1p_recip, ln_1p_unit};
pub(crate) use logistic::{log_sigmoid, sigmoid, sigmoid_pair, softplus};
pub(crate) use sum::{BLOCK, LaneSum};
