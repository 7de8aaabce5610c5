//! The binary sigmoid passes in explicit AVX-512, for the pixel terms of [`Term`]: the
//! focal loss with an integer `γ ≤ 4` ([`IntFocal`]) or a real `γ` ([`RealFocal`]), BCE
//! ([`Bce`]) and none ([`Plain`], the pure Dice-type losses). The pixel loss alone
//! ([`pixel`]), pass 1 ([`pass12`] without a second unit), pass 2 ([`pass2`]), and one
//! image's pass 1 beside the previous image's pass 2 ([`pass12`]), the hot loop of the
//! sigmoid Dice-type losses.
//!
//! Each computes bit for bit what `sigmoid::pixel_unit_body`, `pass1_unit_body`,
//! `pass2_unit_body` and `pass12_unit_body` compute for the matching `SigmoidTerm`
//! (`Focal<FocalInt<K>>`, `Focal<FocalReal>`, `BceTerm`, `NoTerm`; the portable path checks
//! it: `tests/loss_dispatch.rs`), operation by operation, with these differences of form
//! only:
//! - the `2^n` scaling of `e^{-|x|}` is one `vscalefps`, which rounds `y·2^n` once, as the
//!   exact exponent-field product and the final rounding product of `math::exp_minus` do
//!   (two vector operations fewer per exponential, and a Dice-type element has two);
//! - the full blocks run with unchecked loads and stores (the lengths are asserted once per
//!   call), and the tail block once, masked: masked sums and a masked minimum leave the
//!   padding lanes as the portable code leaves its untouched lanes.
//!
//! Each full block prefetches every input 256 elements ahead ([`super::prefetch`]), and the
//! gradient line it is about to store for writing: 1.2× on Dice+focal and focal.
//!
//! The portable loop of binary Dice+focal had no spills and little scalar overhead (114
//! instructions per block of each pass, 96 of them vector); this one has 97 (91). Measured
//! on the development VM (`scripts/ab-bench.sh`, 8×1×512², 8 interleaved rounds, fastest
//! and median call): Dice+focal 1.11×/1.14×, focal 1.02×/1.02× (it waits on memory). The
//! other terms, against their lane loops (session 17, 6 rounds): Dice+BCE 1.13×/1.14×, BCE
//! 1.11×/1.10×, Dice 1.06×/1.05×; real `γ = 2.5`: focal 1.25×/1.24×, Dice+focal
//! 1.30×/1.26×.

use super::avx512::{exp_neg, exp_reduced_scaled, fold_vec, ln, load_ps, splat, store_ps};
use super::sigmoid::{Explicit, HUGE, TINY};
use super::{FOLD, LANES, prefetch};
use crate::math::{EXP_LO, LN_1P_UNIT_POLY, LN2_HI, LN2_LO, LOG2_E, ROUND_MAGIC_NEG};
use std::arch::x86_64::*;

/// `math::exp_minus(a)`, bit for bit: `e^{-a}` for `a ≥ 0` (or NaN).
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn exp_minus(a: __m512) -> __m512 {
    // `min(104, a)` keeps a NaN `a` (the second operand), as `math::exp_minus`'s
    // compare-and-select does.
    let a = _mm512_min_ps(splat(-EXP_LO), a);
    let shifted = _mm512_fmadd_ps(a, splat(-LOG2_E), splat(ROUND_MAGIC_NEG));
    let nf = _mm512_sub_ps(shifted, splat(ROUND_MAGIC_NEG));
    // `−(nf·LN2_LO + (nf·LN2_HI + a))`, the last step as one `fnmsub`: `−(u·v) − w` rounded
    // once is `−fl(u·v + w)`.
    let r = _mm512_fmadd_ps(nf, splat(LN2_HI), a);
    let r = _mm512_fnmsub_ps(nf, splat(LN2_LO), r);
    exp_reduced_scaled(r, nf)
}

