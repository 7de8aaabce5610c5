//! The softmax kernels in explicit AVX-512: pass 1 for cross-entropy, the focal term and
//! the Dice-type sums ([`unit`]), the hottest loop of the multi-class
//! losses, and pass 2 of the Dice-type losses ([`from_p`]), written with intrinsics because
//! the compiler's vectorisation of [`super::softmax`]'s lane loops leaves performance
//! behind.
//!
//! Pass 2 is `softmax::from_p_body`, operation by operation (see [`from_p_with`]): its loop
//! went from 150 instructions per block of 16 pixels × 4 classes (98 vector) to 70 (67),
//! but it waits on the loads of the stored probabilities, so Dice+CE gained only
//! 1.05×/0.99× and Dice 1.05×/1.07× (2×4×96³, 8 interleaved rounds, fastest/median call).
//!
//! Pass 1 computes bit for bit what `softmax::unit_body` computes for the same call (the
//! portable path checks it: `tests/loss_dispatch.rs`), operation by operation, with these
//! differences of form only:
//! - masked sums (`a + sel(k, v, 0)`) are masked adds, one instruction where LLVM emitted a
//!   masked move and an add; equal because these sums start at `+0` and never reach `−0`;
//! - the `2^n` scaling of `e^x` is one `vscalefps`, which rounds `y·2^n` once, as the two
//!   exact exponent-field products and the final rounding product of `math::exp_neg` do;
//! - the sums stay in registers where they fit (LLVM kept all the per-class sums of the
//!   lane loops on the stack, a load and a store each per block);
//! - the class counts `Σ t` and the count of labelled pixels are integer counts packed one
//!   byte per class ([`unit_with`]): exact, as the portable `f32` sums of ones are;
//! - with cross-entropy, the loss sum is the check of the logits (no sum of its own).
//!
//! The loop runs over the full blocks with no bounds checks or branches (the choices of
//! sums, squares and stored probabilities are constants of [`unit_with`]), and the tail
//! block once, masked. Against the previous explicit version, which had a run-time choice
//! of each, a bounds-checked copy of each block's labels, and a per-class count and pixel
//! count in `f32` lanes (377 instructions per block of 16 pixels × 4 classes, 255 of them
//! vector, 43 of those loads and stores of spilled sums; now 215 and 196): Dice+CE
//! 1.23×/1.23× and Dice 1.16×/1.15× (2×4×96³, 8 interleaved rounds, fastest/median call).
//!
//! Measured on the development VM against the lane loops alone (`scripts/ab-bench.sh`,
//! 2×4×96³, forward and backward, two sets of 6 interleaved rounds, fastest and median
//! call): softmax Dice 1.02–1.21×, Dice+CE 1.04–1.15×. The pixel term's own gradient
//! (cross-entropy or focal alone) measured 0.87–0.96× when first written here (session 9);
//! in today's pass 1, with the choices constant and the sums in registers, it is
//! cross-entropy 1.26×/1.37× and softmax focal 1.25×/1.23× against the lane loops (8
//! rounds, 2×4×96³, `docs/kernel-performance.md`).
//!
//! The focal term with an integer `γ` (kind 3) follows the lane loops the same way. In
//! pass 2 its `−ln p_y` is `ln_1p(u/p_y)` for `p_y > ½` and `−ln p_y` otherwise: the lane
//! loops compute both logarithms and select, here the argument is selected and one
//! logarithm serves ([`neg_ln_py`]), the same bits. Softmax Dice+focal (2×4×96³, 8
//! interleaved rounds against the lane loops, fastest/median call): 1.84×/1.61×.
//!
//! The focal term with a real `γ` (kind 2) follows the lane loops too, with
//! `(1 − p_y)^γ = exp(γ ln u)`; pass 2 shares [`neg_ln_py`] with kind 3. With γ = 2.5 at
//! 2×4×96³ (6 interleaved rounds against the lane loops, fastest/median call): softmax focal
//! 1.30×/1.34×, softmax Dice+focal 1.57×/1.53×.
//!
//! It covers every pixel kind (0 none, 1 cross-entropy, 2 and 3 focal) and every class
//! count, without per-pixel losses: a constant count `NC` for 2 to 12 classes ([`MAX_NC`]),
//! whose per-class vectors stay in registers where they fit, and `NC = 0` for any count,
//! whose per-class vectors live in scratch on the heap (allocated once per unit of pixels,
//! in L1 for any count up to a few hundred) through the same code (`softmax::scratch`, as
//! in the lane loops). Beyond 8 classes the lane loops it replaces are the general ones,
//! which it outruns about 2× (Dice+CE on 1×C×96³, session 18: C = 17 1.9–2.0×, C = 24
//! 1.7–2.1×, C = 40 1.4–1.9×). Session 17 had given each of 9 to 16 classes a constant; any
//! count does about as well at 12 to 16 classes but is 1.0–1.8× slower at 9 and 0.9–1.4× at
//! 10 and 11, so the constants now stop at 12, which keeps the release build of
//! `segloss-cli` at 7 minutes on the development VM (10 with constants to 16, 4.4 with
//! constants to 8; `docs/kernel-performance.md`).

