//! `ln x` and `ln(1 + x)`: exponent extraction and Cephes' `logf` polynomial.

/// `√½`; the mantissa is reduced to `[√½, √2)` so `f = m − 1` stays small on both sides.
const SQRT_HALF_BITS: i32 = 0x3f35_04f3;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// `2^23`, used to bring subnormal inputs into the normal range.
const TWO_POW_23: f32 = 8_388_608.0;

/// `ln x` for finite `x > 0` (normal or subnormal); meaningless elsewhere.
#[inline(always)]
pub(super) fn ln_positive(x: f32) -> f32 {
    let subnormal = x < f32::MIN_POSITIVE;
    let xs = if subnormal { x * TWO_POW_23 } else { x };
    ln_scaled(xs, if subnormal { -23 } else { 0 })
}

/// `ln(x) + e_bias·ln 2` for finite normal `x > 0`.
///
/// `x = 2^e·m` with `m ∈ [√½, √2)`; `ln m = ln(1 + f) ≈ f − f²/2 + f³·P(f)` (Cephes `logf`),
/// plus `e·ln 2` split in two parts so the sum is accurate near `x = 1` and for large `e`.
#[inline(always)]
pub(super) fn ln_scaled(xs: f32, e_bias: i32) -> f32 {
    let ix = (xs.to_bits() as i32).wrapping_sub(SQRT_HALF_BITS);
    let e = (ix >> 23).wrapping_add(e_bias);
    let m = f32::from_bits(((ix & 0x007f_ffff).wrapping_add(SQRT_HALF_BITS)) as u32);
    let f = m - 1.0;
    let ef = e as f32;
    let z = f * f;
    let mut p: f32 = 7.037_683_6e-2;
    p = p.mul_add(f, -1.151_461e-1);
    p = p.mul_add(f, 1.167_699_9e-1);
    p = p.mul_add(f, -1.242_014_1e-1);
    p = p.mul_add(f, 1.424_932_3e-1);
    p = p.mul_add(f, -1.666_805_8e-1);
    p = p.mul_add(f, 2.000_071_4e-1);
    p = p.mul_add(f, -2.499_999_4e-1);
    p = p.mul_add(f, 3.333_333e-1);
    let y = z.mul_add(-0.5, (f * z).mul_add(p, ef * LN2_LO));
    ef.mul_add(LN2_HI, f + y)
}

/// `√2` rounded down to `f32`: the mantissa reduction of [`ln_scaled`] moves `x` to
/// `[√½, √2)` by halving exactly the `x ≥ SQRT_2_BITS` of `[1, 2]`.
const SQRT_2_BITS: u32 = 0x3fb5_04f3;

/// [`ln_scaled`]`(u, 0)` for `u ∈ [1, 2]`, bit for bit, without the integer exponent split:
/// there the exponent is 0 or 1, so the reduction is one compare and an exact halving
/// (three vector operations instead of five, in loops that are bound by these operations).
#[inline(always)]
pub(super) fn ln_one_to_two(u: f32) -> f32 {
    let big = u >= f32::from_bits(SQRT_2_BITS);
    let m = if big { 0.5 * u } else { u };
    let f = m - 1.0;
    let z = f * f;
    let mut p: f32 = 7.037_683_6e-2;
    p = p.mul_add(f, -1.151_461e-1);
    p = p.mul_add(f, 1.167_699_9e-1);
    p = p.mul_add(f, -1.242_014_1e-1);
    p = p.mul_add(f, 1.424_932_3e-1);
    p = p.mul_add(f, -1.666_805_8e-1);
    p = p.mul_add(f, 2.000_071_4e-1);
    p = p.mul_add(f, -2.499_999_4e-1);
    p = p.mul_add(f, 3.333_333e-1);
    // `e·LN2_LO` and `e·LN2_HI + s` of `ln_scaled` with `e ∈ {0, 1}`: the same roundings.
    let lo = if big { LN2_LO } else { 0.0 };
    let hi = if big { LN2_HI } else { 0.0 };
    let y = z.mul_add(-0.5, (f * z).mul_add(p, lo));
    hi + (f + y)
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

/// `ln(1 + e)` for `e ∈ [0, 1]` (or NaN): [`ln_1p`] without the special cases, for
/// `softplus` and kernels that have `e = e^{-|x|}` at hand. Writes the correction as
/// `c · (1/u)` so that `1/u = 1/(1 + e^{-|x|})` is shared with `sigmoid` when both are
/// inlined into one loop. Same accuracy as [`ln_1p`] on `[0, 1]` (at most 2 ulp).
#[inline(always)]
pub(crate) fn ln_1p_unit(e: f32) -> f32 {
    let u = 1.0 + e;
    ln_1p_unit_recip(e, u, 1.0 / u)
}

/// [`ln_1p_unit`] with `u = fl(1 + e)` and `1/u` supplied by a kernel that gets `1/u` from a
/// division it shares with other quantities. The correction `c/u` is below `2^-24`, so a
/// `1/u` a few ulp off moves the result by far less than an ulp.
#[inline(always)]
pub(crate) fn ln_1p_unit_recip(e: f32, u: f32, inv_u: f32) -> f32 {
    let c = e - (u - 1.0);
    ln_one_to_two(u) + c * inv_u
}

/// `ln(1 + e)` for `e ≥ 0`, given `u`, a rounded sum equal to `1 + e` up to a few ulp (such
/// as a softmax denominator summed in another order), and `1/u`: `ln u + (e − (u − 1))/u`.
/// The same as [`ln_1p_unit_recip`] but for any `u ≥ 1`, not only `[1, 2]`.
#[inline(always)]
pub(crate) fn ln_1p_recip(e: f32, u: f32, inv_u: f32) -> f32 {
    let c = e - (u - 1.0);
    // `u ≥ 1` is normal: no subnormal scaling needed.
    ln_scaled(u, 0) + c * inv_u
}