/// `math::ln_1p_unit(e)`, bit for bit.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn ln_1p_unit(e: __m512) -> __m512 {
    let mut q = splat(LN_1P_UNIT_POLY[0]);
    for &c in &LN_1P_UNIT_POLY[1..] {
        q = _mm512_fmadd_ps(q, e, splat(c));
    }
    _mm512_fmadd_ps(q, _mm512_mul_ps(e, e), e)
}

/// `sigmoid::parts(x)` without the logarithm: `(σ(x), σ(-x), e^{-|x|}, σ(|x|), x ≥ 0)`.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn sigmoid_pair(x: __m512) -> (__m512, __m512, __m512, __m512, __mmask16) {
    let e = exp_minus(_mm512_abs_ps(x));
    let r = _mm512_div_ps(splat(1.0), _mm512_add_ps(splat(1.0), e));
    let er = _mm512_mul_ps(e, r);
    // Ordered `≥`: false for NaN, as the portable `x >= 0.0`.
    let pos = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x, _mm512_setzero_ps());
    (
        _mm512_mask_blend_ps(pos, er, r),
        _mm512_mask_blend_ps(pos, r, er),
        e,
        r,
        pos,
    )
}

/// A pixel term of the explicit passes: the vector form of one `sigmoid::SigmoidTerm`.
pub(super) trait Term: Copy {
    /// `SigmoidTerm::STORE_GRAD`: pass 1 writes the term's gradient, and pass 2 adds to it.
    const STORE: bool;
    /// `SigmoidTerm::LOSS_FLAGS_BAD`: without it the loss sum also gets `x·0 + t·0`.
    const FLAGS_BAD: bool;

    /// The term of `form`, which is this term's variant of [`Explicit`] (the caller matched
    /// on it, or took it from the same `SigmoidTerm`).
    fn of(form: Explicit) -> Self;

    /// `SigmoidTerm::eval`, bit for bit: `(loss, ∂loss/∂x, σ(x))`.
    ///
    /// # Safety
    /// The CPU has AVX-512F and FMA.
    unsafe fn eval(self, x: __m512, t: __m512) -> [__m512; 3];

    /// `∂loss/∂x` of `SigmoidTerm::eval` from `σ(x)` and `σ(−x)` (`a`, `b`), for pass 2 of a
    /// term that did not store it; 0 for the others (pass 2 reads what pass 1 stored, and
    /// [`Plain`] has no gradient).
    ///
    /// # Safety
    /// The CPU has AVX-512F and FMA.
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn grad(self, _x: __m512, _t: __m512, _a: __m512, _b: __m512) -> __m512 {
        _mm512_setzero_ps()
    }

    /// `(σ(x), σ(−x), σ(|x|)σ(−|x|))` as pass 2 needs them: `SigmoidTerm::pq` (the product
    /// of the same two factors as the portable `σ(x)·σ(−x)` of a term that did not store
    /// its gradient).
    ///
    /// # Safety
    /// The CPU has AVX-512F and FMA.
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn sig(self, x: __m512, _t: __m512) -> [__m512; 3] {
        let (p, q, e, r, _) = sigmoid_pair(x);
        [p, q, _mm512_mul_ps(r, _mm512_mul_ps(e, r))]
    }
}

/// `Focal<FocalInt<K>>`: `α_t q^K BCE`, with `α₊ − α₋` and `α₋`.
#[derive(Clone, Copy)]
pub(super) struct IntFocal<const K: u32> {
    da: f32,
    an: f32,
}

impl<const K: u32> Term for IntFocal<K> {
    const STORE: bool = true;
    const FLAGS_BAD: bool = true;