use super::avx512::{exp_neg, fold_vec, ln_normal, load_ps, splat, store_ps};
use super::softmax::{SoftmaxCtx, SoftmaxOut, heap, scratch};
use super::{FOLD, LANES, PIXEL_CHUNK};
use std::arch::x86_64::*;

/// The largest class count with explicit passes of its own (a constant `NC` each); larger
/// counts take the passes for any count (`NC = 0`).
pub(super) const MAX_NC: usize = 12;

/// Registers of packed class counts, four classes each ([`unit_with`]).
const CNT: usize = MAX_NC / 4;

/// `per_class!(name = [v; K, len])` binds `name` to per-class scratch of the enclosing
/// kernel's `NC`: `[v; K]` on the stack for a constant count, `len` copies of `v` on the
/// heap for any count (`softmax::scratch`).
macro_rules! per_class {
    ($name:ident = [$v:expr; $k:expr, $len:expr]) => {
        let mut fixed = [$v; $k];
        let mut on_heap = heap::<_, NC>($len, $v);
        let $name = scratch::<_, NC, { $k }>(&mut fixed, &mut on_heap);
    };
}

/// The 16 classes at `p` in the lanes of `live`, `−1` (no class) in the others: one
/// unmasked load for a full block (`live` all ones, a constant where the block loops call
/// it, so the choice folds away).
///
/// # Safety
/// The lanes of `live` lie in one allocation.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn load_classes(p: *const i32, live: __mmask16) -> __m512i {
    // SAFETY: the caller's contract; masked-off lanes are not read.
    unsafe {
        if live == !0 {
            _mm512_loadu_si512(p.cast())
        } else {
            _mm512_mask_loadu_epi32(_mm512_set1_epi32(-1), live, p.cast())
        }
    }
}

/// `math::ln_1p(x)`, bit for bit, for finite `x ≥ 0`: `ln(1 + x)` of the rounded sum
/// (finite, normal) plus its rounding error over the sum.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn ln_1p(x: __m512) -> __m512 {
    let u = _mm512_add_ps(splat(1.0), x);
    let corr = _mm512_mul_ps(
        _mm512_sub_ps(x, _mm512_sub_ps(u, splat(1.0))),
        _mm512_div_ps(splat(1.0), u),
    );
    _mm512_add_ps(ln_normal(u), corr)
}

/// `math::ln_1p_recip(e, u, inv)`, bit for bit: `ln u + (e − (u − 1))·inv` for `u ≥ 1`.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn ln_1p_recip(e: __m512, u: __m512, inv: __m512) -> __m512 {
    let c = _mm512_sub_ps(e, _mm512_sub_ps(u, splat(1.0)));
    _mm512_add_ps(ln_normal(u), _mm512_mul_ps(c, inv))
}

/// `softmax::int_powers`, bit for bit: `(u^{k−1}, u^k)` by multiplication, `(1, 1)` for
/// `k = 0`.
#[inline]
#[target_feature(enable = "avx512f")]
fn int_powers(u: __m512, k: u32) -> (__m512, __m512) {
    let mut uk1 = splat(1.0);
    for _ in 1..k {
        uk1 = _mm512_mul_ps(uk1, u);
    }
    let uk = if k == 0 {
        splat(1.0)
    } else {
        _mm512_mul_ps(uk1, u)
    };
    (uk1, uk)
}

/// `cw_c = −scale·(ε/C)·w_c` per class for cross-entropy's smoothing term, and the same
/// product times 0 for the other kinds (the portable code's factor, sign of zero included).
fn smoothing_weights<const KIND: u8>(t: &super::softmax::Terms, cw: &mut [f32]) {
    let ce = if KIND == 1 { 1.0f32 } else { 0.0 };
    for (c, w) in cw.iter_mut().enumerate() {
        *w = -t.scale * t.k_eps * t.wts[c] * ce;
    }
}

/// The pixel term's gradient for one class, `pa·p_c + (pb·[c = y] + vf·cw_c)`, in the
/// portable order (`softmax::grad_block`).
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn pixel_grad(pa: __m512, pb: __m512, p: __m512, hitf: __m512, vf: __m512, cw: f32) -> __m512 {
    _mm512_fmadd_ps(
        pa,
        p,
        _mm512_fmadd_ps(pb, hitf, _mm512_mul_ps(vf, splat(cw))),
    )
}

