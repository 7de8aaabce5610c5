//! What the explicit AVX-512 kernels ([`super::softmax_avx512`], [`super::sigmoid_avx512`])
//! share: CPU detection, broadcasts, the full-or-masked loads and stores of a block, the
//! pairwise fold of a vector's lanes, and the exponentials and logarithms of `math`, bit
//! for bit.

#[cfg(test)]
use super::LANES;
use crate::math::{EXP_LO, EXP_POLY, LN_POLY, LN2_HI, LN2_LO, LOG2_E, ROUND_MAGIC, SQRT_HALF_BITS};
use std::arch::x86_64::*;

/// Whether this CPU runs the explicit AVX-512 kernels (AVX-512F and FMA).
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma")
}

/// `v` in all lanes.
#[inline(always)]
pub(super) fn splat(v: f32) -> __m512 {
    // SAFETY: inlined into the explicit kernels, which all enable AVX-512F.
    unsafe { _mm512_set1_ps(v) }
}

/// The 16 floats at `p` in the lanes of `live`, `0` in the others: one unmasked load for a
/// full block (`live` all ones, a constant where the block loops call it, so the choice
/// folds away).
///
/// # Safety
/// The lanes of `live` lie in one allocation.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn load_ps(p: *const f32, live: __mmask16) -> __m512 {
    // SAFETY: the caller's contract; masked-off lanes are not read.
    unsafe {
        if live == !0 {
            _mm512_loadu_ps(p)
        } else {
            _mm512_maskz_loadu_ps(live, p)
        }
    }
}

/// Stores the lanes of `live` of `v` at `p` : one unmasked load for a full block
/// (`live` all ones, a constant where the block loops call it, so the choice folds away).
///
/// # Safety
/// The lanes of `live` lie in one allocation, writable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn store_ps(p: *mut f32, live: __mmask16, v: __m512) {
    // SAFETY: the caller's contract; masked-off lanes are not written.
    unsafe {
        if live == !0 {
            _mm512_storeu_ps(p, v);
        } else {
            _mm512_mask_storeu_ps(p, live, v);
        }
    }
}

/// Sum of the lanes in `f64`, pairwise, and zeroes them: `super::fold` on a vector (its
/// halvings, lane `l` with `l + 8`, `l + 4`, `l + 2`, `l + 1`, as vector adds).
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn fold_vec(v: &mut __m512) -> f64 {
    let lo = _mm512_cvtps_pd(_mm512_castps512_ps256(*v));
    let hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(
        _mm512_castps_pd(*v),
    )));
    *v = _mm512_setzero_ps();
    let s8 = _mm512_add_pd(lo, hi);
    let s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_extractf64x4_pd::<1>(s8));
    let s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd::<1>(s4));
    _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)))
}

/// [`fold_vec`] of the lanes `a`, for the tests.
#[cfg(test)]
#[target_feature(enable = "avx512f")]
pub(super) fn fold_lanes(a: &[f32; LANES]) -> f64 {
    // SAFETY: `a` holds 16 `f32`.
    let mut v = unsafe { _mm512_loadu_ps(a.as_ptr()) };
    fold_vec(&mut v)
}

/// `e^r·2^n` for the reduced `|r| ≤ ln 2 / 2` and the integer `nf = n` of an exponential's
/// range reduction: `math::exp`'s `1 + r + r²·P(r)` (two roundings at the end, as there),
/// then one `vscalefps`, which rounds `y·2^n` once, as the portable exponent-field scaling
/// does.
#[inline]
#[target_feature(enable = "avx512f,fma")]
pub(super) fn exp_reduced_scaled(r: __m512, nf: __m512) -> __m512 {
    let r2 = _mm512_mul_ps(r, r);
    let mut p = splat(EXP_POLY[0]);
    for &c in &EXP_POLY[1..] {
        p = _mm512_fmadd_ps(p, r, splat(c));
    }
    let y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, r2), r), splat(1.0));
    _mm512_scalef_ps(y, nf)
}