    fn of(form: Explicit) -> Self {
        let Explicit::Focal(_, ap, an) = form else {
            unreachable!("an integer focal term's form is `Explicit::Focal`")
        };
        Self { da: ap - an, an }
    }

    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn eval(self, x: __m512, t: __m512) -> [__m512; 3] {
        let (a, b, e, _, pos) = sigmoid_pair(x);
        let l = ln_1p_unit(e);
        let omt = _mm512_sub_ps(splat(1.0), t);
        let bce = _mm512_fmadd_ps(_mm512_abs_ps(x), _mm512_mask_blend_ps(pos, t, omt), l);
        let tb = _mm512_mul_ps(t, b);
        let q = _mm512_fmadd_ps(omt, a, tb);
        let d = _mm512_fmsub_ps(omt, a, tb);
        let at = _mm512_fmadd_ps(t, splat(self.da), splat(self.an));
        // `w = α_t·q^{K−1}`, the products in the portable order (`1·q` is `q` exactly).
        let mut w = at;
        if K >= 2 {
            let mut qk1 = q;
            let mut k = 2;
            while k < K {
                qk1 = _mm512_mul_ps(qk1, q);
                k += 1;
            }
            w = _mm512_mul_ps(at, qk1);
        }
        if K == 0 {
            return [_mm512_mul_ps(w, bce), _mm512_mul_ps(w, d), a];
        }
        let loss = _mm512_mul_ps(_mm512_mul_ps(w, q), bce);
        let kf = K as f32;
        let c = _mm512_fmadd_ps(t, splat(-2.0 * kf), splat(kf));
        let s = _mm512_mul_ps(_mm512_mul_ps(a, b), bce);
        let grad = _mm512_mul_ps(w, _mm512_fmadd_ps(q, d, _mm512_mul_ps(c, s)));
        [loss, grad, a]
    }
}

/// `Focal<FocalReal>`: `α_t q^γ BCE` for a real `γ`, with `q^γ = exp(γ ln q)` in log space.
#[derive(Clone, Copy)]
pub(super) struct RealFocal {
    gamma: f32,
    ap: f32,
    an: f32,
}

/// `sigmoid::FocalSig`: the focal term's `σ(±x)` through the division it shares with
/// `σσ/q`.
struct FocalSig {
    e: __m512,
    den: __m512,
    big_zero: __mmask16,
    f: __m512,
    inv: __m512,
    r: __m512,
    a: __m512,
    b: __m512,
}

/// `sigmoid::focal_sig`, bit for bit.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn focal_sig(x: __m512, t: __m512) -> FocalSig {
    let e = exp_minus(_mm512_abs_ps(x));
    let u = _mm512_add_ps(splat(1.0), e);
    // Ordered compares: false for NaN, as the portable `>=`, `==` and `<`.
    let pos = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x, _mm512_setzero_ps());
    let omt = _mm512_sub_ps(splat(1.0), t);
    let w_big = _mm512_mask_blend_ps(pos, t, omt);
    let w_small = _mm512_mask_blend_ps(pos, omt, t);
    let den = _mm512_fmadd_ps(w_small, e, w_big);
    let big_zero = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(w_big, _mm512_setzero_ps());
    let tiny = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(den, splat(TINY));
    let f = _mm512_mask_blend_ps(tiny, splat(1.0), splat(HUGE));
    let d = _mm512_mask_blend_ps(big_zero, _mm512_mul_ps(den, f), splat(1.0));
    let inv = _mm512_div_ps(splat(1.0), _mm512_mul_ps(u, d));
    let r = _mm512_mul_ps(d, inv);
    let er = _mm512_mul_ps(e, r);
    FocalSig {
        e,
        den,
        big_zero,
        f,
        inv,
        r,
        a: _mm512_mask_blend_ps(pos, er, r),
        b: _mm512_mask_blend_ps(pos, r, er),
    }
}

impl Term for RealFocal {
    const STORE: bool = true;
    const FLAGS_BAD: bool = true;