/// The integer-`γ` focal factor `f = k_y ((γ p_y (−ln p_y))·u^{γ−1} + u^γ)` of the pixel
/// gradient, `(1 − p_y)^γ (1 + γ p_y (−ln p_y)/(1 − p_y))` without the division, as both
/// portable passes compute it.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn int_focal_factor(
    kk: __m512,
    kint: u32,
    py: __m512,
    nl: __m512,
    uk1: __m512,
    um: __m512,
) -> __m512 {
    let kpn = _mm512_mul_ps(_mm512_mul_ps(splat(kint as f32), py), nl);
    _mm512_mul_ps(kk, _mm512_fmadd_ps(kpn, uk1, um))
}

/// The focal factor `(1 − p_y)^γ` for a real `γ` as `softmax`'s kind 2 computes it, bit for
/// bit: `exp(γ (ln max(v, f32::MIN_POSITIVE) − ln_z))` with `1 − p_y = v/Z` (pass 1: `v` the
/// other classes' `Σ e`, `ln_z = ln Z`; pass 2: `v = u`, `ln_z = +0`), and 0 where `v = 0`
/// for `γ > 0`. Subtracting `+0` changes no bit of the logarithm.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn real_power(gamma: f32, v: __m512, ln_z: __m512) -> __m512 {
    let lnu = _mm512_sub_ps(ln_normal(_mm512_max_ps(v, splat(f32::MIN_POSITIVE))), ln_z);
    let mm = exp_neg(_mm512_mul_ps(splat(gamma), lnu));
    if gamma > 0.0 {
        let zero = _mm512_setzero_ps();
        _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_EQ_OQ>(v, zero), mm, zero)
    } else {
        mm
    }
}

/// `−ln p_y` of the focal term from the probabilities, as `softmax::from_p_body` computes
/// it, bit for bit: `ln_1p(u/p_y)` when `p_y > ½`, `−ln max(p_y, f32::MIN_POSITIVE)`
/// otherwise. The lane loops evaluate both `ln` and select; here the argument is selected
/// first and one `ln` serves both (each argument is finite, normal and positive, where
/// `math::ln` is [`ln_normal`]).
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn neg_ln_py(py: __m512, u: __m512) -> __m512 {
    let big = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(py, splat(0.5));
    // `math::ln_1p(x)` for `x = u/p_y ∈ [0, 1]`: `ln(1 + x)` of the rounded sum, plus its
    // rounding error over the sum.
    let x = _mm512_div_ps(u, py);
    let u1 = _mm512_add_ps(splat(1.0), x);
    // `ln_1p`'s correction, kept apart: its `ln` is the shared one below.
    let corr = _mm512_mul_ps(
        _mm512_sub_ps(x, _mm512_sub_ps(u1, splat(1.0))),
        _mm512_div_ps(splat(1.0), u1),
    );
    let small = _mm512_max_ps(py, splat(f32::MIN_POSITIVE));
    let l = ln_normal(_mm512_mask_blend_ps(big, small, u1));
    // A sign flip, as the portable `−ln`.
    let neg = _mm512_castsi512_ps(_mm512_xor_si512(
        _mm512_castps_si512(l),
        _mm512_set1_epi32(i32::MIN),
    ));
    _mm512_mask_blend_ps(big, neg, _mm512_add_ps(l, corr))
}

/// Adds the lanes of the unit's accumulators to `out` (loss, weight, and without `SUMS`
/// the count), `sums` (`Σ p t`, `Σ p` or `Σ p²`) and `counts` (the class counts packed in
/// `cnt`, see [`unit_with`]), and zeroes them.
#[inline]
#[target_feature(enable = "avx512f")]
fn fold_all<const SUMS: bool>(
    out: &mut SoftmaxOut,
    sums: &mut [[f64; 3]],
    [l, w, n]: [&mut __m512; 3],
    sacc: &mut [[__m512; 2]],
    cnt: &mut [__m512i],
    counts: &mut [u64],
) {
    out.loss += fold_vec(l);
    out.wsum += fold_vec(w);
    if !SUMS {
        out.count += fold_vec(n);
        return;
    }
    for (c, (sa, su)) in sacc.iter_mut().zip(sums.iter_mut()).enumerate() {
        su[0] += fold_vec(&mut sa[0]);
        su[1] += fold_vec(&mut sa[1]);
        counts[c] += u64::from(byte_count(cnt[c / 4], c % 4));
    }
    cnt.fill(_mm512_setzero_si512());
}

