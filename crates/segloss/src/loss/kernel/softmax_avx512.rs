//! Pass 1 of the softmax kernels in explicit AVX-512, for cross-entropy and the Dice-type
//! sums: the hottest loop of the multi-class losses, written with intrinsics because the
//! compiler's vectorisation of [`super::softmax`]'s lane loops leaves performance behind.
//!
//! It computes bit for bit what `softmax::unit_body` computes for the same call (the
//! portable path checks it: `tests/loss_dispatch.rs`), operation by operation, with three
//! differences of form only:
//! - masked sums (`a + sel(k, v, 0)`) are masked adds, one instruction where LLVM emitted a
//!   masked move and an add; equal because these sums start at `+0` and never reach `−0`;
//! - the `2^n` scaling of `e^x` is one `vscalefps`, which rounds `y·2^n` once, as the two
//!   exact exponent-field products and the final rounding product of `math::exp_neg` do;
//! - the sums stay in registers (LLVM kept the per-class sums of the lane loops on the
//!   stack, a load and a store each per block).
//!
//! Measured on the development VM against the lane loops alone (`scripts/ab-bench.sh`,
//! 2×4×96³, forward and backward, two sets of 6 interleaved rounds, fastest and median
//! call): softmax Dice 1.02–1.21×, Dice+CE 1.04–1.15×. Cross-entropy's own gradient, written
//! here the same way, measured 0.87–0.96× and stays with the lane loops
//! (`docs/kernel-performance.md`).
//!
//! It covers kinds 0 (no pixel term) and 1 (cross-entropy) with a constant class count
//! (2 to 8), without per-pixel losses and, for cross-entropy alone, without a gradient
//! (that gradient is written in the same pass, by the portable code).

use super::softmax::{SoftmaxCtx, SoftmaxOut};
use super::{FOLD, LANES, PIXEL_CHUNK};
use crate::math::{EXP_LO, EXP_POLY, LN_POLY, LN2_HI, LN2_LO, LOG2_E, ROUND_MAGIC, SQRT_HALF_BITS};
use std::arch::x86_64::*;

/// Whether this CPU runs [`unit`].
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma")
}

/// `v` in all lanes.
#[inline(always)]
fn splat(v: f32) -> __m512 {
    // SAFETY: inlined into this module's functions, which all enable AVX-512F.
    unsafe { _mm512_set1_ps(v) }
}

/// Sum of the lanes in `f64`, pairwise, and zeroes them: `super::fold` on a vector (its
/// halvings, lane `l` with `l + 8`, `l + 4`, `l + 2`, `l + 1`, as vector adds).
#[inline]
#[target_feature(enable = "avx512f")]
fn fold_vec(v: &mut __m512) -> f64 {
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

/// `math::exp_neg`, bit for bit (see the module docs for the scaling).
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn exp_neg(x: __m512) -> __m512 {
    // `max(−104, x)` keeps a NaN `x`, as `math::exp_neg`'s compare-and-select does.
    let x = _mm512_max_ps(splat(EXP_LO), x);
    let shifted = _mm512_fmadd_ps(x, splat(LOG2_E), splat(ROUND_MAGIC));
    let nf = _mm512_sub_ps(shifted, splat(ROUND_MAGIC));
    let r = _mm512_fnmadd_ps(nf, splat(LN2_HI), x);
    let r = _mm512_fnmadd_ps(nf, splat(LN2_LO), r);
    let r2 = _mm512_mul_ps(r, r);
    let mut p = splat(EXP_POLY[0]);
    for &c in &EXP_POLY[1..] {
        p = _mm512_fmadd_ps(p, r, splat(c));
    }
    let y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, r2), r), splat(1.0));
    _mm512_scalef_ps(y, nf)
}

