//! `ln x` and `ln(1 + x)`: exponent extraction and Cephes' `logf` polynomial.

use super::exp::{LN2_HI, LN2_LO};

/// `√½`; the mantissa is reduced to `[√½, √2)` so `f = m − 1` stays small on both sides.
pub(crate) const SQRT_HALF_BITS: i32 = 0x3f35_04f3;
/// `2^23`, used to bring subnormal inputs into the normal range.
const TWO_POW_23: f32 = 8_388_608.0;

/// `ln x` for finite `x > 0` (normal or subnormal); meaningless elsewhere.
#[inline(always)]
pub(super) fn ln_positive(x: f32) -> f32 {
    let subnormal = x < f32::MIN_POSITIVE;
    let xs = if subnormal { x * TWO_POW_23 } else { x };
    ln_scaled(xs, if subnormal { -23 } else { 0 })
}

/// The coefficients of `P` in [`ln_scaled`], highest degree first (Cephes `logf`).
pub(crate) const LN_POLY: [f32; 9] = [
    7.037_683_6e-2,
    -1.151_461e-1,
    1.167_699_9e-1,
    -1.242_014_1e-1,
    1.424_932_3e-1,
    -1.666_805_8e-1,
    2.000_071_4e-1,
    -2.499_999_4e-1,
    3.333_333e-1,
];

/// `ln(x) + e_bias·ln 2` for finite normal `x > 0`.
///
/// `x = 2^e·m` with `m ∈ [√½, √2)`; `ln m = ln(1 + f) ≈ f − f²/2 + f³·P(f)` (Cephes `logf`),
/// plus `e·ln 2` split in two parts so the sum is accurate near `x = 1` and for large `e`.
#[inline(always)]
fn ln_scaled(xs: f32, e_bias: i32) -> f32 {
    let ix = (xs.to_bits() as i32).wrapping_sub(SQRT_HALF_BITS);
    let e = (ix >> 23).wrapping_add(e_bias);
    let m = f32::from_bits(((ix & 0x007f_ffff).wrapping_add(SQRT_HALF_BITS)) as u32);
    let f = m - 1.0;
    let ef = e as f32;
    let z = f * f;
    let mut p = LN_POLY[0];
    for &c in &LN_POLY[1..] {
        p = p.mul_add(f, c);
    }
    let y = z.mul_add(-0.5, (f * z).mul_add(p, ef * LN2_LO));
    ef.mul_add(LN2_HI, f + y)
}

/// Natural logarithm `ln x`.
///
/// Accuracy: at most 1 ulp from the exact value over all positive finite `f32` inputs,
/// subnormals included, measured exhaustively (`math::accuracy_tests::exhaustive_ln`).
///
/// Special values: `ln 0 = -∞`, `ln +∞ = +∞`, `ln x = NaN` for `x < 0` and for NaN.
/// Branch-free.
#[inline(always)]
pub(crate) fn ln(x: f32) -> f32 {
    let y = ln_positive(x);
    let y = if x == f32::INFINITY { f32::INFINITY } else { y };
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    // `!(x >= 0)` is true for negative `x` and for NaN.
    if x >= 0.0 { y } else { f32::NAN }
}

/// `ln(1 + x)`, accurate for small `|x|`.
///
/// With `u = fl(1 + x)`, `ln(1 + x) = ln u + ln(1 + c/u) ≈ ln u + c/u`, where
/// `c = x − (u − 1)` is the rounding error of `1 + x` (exact for `u ∈ [½, 2]`); the dropped
/// term `(c/u)²/2` is below `2^-49`.
///
/// Accuracy: at most 2 ulp from the exact value for all `x > -1` (dense sweep in
/// `math::accuracy_tests`).
///
/// Special values: `ln_1p(-1) = -∞`, `ln_1p(+∞) = +∞`, NaN for `x < -1` and for NaN.
/// Branch-free.
#[inline(always)]
pub(crate) fn ln_1p(x: f32) -> f32 {
    let u = 1.0 + x;
    let correction = (x - (u - 1.0)) * (1.0 / u);
    // Only finite positive `u` get the correction: at `u = 0` and `u = ∞` it is `0·∞` or
    // `∞ − ∞`.
    let correction = if u > 0.0 && u < f32::INFINITY {
        correction
    } else {
        0.0
    };
    ln(u) + correction
}

/// `ln(1 + e)` for `e ∈ [0, 1]` (or NaN), the `ln` of `softplus` and of every sigmoid loss
/// (`e = e^{-|x|}`).
///
/// On this interval `ln(1 + e) = e + e²·Q(e)` with a degree-8 polynomial `Q` (a minimax fit
/// of `(ln(1 + e) − e)/e²` for relative error, coefficients rounded to `f32`; fit error
/// `5e-9`, about 0.1 ulp; `scripts/fit_ln_1p_unit.py` reproduces it). No range reduction, no correction of `1 + e`'s rounding, and the
/// result is one final FMA: 11 vector operations, against 22 for [`ln_1p`]'s route, in
/// loops that are bound by these operations.
///
/// Accuracy: at most 1.35 ulp from the exact value for every `f32` in `[0, 1]`, measured
/// exhaustively (`math::accuracy_tests::exhaustive_ln_1p_unit`); `ln_1p_unit(e) = e` rounded
/// correctly for `e` below `2^-24`. NaN gives NaN. Meaningless outside `[0, 1]`.
#[inline(always)]
pub(crate) fn ln_1p_unit(e: f32) -> f32 {
    let mut q = LN_1P_UNIT_POLY[0];
    for &c in &LN_1P_UNIT_POLY[1..] {
        q = q.mul_add(e, c);
    }
    q.mul_add(e * e, e)
}

/// The coefficients of `Q` in [`ln_1p_unit`], highest degree first.
pub(crate) const LN_1P_UNIT_POLY: [f32; 9] = [
    -3.318_429e-3,
    2.020_439_3e-2,
    -5.766_409_3e-2,
    1.068_052_05e-1,
    -1.535_537_7e-1,
    1.969_539_4e-1,
    -2.495_858_7e-1,
    3.333_051_2e-1,
    -4.999_993e-1,
];

/// `ln(1 + e)` for `e ≥ 0`, given `u`, a rounded sum equal to `1 + e` up to a few ulp (such
/// as a softmax denominator summed in another order), and `1/u`: `ln u + (e − (u − 1))/u`.
/// Used where `e` can exceed 1, beyond [`ln_1p_unit`]'s interval.
#[inline(always)]
pub(crate) fn ln_1p_recip(e: f32, u: f32, inv_u: f32) -> f32 {
    let c = e - (u - 1.0);
    // `u ≥ 1` is normal: no subnormal scaling needed.
    ln_scaled(u, 0) + c * inv_u
}