/// Pass 1 over pixels `s0..s1` of one image for a constant class count `NC` (2 to
/// [`MAX_NC`]) or any count (`NC = 0`) and pixel kind `KIND` (0 to 3): the same contract
/// and results as `softmax::unit_body` with no per-pixel losses, and a gradient either as
/// stored probabilities ([`SoftmaxCtx::store_p`]) or, without the Dice-type sums, as the
/// pixel term's gradient.
///
/// Dispatches to [`unit_with`] on whether the Dice-type sums are wanted, squared, and
/// what the gradient buffer receives: as constants, these choices leave the loop without
/// branches or the register moves between their arms.
///
/// Callers outside this target-feature context check [`available`] first.
#[target_feature(enable = "avx512f,fma")]
pub(super) fn unit<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    grads: Option<&mut [&mut [f32]]>,
) -> SoftmaxOut {
    debug_assert!(KIND <= 3 && ctx.classes >= 2);
    debug_assert!(NC == 0 || ((2..=MAX_NC).contains(&NC) && ctx.classes == NC));
    debug_assert!(grads.is_none() || ctx.store_p || !ctx.want_sums);
    let a = (ctx, x, cls_buf, s0, s1, grads);
    match (ctx.want_sums, ctx.squared, a.5.is_some(), ctx.store_p) {
        (true, false, false, _) => unit_with::<NC, KIND, true, false, false, false>(a),
        (true, true, false, _) => unit_with::<NC, KIND, true, true, false, false>(a),
        (true, false, true, _) => unit_with::<NC, KIND, true, false, true, false>(a),
        (true, true, true, _) => unit_with::<NC, KIND, true, true, true, false>(a),
        (false, _, false, _) => unit_with::<NC, KIND, false, false, false, false>(a),
        (false, _, true, false) => unit_with::<NC, KIND, false, false, true, true>(a),
        // Stored probabilities come with the sums (a Dice-type pass 1); should a caller
        // want them alone, the sums are computed and dropped.
        (false, _, true, true) => {
            let mut out = unit_with::<NC, KIND, true, false, true, false>(a);
            out.sums = Vec::new();
            out
        }
    }
}

/// The arguments of [`unit`].
type UnitArgs<'a, 'b, 'c> = (
    &'a SoftmaxCtx<'a>,
    &'a [f32],
    &'a [i32; PIXEL_CHUNK],
    usize,
    usize,
    Option<&'b mut [&'c mut [f32]]>,
);

/// Sum over the lanes of the byte `c` of each `i32` lane of `cnt` (the hits of class `c`,
/// see [`unit_with`]), exact.
#[inline]
#[target_feature(enable = "avx512f")]
fn byte_count(cnt: __m512i, c: usize) -> u32 {
    let v = _mm512_and_si512(
        _mm512_srlv_epi32(cnt, _mm512_set1_epi32(8 * c as i32)),
        _mm512_set1_epi32(0xff),
    );
    _mm512_reduce_add_epi32(v) as u32
}

/// [`unit`] for constant choices: `SUMS`, the Dice-type sums; `SQ`, `Σ p²` in them; `GRAD`,
/// a gradient buffer, which receives the probabilities, or with `PIXG` the pixel term's
/// gradient `pa·p_c + pb·[c = y] + vf·cw_c` (`softmax::grad_block` without a Dice-type
/// term, operation by operation, less its `+ 0` for the missing term: `pa ≥ 0` and
/// `p_c ≥ +0` make the outer FMA's product `+0` or positive, so its result is never `−0`
/// and adding `+0` changes no bit).
///
/// The counts `Σ t` of each class, and the count of labelled pixels, are integers: each
/// `i32` lane holds one byte per class (classes 0–3 in `cnt[0]`, 4–7 in `cnt[1]`, and so
/// on), a block
/// adds `1 << 8·class` (a variable shift, 0 for an ignored pixel's `−1`), and a byte reaches
/// at most [`FOLD`] before the lanes are summed. This is one register and three operations
/// for every class, where a masked add per class kept one register each (the sums were
/// spilled to the stack, a load and a store each per block); the sums are exact either way,
/// so the results are the same bits. With cross-entropy the loss sum doubles as the check
/// of the logits: a non-finite logit makes the pixel's loss non-finite (through `Σ w_c d_c`,
/// whatever the weights and the label), so it needs no sum of its own.
#[target_feature(enable = "avx512f,fma")]
fn unit_with<
    const NC: usize,
    const KIND: u8,
    const SUMS: bool,
    const SQ: bool,
    const GRAD: bool,
    const PIXG: bool,