    fn of(form: Explicit) -> Self {
        let Explicit::RealFocal(gamma, ap, an) = form else {
            unreachable!("a real-γ focal term's form is `Explicit::RealFocal`")
        };
        Self { gamma, ap, an }
    }

    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn eval(self, x: __m512, t: __m512) -> [__m512; 3] {
        let FocalSig {
            e,
            den,
            big_zero,
            f,
            inv,
            r,
            a,
            b,
        } = focal_sig(x, t);
        let zero = _mm512_setzero_ps();
        let l = ln_1p_unit(e);
        let omt = _mm512_sub_ps(splat(1.0), t);
        // `softplus(±x) = max(±x, 0) + l`, the portable selects on `x > 0` and `x < 0`;
        // `0 − x` is `−x` where it is selected.
        let gt = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, zero);
        let lt = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, zero);
        let sp_pos = _mm512_add_ps(_mm512_maskz_mov_ps(gt, x), l);
        let sp_neg = _mm512_add_ps(_mm512_maskz_mov_ps(lt, _mm512_sub_ps(zero, x)), l);
        let bce = _mm512_fmadd_ps(t, sp_neg, _mm512_mul_ps(omt, sp_pos));
        let ratio = _mm512_mask_blend_ps(big_zero, _mm512_mul_ps(_mm512_mul_ps(e, f), inv), r);
        // `−l + sel(w_big = 0, −|x|, ln den)`: `v − l` is the same rounded sum, and `−|x|`
        // sets the sign bit.
        let neg_abs = _mm512_castsi512_ps(_mm512_or_si512(
            _mm512_castps_si512(x),
            _mm512_set1_epi32(i32::MIN),
        ));
        let lnq = _mm512_sub_ps(_mm512_mask_blend_ps(big_zero, ln(den), neg_abs), l);
        let m = exp_neg(_mm512_mul_ps(splat(self.gamma), lnq));
        let at = _mm512_fmadd_ps(t, splat(self.ap), _mm512_mul_ps(splat(self.an), omt));
        let am = _mm512_mul_ps(at, m);
        let loss = _mm512_mul_ps(am, bce);
        let d = _mm512_fmsub_ps(omt, a, _mm512_mul_ps(t, b));
        // `γ(1 − 2t)·ratio`, the products in the portable order (`2t` exact).
        let omtt = _mm512_sub_ps(splat(1.0), _mm512_mul_ps(splat(2.0), t));
        let c = _mm512_mul_ps(_mm512_mul_ps(splat(self.gamma), omtt), ratio);
        let grad = _mm512_mul_ps(am, _mm512_fmadd_ps(c, bce, d));
        [loss, grad, a]
    }

    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn sig(self, x: __m512, t: __m512) -> [__m512; 3] {
        let s = focal_sig(x, t);
        [s.a, s.b, _mm512_mul_ps(s.r, _mm512_mul_ps(s.e, s.r))]
    }
}

/// `BceTerm`: `pw·t·softplus(−x) + (1 − t)·softplus(x)` with the smoothed target
/// `t(1 − ε) + ε/2`.
#[derive(Clone, Copy)]
pub(super) struct Bce {
    /// `pos_weight`.
    pw: f32,
    /// The smoothing `ε`.
    ls: f32,
}

impl Bce {
    /// `(pw·t', 1 − t')` of the smoothed target `t' = t(1 − ε) + ε/2`, as `BceTerm::eval`
    /// rounds them (`1 − ε` and `ε/2` in `f32` first).
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    fn weights(self, t: __m512) -> (__m512, __m512) {
        let t = _mm512_fmadd_ps(t, splat(1.0 - self.ls), splat(0.5 * self.ls));
        (
            _mm512_mul_ps(splat(self.pw), t),
            _mm512_sub_ps(splat(1.0), t),
        )
    }
}

impl Term for Bce {
    const STORE: bool = false;
    const FLAGS_BAD: bool = true;