/// `math::ln_1p_recip(e, u, inv)`, bit for bit: `ln u + (e − (u − 1))·inv` for `u ≥ 1`.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn ln_1p_recip(e: __m512, u: __m512, inv: __m512) -> __m512 {
    let ix = _mm512_sub_epi32(_mm512_castps_si512(u), _mm512_set1_epi32(SQRT_HALF_BITS));
    let ex = _mm512_srai_epi32::<23>(ix);
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
    let ln = _mm512_fmadd_ps(ef, splat(LN2_HI), _mm512_add_ps(f, y));
    let c = _mm512_sub_ps(e, _mm512_sub_ps(u, splat(1.0)));
    _mm512_add_ps(ln, _mm512_mul_ps(c, inv))
}

/// Adds the lanes of the unit's accumulators (loss, weight, count, and the per-class sums
/// when `sums` is not empty) to `out` and `sums`, and zeroes them.
#[inline]
#[target_feature(enable = "avx512f")]
fn fold_all<const NC: usize>(
    out: &mut SoftmaxOut,
    sums: &mut [[f64; 3]],
    [l, w, n]: [&mut __m512; 3],
    sacc: &mut [[__m512; 3]; NC],
) {
    out.loss += fold_vec(l);
    out.wsum += fold_vec(w);
    out.count += fold_vec(n);
    for (sa, su) in sacc.iter_mut().zip(sums.iter_mut()) {
        for i in 0..3 {
            su[i] += fold_vec(&mut sa[i]);
        }
    }
}