>(
    (ctx, x, cls_buf, s0, s1, grads): UnitArgs<'_, '_, '_>,
) -> SoftmaxOut {
    let nc = if NC > 0 { NC } else { ctx.classes };
    let s = ctx.spatial;
    let n = s1 - s0;
    // The bounds every access below relies on, checked once (and that `GRAD` is what
    // `unit` chose it to be: the stores below go through `gp`).
    assert!(s0 <= s1 && s1 <= s && n <= PIXEL_CHUNK && x.len() >= nc * s);
    assert_eq!(GRAD, grads.is_some());
    per_class!(xp = [std::ptr::null::<f32>(); NC, nc]);
    for (c, p) in xp.iter_mut().enumerate() {
        *p = x[c * s + s0..].as_ptr();
    }
    per_class!(gp = [std::ptr::null_mut::<f32>(); NC, nc]);
    if let Some(gs) = grads {
        assert!(gs.len() >= nc && gs.iter().take(nc).all(|g| g.len() >= n));
        for (p, g) in gp.iter_mut().zip(gs.iter_mut()) {
            *p = g.as_mut_ptr();
        }
    }
    let t = super::softmax::Terms::of(ctx, nc);
    per_class!(wts = [0f32; NC, nc]);
    wts.copy_from_slice(&t.wts[..nc]);
    let keep = 1.0 - t.ce_eps;
    let scale = t.scale;
    per_class!(cw = [0f32; NC, nc]);
    smoothing_weights::<KIND>(&t, cw);
    let mut out = SoftmaxOut::default();
    let mut sums = vec![[0f64; 3]; if SUMS { nc } else { 0 }];
    let zero = _mm512_setzero_ps();
    let (mut acc_loss, mut acc_w, mut acc_n, mut acc_bad) = (zero, zero, zero, zero);
    per_class!(sacc = [[zero; 2]; NC, nc]);
    per_class!(cnt = [_mm512_setzero_si512(); CNT, nc.div_ceil(4)]);
    per_class!(counts = [0u64; NC, nc]);
    // The per-block scratch of any class count, allocated once.
    let mut e_heap = heap::<_, NC>(nc, zero);
    let mut hits_heap = heap::<_, NC>(nc, 0 as __mmask16);

    // One block of pixels `off..off + 16` (`live` all ones), or of the tail's `live` lanes (the
    // others read as 0, like the portable code's zero padding, and their label is −1).
    macro_rules! block {
        ($off:expr, $live:expr) => {{
            let off: usize = $off;
            let live: __mmask16 = $live;
            // SAFETY: `cls_buf` holds `PIXEL_CHUNK ≥ n` labels, and `off + 16 ≤ n` for a
            // full block; the tail reads only its `live` lanes.
            let cls = unsafe { load_classes(cls_buf.as_ptr().add(off), live) };
            let valid = _mm512_cmpge_epi32_mask(cls, _mm512_setzero_si512());
            let vf = _mm512_maskz_mov_ps(valid, splat(1.0));
            if live == !0 {
                for xc in xp.iter() {
                    super::prefetch(*xc, off);
                }
            }
            let mut e_fixed = [zero; NC];
            let e = scratch::<_, NC, NC>(&mut e_fixed, &mut e_heap);
            for (c, ec) in e.iter_mut().enumerate() {
                // SAFETY: pixel `s0 + off + 16 ≤ s1 ≤ s` of class `c < C` lies in `x`
                // (checked above); the tail reads only its `live` lanes.
                *ec = unsafe { load_ps(xp[c].add(off), live) };
            }
            let mut m = e[0];
            for ec in e.iter().skip(1) {
                // `ec > m ? ec : m`, the portable code's select.
                m = _mm512_max_ps(*ec, m);
            }
            let (mut xy, mut z, mut below, mut ties) = (zero, zero, zero, zero);
            let (mut swd, mut wy, mut zrest, mut ey) = (zero, zero, zero, zero);
            let mut hits_fixed = [0 as __mmask16; NC];
            let hits = scratch::<_, NC, NC>(&mut hits_fixed, &mut hits_heap);
            for (c, ec) in e.iter_mut().enumerate() {
                let d = _mm512_sub_ps(*ec, m);
                let hit = _mm512_cmpeq_epi32_mask(cls, _mm512_set1_epi32(c as i32));
                hits[c] = hit;
                if KIND != 1 {
                    acc_bad = _mm512_fmadd_ps(d, zero, acc_bad);
                }
                let ex = exp_neg(d);
                if KIND != 0 {
                    xy = _mm512_mask_add_ps(xy, hit, xy, d);
                    wy = _mm512_mask_add_ps(wy, hit, wy, splat(wts[c]));
                }
                if KIND == 1 {
                    swd = _mm512_fmadd_ps(splat(wts[c]), d, swd);
                }
                if KIND >= 2 {
                    zrest = _mm512_mask_add_ps(zrest, !hit, zrest, ex);
                    if PIXG {
                        ey = _mm512_mask_add_ps(ey, hit, ey, ex);
                    }
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
            // The pixel term's gradient is `pa·p_c + pb·[c = y] + vf·cw_c`.
            let (mut pa, mut pb) = (zero, zero);
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
                if PIXG {
                    pa = _mm512_mul_ps(splat(scale), q);
                    pb = _mm512_mul_ps(splat(-scale * keep), wy);
                }
            }
            if KIND == 2 {
                // The loss of `softmax::unit_body`'s kind 2: `−ln p_y` is `ln(1 + Σ_{k≠y} e_k)`
                // when `y` is the arg-max, `(1 − p_y)^γ = exp(γ ln u)`.
                let nl = _mm512_mask_blend_ps(
                    _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(xy, zero),
                    _mm512_sub_ps(lnz, xy),
                    ln_1p(zrest),
                );
                let mm = real_power(t.gamma, zrest, lnz);
                let kk = _mm512_mul_ps(wy, vf);
                let km = _mm512_mul_ps(kk, mm);
                let lo = _mm512_mul_ps(km, nl);
                acc_loss = _mm512_add_ps(acc_loss, lo);
                acc_w = _mm512_add_ps(acc_w, wy);
                if PIXG {
                    let u = _mm512_mul_ps(zrest, inv);
                    let ratio = _mm512_mask_blend_ps(
                        _mm512_cmp_ps_mask::<_CMP_GT_OQ>(zrest, zero),
                        splat(1.0),
                        _mm512_div_ps(nl, u),
                    );
                    let py = _mm512_mul_ps(ey, inv);
                    let gpr = _mm512_mul_ps(_mm512_mul_ps(splat(t.gamma), py), ratio);
                    let f = _mm512_mul_ps(km, _mm512_add_ps(splat(1.0), gpr));
                    pa = _mm512_mul_ps(splat(scale), f);
                    pb = _mm512_mul_ps(splat(-scale), f);
                }
            }
            if KIND == 3 {
                // The loss of `softmax::unit_body`'s kind 3: `u = 1 − p_y` as the other
                // classes' share, `−ln p_y = ln Z − (x_y − m)`.
                let u = _mm512_mul_ps(zrest, inv);
                let (uk1, um) = int_powers(u, t.kint);
                let nl = _mm512_sub_ps(lnz, xy);
                let kk = _mm512_mul_ps(wy, vf);
                let lo = _mm512_mul_ps(_mm512_mul_ps(kk, um), nl);
                acc_loss = _mm512_add_ps(acc_loss, lo);
                acc_w = _mm512_add_ps(acc_w, wy);
                if PIXG {
                    let py = _mm512_mul_ps(ey, inv);
                    let f = int_focal_factor(kk, t.kint, py, nl, uk1, um);
                    pa = _mm512_mul_ps(splat(scale), f);
                    pb = _mm512_mul_ps(splat(-scale), f);
                }
            }
            if SUMS {
                let sh = _mm512_slli_epi32::<3>(cls);
                let one = _mm512_set1_epi32(1);
                // Register `k` holds classes `4k..4k + 3`: a shift outside `0..32` (another
                // register's class, or the −1 of an ignored pixel) adds 0.
                for (k, ck) in cnt.iter_mut().enumerate().take(nc.div_ceil(4)) {
                    let shk = _mm512_sub_epi32(sh, _mm512_set1_epi32(32 * k as i32));
                    *ck = _mm512_add_epi32(*ck, _mm512_sllv_epi32(one, shk));
                }
                for ((p, sa), &hit) in e.iter().zip(sacc.iter_mut()).zip(hits.iter()) {
                    sa[0] = _mm512_mask_add_ps(sa[0], hit, sa[0], *p);
                    // `p·p` or `p·1` added where the label counts: the portable
                    // `(vf·p)·(p or 1) + a`, whose product is 0 elsewhere.
                    sa[1] = if SQ {
                        _mm512_mask3_fmadd_ps(*p, *p, sa[1], valid)
                    } else {
                        _mm512_mask_add_ps(sa[1], valid, sa[1], *p)
                    };
                }
            } else {
                acc_n = _mm512_add_ps(acc_n, vf);
            }
            if GRAD {
                if live == !0 {
                    for g in gp.iter() {
                        super::prefetch_w(*g, off);
                    }
                }
                for (c, (g, p)) in gp.iter().zip(e.iter()).enumerate() {
                    let v = if PIXG {
                        let hitf = _mm512_maskz_mov_ps(hits[c], splat(1.0));
                        pixel_grad(pa, pb, *p, hitf, vf, cw[c])
                    } else {
                        *p
                    };
                    // SAFETY: each gradient piece holds `n` floats (checked above); the
                    // tail writes only its `live` lanes.
                    unsafe { store_ps(g.add(off), live, v) };
                }
            }
        }};
    }

    let full = n / LANES;
    for k in 0..full {
        block!(k * LANES, !0);
        if k % FOLD == FOLD - 1 {
            fold_all::<SUMS>(
                &mut out,
                &mut sums,
                [&mut acc_loss, &mut acc_w, &mut acc_n],
                sacc,
                cnt,
                counts,
            );
        }
    }
    let tail = n - full * LANES;
    if tail > 0 {
        block!(full * LANES, (1u16 << tail) - 1);
    }
    fold_all::<SUMS>(
        &mut out,
        &mut sums,
        [&mut acc_loss, &mut acc_w, &mut acc_n],
        sacc,
        cnt,
        counts,
    );
    if SUMS {
        // Every labelled pixel hits one class (a label ≥ `C` fails the unit anyway).
        for (su, &k) in sums.iter_mut().zip(counts.iter()) {
            su[2] = k as f64;
        }
        out.count = counts.iter().sum::<u64>() as f64;
    }
    // The focal term keeps the check's own sum, as the portable code does: its loss has
    // the factor `k_y`, which may be 0, so its sum is no check of the logits.
    let bad = if KIND == 1 {
        !out.loss.is_finite()
    } else {
        fold_vec(&mut acc_bad).is_nan()
    };
    out.bad |= ctx.check && bad;
    out.sums = sums;
    out
}

/// Pass 2 of the softmax Dice-type losses over pixels `s0..s1` of one image, for a constant
/// class count `NC` (2 to [`MAX_NC`]) or any count (`NC = 0`) and pixel kind `KIND` (0 to
/// 3): `softmax::from_p_body`, bit for bit (the portable path checks it:
/// `tests/loss_dispatch.rs`). `grads` holds the `C` pieces of the probabilities pass 1
/// stored, which receive the gradient; `coef` the Dice coefficients `[A_c, B_c]` of the
/// image.
///
/// Callers outside this target-feature context check [`available`] first.
#[target_feature(enable = "avx512f,fma")]
pub(super) fn from_p<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    grads: &mut [&mut [f32]],
    coef: &[[f32; 2]],
) {
    debug_assert!(KIND <= 3 && ctx.classes >= 2);
    debug_assert!(NC == 0 || ((2..=MAX_NC).contains(&NC) && ctx.classes == NC));
    if ctx.squared {
        from_p_with::<NC, KIND, true>(ctx, cls_buf, s0, s1, grads, coef);
    } else {
        from_p_with::<NC, KIND, false>(ctx, cls_buf, s0, s1, grads, coef);
    }
}