    fn of(form: Explicit) -> Self {
        let Explicit::Bce(pw, ls) = form else {
            unreachable!("BCE's form is `Explicit::Bce`")
        };
        Self { pw, ls }
    }

    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn eval(self, x: __m512, t: __m512) -> [__m512; 3] {
        let (a, b, e, _, pos) = sigmoid_pair(x);
        let l = ln_1p_unit(e);
        let (pt, omt) = self.weights(t);
        let side = _mm512_mask_blend_ps(pos, pt, omt);
        let loss = _mm512_fmadd_ps(
            _mm512_abs_ps(x),
            side,
            _mm512_mul_ps(l, _mm512_add_ps(pt, omt)),
        );
        // SAFETY: this function's own target features.
        [loss, unsafe { self.grad(x, t, a, b) }, a]
    }

    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn grad(self, _x: __m512, t: __m512, a: __m512, b: __m512) -> __m512 {
        let (pt, omt) = self.weights(t);
        // `(−pt)·b + omt·a` rounded once: `fnmadd` negates the exact product.
        _mm512_fnmadd_ps(pt, b, _mm512_mul_ps(omt, a))
    }
}

/// `NoTerm`: no pixel term (the pure Dice-type losses): loss and gradient 0.
#[derive(Clone, Copy)]
pub(super) struct Plain;

impl Term for Plain {
    const STORE: bool = false;
    const FLAGS_BAD: bool = false;

    fn of(_form: Explicit) -> Self {
        Self
    }

    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn eval(self, x: __m512, _t: __m512) -> [__m512; 3] {
        let (a, ..) = sigmoid_pair(x);
        [_mm512_setzero_ps(), _mm512_setzero_ps(), a]
    }
}

/// The running state of pass 1: the lanes of `[Σ loss, Σ p t, Σ p (or p²), Σ t (or t²)]`
/// and of the targets' range check (`sigmoid::accumulate`), and the folded `f64` sums.
struct Pass1 {
    acc: [__m512; 4],
    margins: __m512,
    total: [f64; 4],
}

/// One block of pass 1 (`sigmoid::pass1_step`) on the lanes of `live`, at element `i`.
///
/// # Safety
/// `i + 16` (or the last lane of `live`) is within `x` and `t`, and within `g` when `WRITE`.
#[inline]
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn pass1_block<E: Term, const WRITE: bool, const SQ: bool, const SUMS: bool>(
    st: &mut Pass1,
    term: E,
    scale: __m512,
    x: *const f32,
    t: *const f32,
    g: *mut f32,
    i: usize,
    live: __mmask16,
) {
    // SAFETY: the caller's contract.
    let (xv, tv) = unsafe { (load_ps(x.add(i), live), load_ps(t.add(i), live)) };
    // SAFETY: this function's own target features.
    let [lo, d, p] = unsafe { term.eval(xv, tv) };
    let lo = if E::FLAGS_BAD {
        lo
    } else {
        // `sigmoid::flagged`: NaN for a non-finite logit or a NaN target.
        let z = _mm512_setzero_ps();
        _mm512_fmadd_ps(xv, z, _mm512_fmadd_ps(tv, z, lo))
    };
    if WRITE {
        if live == !0 {
            super::prefetch_w(g, i);
        }
        // SAFETY: the caller's contract.
        unsafe { store_ps(g.add(i), live, _mm512_mul_ps(scale, d)) };
    }
    // `t − t²`: its minimum is the range check; a NaN skips the minimum (the loss sum catches
    // it), as the portable compare-and-select does.
    let v = _mm512_fnmadd_ps(tv, tv, tv);
    let m = _mm512_min_ps(v, st.margins);
    if !SUMS {
        // The pixel loss alone (`sigmoid::pixel_unit_body`).
        if live == !0 {
            st.margins = m;
            st.acc[0] = _mm512_add_ps(st.acc[0], lo);
        } else {
            st.margins = _mm512_mask_blend_ps(live, st.margins, m);
            st.acc[0] = _mm512_mask_add_ps(st.acc[0], live, st.acc[0], lo);
        }
        return;
    }
    // `Σ p` and `Σ t` are the portable `fma(p, 1, s)`, which is `p + s` rounded once.
    if live == !0 {
        st.margins = m;
        st.acc[0] = _mm512_add_ps(st.acc[0], lo);
        st.acc[1] = _mm512_fmadd_ps(p, tv, st.acc[1]);
        st.acc[2] = if SQ {
            _mm512_fmadd_ps(p, p, st.acc[2])
        } else {
            _mm512_add_ps(st.acc[2], p)
        };
        st.acc[3] = if SQ {
            _mm512_fmadd_ps(tv, tv, st.acc[3])
        } else {
            _mm512_add_ps(st.acc[3], tv)
        };
    } else {
        st.margins = _mm512_mask_blend_ps(live, st.margins, m);
        st.acc[0] = _mm512_mask_add_ps(st.acc[0], live, st.acc[0], lo);
        st.acc[1] = _mm512_mask3_fmadd_ps(p, tv, st.acc[1], live);
        st.acc[2] = if SQ {
            _mm512_mask3_fmadd_ps(p, p, st.acc[2], live)
        } else {
            _mm512_mask_add_ps(st.acc[2], live, st.acc[2], p)
        };
        st.acc[3] = if SQ {
            _mm512_mask3_fmadd_ps(tv, tv, st.acc[3], live)
        } else {
            _mm512_mask_add_ps(st.acc[3], live, st.acc[3], tv)
        };
    }
}

