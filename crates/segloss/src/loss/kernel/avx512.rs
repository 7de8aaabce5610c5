//! What the explicit AVX-512 kernels ([`super::softmax_avx512`], [`super::sigmoid_avx512`])
//! share: CPU detection, broadcasts, the full-or-masked loads and stores of a block, and the
//! pairwise fold of a vector's lanes.

#[cfg(test)]
use super::LANES;
use crate::math::EXP_POLY;
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

/// The 16 floats at `p` in the lanes of `live`, `0` in the others : one unmasked load for a full block
/// (`live` all ones, a constant where the block loops call it, so the choice folds away).
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