/// [`from_p`] for a constant choice of `p²` in the Dice-type sums (`SQ`).
///
/// Every operation is the portable code's, in its order, including where one looks
/// redundant: the weight of the label as a masked add to `+0` (not a move: a weight `−0`
/// must give `+0`), `[c = y]` as a `0`/`1` factor in an FMA (not a masked add: the sign of
/// a zero result follows the FMA), and the pixel term `pa·p + (pb·[c = y] + vf·cw)` of
/// cross-entropy; without a pixel term that expression is `+0` for every `p ≥ 0`, and `+0`
/// is what is added.
#[target_feature(enable = "avx512f,fma")]
fn from_p_with<const NC: usize, const KIND: u8, const SQ: bool>(
    ctx: &SoftmaxCtx<'_>,
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    grads: &mut [&mut [f32]],
    coef: &[[f32; 2]],
) {
    let nc = if NC > 0 { NC } else { ctx.classes };
    let n = s1 - s0;
    // The bounds every access below relies on, checked once.
    assert!(n <= PIXEL_CHUNK && coef.len() >= nc && grads.len() >= nc);
    assert!(grads.iter().take(nc).all(|g| g.len() >= n));
    per_class!(gp = [std::ptr::null_mut::<f32>(); NC, nc]);
    for (p, g) in gp.iter_mut().zip(grads.iter_mut()) {
        *p = g.as_mut_ptr();
    }
    let t = super::softmax::Terms::of(ctx, nc);
    let (ce_eps, scale, k_eps) = (t.ce_eps, t.scale, t.k_eps);
    // Per class: the label's weight, `cw_c = −scale·(ε/C)·w_c` (cross-entropy).
    per_class!(wts = [0f32; NC, nc]);
    wts.copy_from_slice(&t.wts[..nc]);
    per_class!(cw = [0f32; NC, nc]);
    smoothing_weights::<KIND>(&t, cw);
    let zero = _mm512_setzero_ps();
    let one = splat(1.0);
    // The per-block scratch of any class count, allocated once.
    let (mut p_heap, mut hitf_heap, mut gc_heap) = (
        heap::<_, NC>(nc, zero),
        heap::<_, NC>(nc, zero),
        heap::<_, NC>(nc, zero),
    );
    let mut hits_heap = heap::<_, NC>(nc, 0 as __mmask16);

    macro_rules! block {
        ($off:expr, $live:expr) => {{
            let off: usize = $off;
            let live: __mmask16 = $live;
            // SAFETY: `cls_buf` holds `PIXEL_CHUNK ≥ n` labels and each gradient piece `n`
            // floats (checked above); a full block has `off + 16 ≤ n`, the tail reads and
            // writes only its `live` lanes.
            let cls = unsafe { load_classes(cls_buf.as_ptr().add(off), live) };
            if live == !0 {
                for g in gp.iter() {
                    super::prefetch(g.cast_const(), off);
                }
            }
            let mut p_fixed = [zero; NC];
            let p = scratch::<_, NC, NC>(&mut p_fixed, &mut p_heap);
            for (pc, g) in p.iter_mut().zip(gp.iter()) {
                // SAFETY: as above.
                *pc = unsafe { load_ps(g.add(off), live) };
            }
            let valid = _mm512_cmpge_epi32_mask(cls, _mm512_setzero_si512());
            let vf = _mm512_maskz_mov_ps(valid, one);
            let mut hitf_fixed = [zero; NC];
            let hitf = scratch::<_, NC, NC>(&mut hitf_fixed, &mut hitf_heap);
            let mut hits_fixed = [0 as __mmask16; NC];
            let hits = scratch::<_, NC, NC>(&mut hits_fixed, &mut hits_heap);
            let mut wy = zero;
            for (c, (h, hm)) in hitf.iter_mut().zip(hits.iter_mut()).enumerate() {
                let hit = _mm512_cmpeq_epi32_mask(cls, _mm512_set1_epi32(c as i32));
                *hm = hit;
                *h = _mm512_maskz_mov_ps(hit, one);
                if KIND != 0 {
                    wy = _mm512_mask_add_ps(wy, hit, wy, splat(wts[c]));
                }
            }
            let (mut pa, mut pb) = (zero, zero);
            if KIND == 1 {
                let q = _mm512_add_ps(
                    _mm512_mul_ps(splat(1.0 - ce_eps), wy),
                    _mm512_mul_ps(_mm512_mul_ps(vf, splat(k_eps)), splat(t.ce_wsum)),
                );
                pa = _mm512_mul_ps(splat(scale), q);
                pb = _mm512_mul_ps(splat(-scale * (1.0 - ce_eps)), wy);
            }
            if KIND >= 2 {
                // `u = 1 − p_y` as the sum of the other classes' `p` (no cancellation).
                let (mut py, mut u) = (zero, zero);
                for (pc, &hit) in p.iter().zip(hits.iter()) {
                    py = _mm512_mask_add_ps(py, hit, py, *pc);
                    u = _mm512_mask_add_ps(u, !hit, u, *pc);
                }
                let nl = neg_ln_py(py, u);
                let kk = _mm512_mul_ps(wy, vf);
                let f = if KIND == 3 {
                    let (uk1, um) = int_powers(u, t.kint);
                    int_focal_factor(kk, t.kint, py, nl, uk1, um)
                } else {
                    // `(1 − p_y)^γ = exp(γ ln u)`, 0 at `u = 0` for `γ > 0`; the ratio
                    // `p_y (−ln p_y)/u` is taken as 1 at `u = 0` and 0 at `p_y = 0`.
                    let mm = real_power(t.gamma, u, zero);
                    let ratio = _mm512_mask_blend_ps(
                        _mm512_cmp_ps_mask::<_CMP_GT_OQ>(u, zero),
                        splat(1.0),
                        _mm512_div_ps(nl, u),
                    );
                    let pr = _mm512_maskz_mov_ps(
                        _mm512_cmp_ps_mask::<_CMP_GT_OQ>(py, zero),
                        _mm512_mul_ps(py, ratio),
                    );
                    let gpr = _mm512_mul_ps(splat(t.gamma), pr);
                    _mm512_mul_ps(_mm512_mul_ps(kk, mm), _mm512_add_ps(splat(1.0), gpr))
                };
                pa = _mm512_mul_ps(splat(scale), f);
                pb = _mm512_mul_ps(splat(-scale), f);
            }
            let mut gc_fixed = [zero; NC];
            let gc = scratch::<_, NC, NC>(&mut gc_fixed, &mut gc_heap);
            let mut dot = zero;
            for c in 0..nc {
                let [ca, cb] = coef[c];
                let mut y = _mm512_mul_ps(splat(cb), vf);
                if SQ {
                    // `2p` exact.
                    y = _mm512_mul_ps(y, _mm512_add_ps(p[c], p[c]));
                }
                gc[c] = _mm512_fmadd_ps(splat(ca), hitf[c], y);
                dot = _mm512_fmadd_ps(p[c], gc[c], dot);
            }
            for c in 0..nc {
                let pix = if KIND != 0 {
                    pixel_grad(pa, pb, p[c], hitf[c], vf, cw[c])
                } else {
                    zero
                };
                let reg = _mm512_mul_ps(p[c], _mm512_sub_ps(gc[c], dot));
                let gl = _mm512_add_ps(pix, reg);
                // SAFETY: as above.
                unsafe { store_ps(gp[c].add(off), live, gl) };
            }
        }};
    }

    let full = n / LANES;
    for k in 0..full {
        block!(k * LANES, !0);
    }
    let tail = n - full * LANES;
    if tail > 0 {
        block!(full * LANES, (1u16 << tail) - 1);
    }
}