/// One block of pass 2 (`sigmoid::pass2_step`) on the lanes of `live`, at element `i`:
/// `g = G + (A t + B·(1 or 2p))·σ(|x|)σ(−|x|)`, where `G` is the gradient pass 1 stored
/// (`E::STORE`) or `scale·∂pix/∂x` evaluated here.
///
/// # Safety
/// `i + 16` (or the last lane of `live`) is within `x`, `t` and `g`.
#[inline]
#[target_feature(enable = "avx512f,fma")]
unsafe fn pass2_block<E: Term, const SQ: bool>(
    term: E,
    [ca, cb, scale]: [__m512; 3],
    x: *const f32,
    t: *const f32,
    g: *mut f32,
    i: usize,
    live: __mmask16,
) {
    // SAFETY: the caller's contract.
    let (xv, tv) = unsafe { (load_ps(x.add(i), live), load_ps(t.add(i), live)) };
    // SAFETY: this function's own target features.
    let [p, q, pq] = unsafe { term.sig(xv, tv) };
    let base = if E::STORE {
        // SAFETY: the caller's contract.
        unsafe { load_ps(g.add(i), live) }
    } else {
        // SAFETY: this function's own target features.
        _mm512_mul_ps(scale, unsafe { term.grad(xv, tv, p, q) })
    };
    let b = if SQ {
        _mm512_mul_ps(cb, _mm512_add_ps(p, p))
    } else {
        cb
    };
    let dp = _mm512_fmadd_ps(ca, tv, b);
    // SAFETY: the caller's contract.
    unsafe { store_ps(g.add(i), live, _mm512_fmadd_ps(dp, pq, base)) };
}

