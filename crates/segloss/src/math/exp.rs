//! `e^x` by Cody–Waite range reduction and a degree-7 polynomial (Cephes `expf`).

/// Below this `e^x` rounds to `0` in `f32` (`e^-104 ≈ 6.8e-46` is under half the smallest
/// subnormal, `2^-149 ≈ 1.4e-45`); clamping here keeps `n` in range for the scaling below.
pub(crate) const EXP_LO: f32 = -104.0;
/// Above this `e^x` overflows `f32` (`e^88.73 > f32::MAX`); clamping keeps `n ≤ 129`.
const EXP_HI: f32 = 89.0;
pub(crate) const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// `ln 2 = LN2_HI + LN2_LO`; `LN2_HI` has few mantissa bits, so `n·LN2_HI` is exact for
/// `|n| ≤ 2^8` and the reduction `x − n·ln 2` loses nothing (Cody–Waite).
pub(crate) const LN2_HI: f32 = 0.693_359_4;
pub(crate) const LN2_LO: f32 = -2.121_944_4e-4;
/// `1.5·2^23`: adding it rounds a float of magnitude below `2^22` to the nearest integer
/// (ties to even), which then sits in the low mantissa bits. This avoids `round()`, which
/// is a library call without SSE4.1, and a float-to-int conversion.
pub(crate) const ROUND_MAGIC: f32 = 12_582_912.0;
/// `ROUND_MAGIC + 192`, the rounding constant of the non-positive paths ([`exp_neg`],
/// [`exp_minus`]): adding it rounds exactly as [`ROUND_MAGIC`] does (it is even, so ties
/// still go to an even `n`, and its ulp is still 1), and the low nine bits of the sum are
/// then `n + 192`, so shifting the sum's bit pattern left by 23 leaves exactly the biased
/// exponent field of `2^{n+65}` (the high bits of `ROUND_MAGIC`'s pattern fall off the top,
/// and `n + 192 ∈ [42, 192]`): the scaling needs no integer subtraction.
pub(crate) const ROUND_MAGIC_NEG: f32 = 12_583_104.0;

/// `e^x`.
///
/// Algorithm: `x = n·ln 2 + r` with `n = round(x·log2 e)` and `|r| ≤ ln 2 / 2`;
/// `e^r ≈ 1 + r + r²·P(r)` with Cephes' `expf` minimax polynomial; the result is scaled by
/// `2^n` through two exponent-field multiplications, so subnormal results are rounded once
/// and overflow gives `+∞` exactly where `e^x > f32::MAX`.
///
/// Accuracy: at most 1 ulp from the exact value over all finite `f32` inputs, measured
/// exhaustively (`math::accuracy_tests::exhaustive_exp`), subnormal results included.
///
/// Special values: `e^-∞ = 0`, `e^+∞ = +∞`, NaN in gives NaN out. Branch-free (the clamps and
/// the scaling compile to selects and integer ops), so loops calling it vectorise.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // Written as compare-and-select (not `f32::clamp`) so NaN passes through and each bound
    // is one `max`/`min` instruction.
    let x = if x < EXP_LO { EXP_LO } else { x };
    let x = if x > EXP_HI { EXP_HI } else { x };
    let (shifted, y) = reduce(x, ROUND_MAGIC);
    let n = (shifted.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    // `n ∈ [-150, 129]`: split it so each factor `2^n1`, `2^n2` is a normal float.
    let n1 = n >> 1;
    let n2 = n.wrapping_sub(n1);
    y * pow2i(n1) * pow2i(n2)
}

/// `e^x` for `x ≤ 0` (and NaN), bit for bit the value of [`exp`], in fewer operations.
///
/// Every exponential in the loss kernels has a non-positive argument (`e^{-|x|}`,
/// `e^{x_c − max}`, `q^γ` with `q ≤ 1`), so `n ≤ 0` and the two-factor scaling of [`exp`]
/// can be one exponent-field factor `2^{n+65}` (normal for `n ∈ [-150, 62]`, and read
/// straight from the rounding sum's bits, see [`ROUND_MAGIC_NEG`]) followed by the constant
/// `2^-65`: `y·2^{n+65}` is exact and the final product rounds once, as in [`exp`], and the
/// upper clamp is not needed. The loops are bound by these operations; this is five vector
/// operations fewer per call.
///
/// Accuracy and special values: those of [`exp`] for every `x ≤ 0` (checked bit for bit by
/// `math::accuracy_tests`); also exact up to `x ≈ 43`, and meaningless above.
#[inline(always)]
pub(crate) fn exp_neg(x: f32) -> f32 {
    let x = if x < EXP_LO { EXP_LO } else { x };
    exp_neg_clamped(x)
}