/// `math::exp_neg`, bit for bit (the `2^n` scaling as in [`exp_reduced_scaled`]).
#[inline]
#[target_feature(enable = "avx512f,fma")]
pub(super) fn exp_neg(x: __m512) -> __m512 {
    // `max(−104, x)` keeps a NaN `x`, as `math::exp_neg`'s compare-and-select does.
    let x = _mm512_max_ps(splat(EXP_LO), x);
    let shifted = _mm512_fmadd_ps(x, splat(LOG2_E), splat(ROUND_MAGIC));
    let nf = _mm512_sub_ps(shifted, splat(ROUND_MAGIC));
    let r = _mm512_fnmadd_ps(nf, splat(LN2_HI), x);
    let r = _mm512_fnmadd_ps(nf, splat(LN2_LO), r);
    exp_reduced_scaled(r, nf)
}

/// `math::log`'s `ln_scaled(xs, e_bias)`, bit for bit: `ln xs + e_bias·ln 2` for a finite
/// normal `xs > 0`.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn ln_scaled(xs: __m512, e_bias: __m512i) -> __m512 {
    let ix = _mm512_sub_epi32(_mm512_castps_si512(xs), _mm512_set1_epi32(SQRT_HALF_BITS));
    let ex = _mm512_add_epi32(_mm512_srai_epi32::<23>(ix), e_bias);
    let m = _mm512_castsi512_ps(_mm512_add_epi32(
        _mm512_and_si512(ix, _mm512_set1_epi32(0x007f_ffff)),
        _mm512_set1_epi32(SQRT_HALF_BITS),
    ));
    let f = _mm512_sub_ps(m, splat(1.0));
    let ef = _mm512_cvtepi32_ps(ex);
    let z = _mm512_mul_ps(f, f);
    let mut p = splat(LN_POLY[0]);
    for &c in &LN_POLY[1..] {
        p = _mm512_fmadd_ps(p, f, splat(c));
    }
    let inner = _mm512_fmadd_ps(_mm512_mul_ps(f, z), p, _mm512_mul_ps(ef, splat(LN2_LO)));
    let y = _mm512_fmadd_ps(z, splat(-0.5), inner);
    _mm512_fmadd_ps(ef, splat(LN2_HI), _mm512_add_ps(f, y))
}

/// `ln x` for a finite normal `x > 0`, bit for bit `math::ln` there (where it is
/// `ln_scaled(x, 0)`: no subnormal scaling, no special value).
#[inline]
#[target_feature(enable = "avx512f,fma")]
pub(super) fn ln_normal(x: __m512) -> __m512 {
    ln_scaled(x, _mm512_setzero_si512())
}

/// `math::ln`, bit for bit, for every input: subnormals scaled by `2^23` first, `ln 0 = −∞`,
/// `ln ∞ = ∞`, NaN for `x < 0` and NaN.
#[inline]
#[target_feature(enable = "avx512f,fma")]
pub(super) fn ln(x: __m512) -> __m512 {
    let sub = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, splat(f32::MIN_POSITIVE));
    // `2^23`, exact: it brings a subnormal into the normal range.
    let xs = _mm512_mask_mul_ps(x, sub, x, splat(8_388_608.0));
    let y = ln_scaled(xs, _mm512_maskz_mov_epi32(sub, _mm512_set1_epi32(-23)));
    let inf = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(x, splat(f32::INFINITY));
    let y = _mm512_mask_blend_ps(inf, y, splat(f32::INFINITY));
    let zero = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(x, _mm512_setzero_ps());
    let y = _mm512_mask_blend_ps(zero, y, splat(f32::NEG_INFINITY));
    // Ordered `≥`: false for NaN, as the portable `x >= 0.0`.
    let ok = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x, _mm512_setzero_ps());
    _mm512_mask_blend_ps(ok, splat(f32::NAN), y)
}