/// The mask of the first `n < 16` lanes.
#[inline(always)]
fn tail_mask(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

/// Pass 2 of elements `from..` of one unit (`sigmoid::pass2_with`), with `c` the splatted
/// `[A, B, scale]`.
///
/// # Safety
/// `x`, `t` and `g` have the same length.
#[inline]
#[target_feature(enable = "avx512f,fma")]
unsafe fn pass2_from<E: Term, const SQ: bool>(
    term: E,
    x: &[f32],
    t: &[f32],
    g: &mut [f32],
    c: [__m512; 3],
    from: usize,
) {
    let n = x.len();
    let (xp, tp, gp) = (x.as_ptr(), t.as_ptr(), g.as_mut_ptr());
    let full = n / LANES * LANES;
    let mut i = from;
    while i < full {
        for p in [xp, tp, gp.cast_const()] {
            prefetch(p, i);
        }
        // SAFETY: `i + 16 ≤ full ≤ n`, the length of all three.
        unsafe { pass2_block::<E, SQ>(term, c, xp, tp, gp, i, !0) };
        i += LANES;
    }
    if full < n && i == full {
        // SAFETY: the lanes `full..n` are within all three.
        unsafe { pass2_block::<E, SQ>(term, c, xp, tp, gp, full, tail_mask(n - full)) };
    }
}

/// Pass 2 of one unit: `sigmoid::pass2_unit_body`, bit for bit, with `coef = [A, B]` and
/// `scale` the pixel term's.
///
/// # Panics
/// If `x`, `t` and `g` differ in length.
#[target_feature(enable = "avx512f,fma")]
pub(super) fn pass2<E: Term>(
    term: E,
    x: &[f32],
    t: &[f32],
    g: &mut [f32],
    scale: f32,
    coef: [f32; 2],
    squared: bool,
) {
    assert!(x.len() == t.len() && x.len() == g.len());
    let c = [splat(coef[0]), splat(coef[1]), splat(scale)];
    // SAFETY: the lengths were checked above.
    unsafe {
        if squared {
            pass2_from::<E, true>(term, x, t, g, c, 0);
        } else {
            pass2_from::<E, false>(term, x, t, g, c, 0);
        }
    }
}

/// The unit whose pass 2 runs beside another unit's pass 1 in [`pass12`].
pub(super) struct Other<'a> {
    /// Its term's form: the same variant as pass 1's, with the parameters of its channel.
    pub form: Explicit,
    pub x: &'a [f32],
    pub t: &'a [f32],
    pub g: &'a mut [f32],
    pub coef: [f32; 2],
}

/// Pass 1 of one unit with the pixel term `term`, and pass 2 of `other` (the same kind of
/// term, and the same `scale`) block by block beside it: `sigmoid::pass12_unit_body` (or,
/// with no `other`, `pass1_unit_body`), bit for bit. Returns
/// `([Σ loss, Σ p t, Σ p (or p²), Σ t (or t²)], suspect)`.
///
/// # Panics
/// If `x`, `t` (and `g`) differ in length, or those of `other` do.
#[target_feature(enable = "avx512f,fma")]
pub(super) fn pass12<E: Term>(
    term: E,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
    squared: bool,
    other: Option<Other<'_>>,
) -> ([f64; 4], bool) {
    match (g, squared) {
        (Some(g), true) => pass12_with::<E, true, true, true>(term, x, t, g, scale, other),
        (Some(g), false) => pass12_with::<E, true, false, true>(term, x, t, g, scale, other),
        (None, true) => pass12_with::<E, false, true, true>(term, x, t, &mut [], scale, other),
        (None, false) => pass12_with::<E, false, false, true>(term, x, t, &mut [], scale, other),
    }
}