/// Pass 1 over pixels `s0..s1` of one image for a constant class count `NC` (2 to 8) and
/// pixel kind `KIND` 0 or 1: the same contract and results as `softmax::unit_body` with
/// no per-pixel losses, and a gradient only with [`SoftmaxCtx::store_p`].
///
/// Callers outside this target-feature context check [`available`] first.
#[target_feature(enable = "avx512f,fma")]
pub(super) fn unit<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    mut grads: Option<&mut [&mut [f32]]>,
) -> SoftmaxOut {
    debug_assert!(KIND <= 1 && (2..=8).contains(&NC) && ctx.classes == NC);
    debug_assert!(grads.is_none() || ctx.store_p);
    let s = ctx.spatial;
    let t = super::softmax::Terms::of(ctx, NC);
    let mut wts = [0f32; NC];
    wts.copy_from_slice(&t.wts[..NC]);
    let keep = 1.0 - t.ce_eps;
    let mut out = SoftmaxOut::default();
    let mut sums = vec![[0f64; 3]; if ctx.want_sums { NC } else { 0 }];
    let zero = _mm512_setzero_ps();
    let (mut acc_loss, mut acc_w, mut acc_n, mut acc_bad) = (zero, zero, zero, zero);
    let mut sacc = [[zero; 3]; NC];

    let mut k = 0usize;
    let mut b = s0;
    while b < s1 {
        let len = (s1 - b).min(LANES);
        let off = b - s0;
        // All lanes of a full block; the first `len` of the tail (its other lanes read as 0,
        // like the portable code's zero padding, and their label is −1 there).
        let live: __mmask16 = if len == LANES { !0 } else { (1u16 << len) - 1 };
        let mut cls_lanes = [-1i32; LANES];
        if let Ok(src) = <&[i32; LANES]>::try_from(&cls_buf[off..off + LANES]) {
            cls_lanes = *src;
        }
        // SAFETY: `cls_lanes` holds 16 `i32`.
        let cls = unsafe { _mm512_loadu_si512(cls_lanes.as_ptr().cast()) };
        let valid = _mm512_cmpge_epi32_mask(cls, _mm512_setzero_si512());
        let vf = _mm512_maskz_mov_ps(valid, splat(1.0));
        let mut e = [zero; NC];
        for (c, ec) in e.iter_mut().enumerate() {
            let src = &x[c * s + b..c * s + b + len];
            // SAFETY: `src` holds `len` floats and the mask reads only the first `len`.
            *ec = unsafe { _mm512_maskz_loadu_ps(live, src.as_ptr()) };
        }
        let mut m = e[0];
        for ec in e.iter().skip(1) {
            // `ec > m ? ec : m`, the portable code's select.
            m = _mm512_max_ps(*ec, m);
        }
        let (mut xy, mut z, mut below, mut ties) = (zero, zero, zero, zero);
        let (mut swd, mut wy) = (zero, zero);
        let mut hits = [0 as __mmask16; NC];
        for (c, ec) in e.iter_mut().enumerate() {
            let d = _mm512_sub_ps(*ec, m);
            let hit = _mm512_cmpeq_epi32_mask(cls, _mm512_set1_epi32(c as i32));
            hits[c] = hit;
            acc_bad = _mm512_fmadd_ps(d, zero, acc_bad);
            let ex = exp_neg(d);
            if KIND == 1 {
                xy = _mm512_mask_add_ps(xy, hit, xy, d);
                swd = _mm512_fmadd_ps(splat(wts[c]), d, swd);
                wy = _mm512_mask_add_ps(wy, hit, wy, splat(wts[c]));
            }
            z = _mm512_add_ps(z, ex);
            let top = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(d, zero);
            below = _mm512_mask_add_ps(below, !top, below, ex);
            ties = _mm512_mask_add_ps(ties, top, ties, splat(1.0));
            *ec = ex;
        }
        let inv = _mm512_div_ps(splat(1.0), z);
        let lnz = ln_1p_recip(
            _mm512_add_ps(_mm512_sub_ps(ties, splat(1.0)), below),
            z,
            inv,
        );
        for ec in e.iter_mut() {
            *ec = _mm512_mul_ps(*ec, inv);
        }
        if KIND == 1 {
            let q = _mm512_add_ps(
                _mm512_mul_ps(splat(keep), wy),
                _mm512_mul_ps(_mm512_mul_ps(vf, splat(t.k_eps)), splat(t.ce_wsum)),
            );
            let lo = _mm512_sub_ps(
                _mm512_sub_ps(
                    _mm512_mul_ps(q, lnz),
                    _mm512_mul_ps(_mm512_mul_ps(splat(keep), wy), xy),
                ),
                _mm512_mul_ps(_mm512_mul_ps(vf, splat(t.k_eps)), swd),
            );
            acc_loss = _mm512_add_ps(acc_loss, lo);
            acc_w = _mm512_add_ps(acc_w, wy);
        }
        acc_n = _mm512_add_ps(acc_n, vf);
        if ctx.want_sums {
            for ((p, sa), &hit) in e.iter().zip(sacc.iter_mut()).zip(&hits) {
                sa[0] = _mm512_mask_add_ps(sa[0], hit, sa[0], *p);
                // `p·p` or `p·1` added where the label counts: the portable
                // `(vf·p)·(p or 1) + a`, whose product is 0 elsewhere.
                sa[1] = if t.sq {
                    _mm512_mask3_fmadd_ps(*p, *p, sa[1], valid)
                } else {
                    _mm512_mask_add_ps(sa[1], valid, sa[1], *p)
                };
                sa[2] = _mm512_mask_add_ps(sa[2], hit, sa[2], splat(1.0));
            }
        }
        if let Some(gs) = grads.as_deref_mut() {
            for (g, p) in gs.iter_mut().zip(&e) {
                let dst = &mut g[off..off + len];
                // SAFETY: `dst` holds `len` floats and the mask writes only the first `len`.
                unsafe { _mm512_mask_storeu_ps(dst.as_mut_ptr(), live, *p) };
            }
        }
        if len == LANES && k % FOLD == FOLD - 1 {
            fold_all(
                &mut out,
                &mut sums,
                [&mut acc_loss, &mut acc_w, &mut acc_n],
                &mut sacc,
            );
        }
        k += 1;
        b += len;
    }
    fold_all(
        &mut out,
        &mut sums,
        [&mut acc_loss, &mut acc_w, &mut acc_n],
        &mut sacc,
    );
    out.bad |= ctx.check && fold_vec(&mut acc_bad).is_nan();
    out.sums = sums;
    out
}