/// `e^{-a}` for `a ≥ 0` (or NaN), bit for bit `exp_neg(-a)`: the logistic family's
/// `e^{-|x|}`.
///
/// Written for `a`, with no `-a` anywhere: the clamp `a > 104 → 104` is one `min`
/// instruction, and the reduction takes the negation into its FMAs. `exp_neg(-|x|)` costs
/// three vector operations more: LLVM turns its clamp of the negated value into a compare
/// of `|x|`, a blend, and the negation itself. Same values, operation by operation:
/// `-min(a, 104) = max(-a, -104)`, `fl(-a·log2 e + M)` is `fl(a·(-log2 e) + M)`, and
/// `fl(-n·c - a) = -fl(n·c + a)` (rounding to nearest is symmetric).
///
/// Accuracy and special values: those of [`exp_neg`] at `-a` (checked bit for bit by
/// `math::accuracy_tests`).
#[inline(always)]
pub(crate) fn exp_minus(a: f32) -> f32 {
    let a = if a > -EXP_LO { -EXP_LO } else { a };
    let shifted = a.mul_add(-LOG2_E, ROUND_MAGIC_NEG);
    let nf = shifted - ROUND_MAGIC_NEG;
    let r = -nf.mul_add(LN2_LO, nf.mul_add(LN2_HI, a));
    scale_neg(shifted, exp_reduced(r))
}

/// [`exp_neg`] after its clamp: for `x ≥ EXP_LO` (meaningful up to 43) or NaN.
#[inline(always)]
fn exp_neg_clamped(x: f32) -> f32 {
    let (shifted, y) = reduce(x, ROUND_MAGIC_NEG);
    scale_neg(shifted, y)
}

/// `y·2^n` for `n ∈ [-150, 0]` (the `n` of `shifted`, reduced with [`ROUND_MAGIC_NEG`]),
/// rounded once: `y·2^{n+65}` is exact (normal for `y ∈ [½, 2]`) and the product with the
/// constant `2^-65` rounds once, subnormal results included.
#[inline(always)]
fn scale_neg(shifted: f32, y: f32) -> f32 {
    // The exponent field of `2^{n+65}`, `n + 192`, is the low nine bits of the pattern.
    y * f32::from_bits(shifted.to_bits() << 23) * TWO_POW_M65
}

/// The part of [`exp`] and [`exp_neg`] before the scaling by `2^n`, for a clamped `x`:
/// `(x·log2 e + magic, e^r)`, where `n = round(x·log2 e)` sits in the low mantissa bits
/// of the first value (offset by `magic − ROUND_MAGIC`) and `r = x − n·ln 2`.
#[inline(always)]
fn reduce(x: f32, magic: f32) -> (f32, f32) {
    let shifted = x.mul_add(LOG2_E, magic);
    let nf = shifted - magic;
    let r = (-nf).mul_add(LN2_LO, (-nf).mul_add(LN2_HI, x));
    (shifted, exp_reduced(r))
}

/// The coefficients of `P` in [`exp_reduced`], highest degree first (Cephes `expf`; its
/// last, 5.0000001201e-1, rounds to 0.5 in `f32`).
pub(crate) const EXP_POLY: [f32; 6] = [
    1.987_569_2e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];

/// `e^r` for the reduced `|r| ≤ ln 2 / 2`: `1 + r + r²·P(r)` (Cephes `expf`).
#[inline(always)]
fn exp_reduced(r: f32) -> f32 {
    let r2 = r * r;
    let mut p = EXP_POLY[0];
    for &c in &EXP_POLY[1..] {
        p = p.mul_add(r, c);
    }
    // Not `p.mul_add(r2, r)`: with that single rounding some inputs land 1.01 ulp off (the
    // exhaustive test found them); with two roundings every input stays within 1 ulp.
    p * r2 + r + 1.0
}

/// `2^-65`, exact.
const TWO_POW_M65: f32 = f32::from_bits(0x1f00_0000);

/// `2^n` for `n ∈ [-126, 127]`, built in the exponent field.
#[inline(always)]
fn pow2i(n: i32) -> f32 {
    f32::from_bits((n.wrapping_add(127) << 23) as u32)
}