/// [`pass12`] for compile-time choices of the gradient, the squared denominator and the
/// Dice-type sums (without them, the pass of the pixel loss alone: [`pixel`]).
#[target_feature(enable = "avx512f,fma")]
fn pass12_with<E: Term, const WRITE: bool, const SQ: bool, const SUMS: bool>(
    term: E,
    x: &[f32],
    t: &[f32],
    g: &mut [f32],
    scale: f32,
    other: Option<Other<'_>>,
) -> ([f64; 4], bool) {
    let n = x.len();
    assert!(t.len() == n && (!WRITE || g.len() == n));
    let (xp, tp, gp) = (x.as_ptr(), t.as_ptr(), g.as_mut_ptr());
    let sv = splat(scale);
    let mut st = Pass1 {
        acc: [_mm512_setzero_ps(); 4],
        margins: _mm512_setzero_ps(),
        total: [0.0; 4],
    };
    let full = n / LANES * LANES;
    let (mut o, blocks2) = match other {
        Some(o) => {
            assert!(o.t.len() == o.x.len() && o.g.len() == o.x.len());
            let blocks2 = o.x.len() / LANES;
            (Some(o), blocks2)
        }
        None => (None, 0),
    };
    let (term2, c2, o_ptrs) = match &mut o {
        Some(o) => (
            E::of(o.form),
            [splat(o.coef[0]), splat(o.coef[1]), sv],
            (o.x.as_ptr(), o.t.as_ptr(), o.g.as_mut_ptr()),
        ),
        None => (
            term,
            [_mm512_setzero_ps(); 3],
            (std::ptr::null(), std::ptr::null(), std::ptr::null_mut()),
        ),
    };
    let both = (full / LANES).min(blocks2);
    let mut b = 0;
    // Blocks of pass 1 with a block of the other unit's pass 2 each.
    while b < both {
        // SAFETY: `16(b + 1) ≤ full ≤ n`, the length of `x`, `t` (and `g`); and
        // `b < blocks2`, so `16(b + 1)` is within the other unit's three slices.
        unsafe {
            let i = b * LANES;
            for p in [xp, tp, o_ptrs.0, o_ptrs.1, o_ptrs.2.cast_const()] {
                prefetch(p, i);
            }
            pass1_block::<E, WRITE, SQ, SUMS>(&mut st, term, sv, xp, tp, gp, i, !0);
            pass2_block::<E, SQ>(term2, c2, o_ptrs.0, o_ptrs.1, o_ptrs.2, i, !0);
        }
        b += 1;
        if b % FOLD == 0 {
            fold_into(&mut st);
        }
    }
    while b < full / LANES {
        prefetch(xp, b * LANES);
        prefetch(tp, b * LANES);
        // SAFETY: as above, for `x`, `t` (and `g`).
        unsafe { pass1_block::<E, WRITE, SQ, SUMS>(&mut st, term, sv, xp, tp, gp, b * LANES, !0) };
        b += 1;
        if b % FOLD == 0 {
            fold_into(&mut st);
        }
    }
    if full < n {
        let live = tail_mask(n - full);
        // SAFETY: the lanes `full..n` are within `x`, `t` (and `g`).
        unsafe { pass1_block::<E, WRITE, SQ, SUMS>(&mut st, term, sv, xp, tp, gp, full, live) };
    }
    fold_into(&mut st);
    if let Some(o) = o {
        // SAFETY: the other unit's slices have equal lengths (asserted above).
        unsafe { pass2_from::<E, SQ>(term2, o.x, o.t, o.g, c2, both * LANES) };
    }
    (st.total, suspect(st.total[0], st.margins))
}

/// The pixel loss alone of one unit: `sigmoid::pixel_unit_body`, bit for bit. Returns
/// `(Σ loss, suspect)`, and with `g` writes `scale·∂loss/∂x` into it.
///
/// # Panics
/// If `x`, `t` (and `g`) differ in length.
#[target_feature(enable = "avx512f,fma")]
pub(super) fn pixel<E: Term>(
    term: E,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
) -> (f64, bool) {
    // Pass 1 without the Dice-type sums (their lanes stay 0) and without a second unit.
    let ([loss, ..], bad) = match g {
        Some(g) => pass12_with::<E, true, false, false>(term, x, t, g, scale, None),
        None => pass12_with::<E, false, false, false>(term, x, t, &mut [], scale, None),
    };
    (loss, bad)
}

/// `sigmoid::suspect`: the loss sum is not finite or a lane's `t − t²` went negative.
#[inline]
#[target_feature(enable = "avx512f")]
fn suspect(loss: f64, margins: __m512) -> bool {
    !loss.is_finite() || _mm512_cmp_ps_mask::<_CMP_LT_OQ>(margins, _mm512_setzero_ps()) != 0
}

/// Folds the four sums' lanes into their `f64` totals (`sigmoid::pass1_with`'s fold).
#[inline]
#[target_feature(enable = "avx512f")]
fn fold_into(st: &mut Pass1) {
    for (tot, a) in st.total.iter_mut().zip(&mut st.acc) {
        *tot += fold_vec(a);
    }
}
