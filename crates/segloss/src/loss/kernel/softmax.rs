//! Softmax kernels over the channel axis: cross-entropy and focal terms, Dice-type sums and
//! gradients, for class-index targets.
//!
//! A block holds [`LANES`] neighbouring pixels of one image; the `C` logits of a pixel are
//! `S` apart. Per block: `m = max_c x_c`, `e_c = exp(x_c − m)` (kept in a `C×LANES` scratch),
//! `Z = Σ e_c`, `ln Z`, then each requested quantity; the only per-element transcendental is
//! the one `exp` per logit (plus a few per pixel).
//!
//! Dice-type losses make two passes. With a gradient, the first ([`unit`]) also stores
//! `p_c = e_c / Z` in the gradient buffer, and the second ([`grad_from_p`]) turns it into the
//! gradient in place: it reads `p` and the labels, never the logits, and needs no `exp` per
//! logit. The labels of a unit are converted to `i32` classes once, up front.

use super::{FOLD, LANES, PIXEL_CHUNK, fold, sel};
use crate::label::Label;
use crate::math::{exp_neg, ln, ln_1p, ln_1p_recip};
use multiversion::multiversion;
use std::cell::RefCell;

/// The pixel term of a softmax loss.
#[derive(Debug, Clone)]
pub(crate) enum SoftmaxPixel {
    /// No pixel term (pure Dice-type losses).
    None,
    /// Cross-entropy with class weights `w` and label smoothing `ε` (PyTorch's convention):
    /// `ℓ = Σ_c q_c (−ln p_c)` with `q_c = (1−ε) w_y [c = y] + (ε/C) w_c`.
    Ce {
        /// Class weights (ones when unweighted).
        weights: Vec<f32>,
        /// `Σ_c w_c`.
        wsum: f32,
        /// `ε`.
        smoothing: f32,
    },
    /// Focal: `ℓ = −k_y (1 − p_y)^γ ln p_y` with `k_c = α_c·w_c`.
    Focal {
        /// `γ ≥ 0`.
        gamma: f32,
        /// `k_c = α_c·w_c`.
        weights: Vec<f32>,
    },
}

impl SoftmaxPixel {
    /// The kind of the pixel term: 0 none, 1 cross-entropy, 2 focal with a real `γ`, 3 focal
    /// with an integer `γ ≤` [`MAX_INT_GAMMA`]. The fused pass is compiled once per kind.
    fn kind(&self) -> u8 {
        match self {
            SoftmaxPixel::None => 0,
            SoftmaxPixel::Ce { .. } => 1,
            SoftmaxPixel::Focal { gamma, .. } => {
                if gamma.fract() == 0.0 && *gamma <= MAX_INT_GAMMA {
                    3
                } else {
                    2
                }
            }
        }
    }

    fn weights(&self) -> Option<&[f32]> {
        match self {
            SoftmaxPixel::None => None,
            SoftmaxPixel::Ce { weights, .. } | SoftmaxPixel::Focal { weights, .. } => Some(weights),
        }
    }
}

/// What one unit is asked to do.
pub(crate) struct SoftmaxCtx<'a> {
    pub classes: usize,
    pub spatial: usize,
    /// The ignore label, or `i64::MIN` for none.
    pub ignore: i64,
    pub pixel: &'a SoftmaxPixel,
    /// Factor on the pixel term's gradient.
    pub pix_scale: f32,
    /// Dice-type sums `[Σ p t, Σ p (or p²), Σ t]` per class are accumulated.
    pub want_sums: bool,
    /// `p` or `p²` in the sums and gradients.
    pub squared: bool,
    /// Check the inputs on the way (finite logits, labels below `C` or ignored) and report
    /// in [`SoftmaxOut::bad`]; the caller turns a bad unit into an error.
    pub check: bool,
    /// Pass 1 of a Dice-type loss with a gradient: write `p_c` into the gradient buffer
    /// (read back by [`grad_from_p`] in pass 2, which then needs no `exp` per logit).
    pub store_p: bool,
}

/// Partial results of one unit.
#[derive(Debug, Clone, Default)]
pub(crate) struct SoftmaxOut {
    /// `Σ ℓ` of the pixel term (unweighted by the reduction).
    pub loss: f64,
    /// `Σ w_y` over counted pixels (cross-entropy's mean normaliser).
    pub wsum: f64,
    /// Number of counted (non-ignored) pixels.
    pub count: f64,
    /// Per class `[Σ p t, Σ p (or p²), Σ t]` when asked.
    pub sums: Vec<[f64; 3]>,
    /// An input failed the checks of [`SoftmaxCtx::check`].
    pub bad: bool,
}

/// The largest integer `γ` whose focal term is computed by multiplication ([`Terms::kint`]).
const MAX_INT_GAMMA: f32 = 8.0;

/// Expands to `$go!(NC, LNC, KIND)` for the class count `$classes` and the pixel term's
/// kind `$kind` ([`SoftmaxPixel::kind`]): `NC`, the count of the explicit AVX-512 passes, is
/// a constant for 2–12 classes and 0 (any count, per-class scratch on the heap) otherwise;
/// `LNC`, that of the lane loops, is the count for 2–8 classes and 0 otherwise. A constant
/// class count keeps the per-class scratch in registers (measured: Dice+CE at 2×4×96³ took
/// 16 ms this way against 29 ms with the heap scratch in the lane loops). Each constant is
/// a copy of every kernel: session 17's constants for 9 to 16 classes doubled the release
/// build of `segloss-cli` (5 → 10 minutes on the development VM); with the explicit passes
/// for any count (session 18) they gain nothing measurable at 12 to 16 classes and up to
/// 1.8× at 9, so they stop at 12 (`docs/kernel-performance.md`).
macro_rules! with_consts {
    ($classes:expr, $kind:expr, $go:ident) => {
        match $classes {
            2 => with_consts!(@kind 2, $kind, $go),
            3 => with_consts!(@kind 3, $kind, $go),
            4 => with_consts!(@kind 4, $kind, $go),
            5 => with_consts!(@kind 5, $kind, $go),
            6 => with_consts!(@kind 6, $kind, $go),
            7 => with_consts!(@kind 7, $kind, $go),
            8 => with_consts!(@kind 8, $kind, $go),
            9 => with_consts!(@kind 9 0, $kind, $go),
            10 => with_consts!(@kind 10 0, $kind, $go),
            11 => with_consts!(@kind 11 0, $kind, $go),
            12 => with_consts!(@kind 12 0, $kind, $go),
            _ => with_consts!(@kind 0, $kind, $go),
        }
    };
    (@kind $nc:literal, $kind:expr, $go:ident) => {
        with_consts!(@kind $nc $nc, $kind, $go)
    };
    (@kind $nc:literal $lnc:literal, $kind:expr, $go:ident) => {
        match $kind {
            0 => $go!($nc, $lnc, 0),
            1 => $go!($nc, $lnc, 1),
            2 => $go!($nc, $lnc, 2),
            _ => $go!($nc, $lnc, 3),
        }
    };
}

/// The loop-invariant parameters of a unit: class weights and constants. The pixel term's
/// kind is not among them: the kernels take it as the const generic `KIND`
/// ([`SoftmaxPixel::kind`]).
pub(super) struct Terms {
    pub wts: Vec<f32>,
    pub ce_eps: f32,
    pub ce_wsum: f32,
    pub gamma: f32,
    /// `γ` as an integer when kind is 3: `(1 − p_y)^γ` is then a product (no `ln`, no
    /// `exp`), finite at `p_y = 1`, and the gradient's `(1 − p_y)^{γ−1}` needs no division.
    pub kint: u32,
    pub k_eps: f32,
    pub sq: bool,
    pub scale: f32,
}

impl Terms {
    pub(super) fn of(ctx: &SoftmaxCtx<'_>, nc: usize) -> Self {
        let wts = ctx
            .pixel
            .weights()
            .map_or_else(|| vec![1.0f32; nc], <[f32]>::to_vec);
        let kind = ctx.pixel.kind();
        let (ce_eps, ce_wsum, gamma) = match ctx.pixel {
            SoftmaxPixel::None => (0.0, 0.0, 0.0),
            SoftmaxPixel::Ce {
                wsum, smoothing, ..
            } => (*smoothing, *wsum, 0.0),
            SoftmaxPixel::Focal { gamma, .. } => (0.0, 0.0, *gamma),
        };
        Terms {
            wts,
            ce_eps,
            ce_wsum,
            gamma,
            kint: if kind == 3 { gamma as u32 } else { 0 },
            k_eps: ce_eps / nc as f32,
            sq: ctx.squared,
            scale: ctx.pix_scale,
        }
    }
}

/// `v` copied into `buf` when `NC > 0` (then `v.len() == NC`), `v` itself otherwise.
#[inline(always)]
fn fixed_or_slice<'a, T: Copy, const NC: usize>(v: &'a [T], buf: &'a mut [T; NC]) -> &'a [T] {
    if NC > 0 {
        buf.copy_from_slice(&v[..NC]);
        &buf[..]
    } else {
        v
    }
}

/// Per-class scratch: `fixed` for a constant class count `NC > 0` (a constant length, so
/// the per-class loops unroll and LLVM keeps the entries in registers where they fit),
/// `heap` for any count (`NC = 0`). The choice depends on `NC` alone, so it folds away.
#[inline(always)]
pub(super) fn scratch<'a, T, const NC: usize, const K: usize>(
    fixed: &'a mut [T; K],
    heap: &'a mut [T],
) -> &'a mut [T] {
    if NC > 0 { fixed } else { heap }
}

/// The heap side of [`scratch`]: `len` copies of `v` for any class count (`NC = 0`), empty
/// for a constant one.
pub(super) fn heap<T: Clone, const NC: usize>(len: usize, v: T) -> Vec<T> {
    if NC > 0 { Vec::new() } else { vec![v; len] }
}

/// `(u^{k−1}, u^k)` lane by lane for the integer-`γ` focal term, by multiplication;
/// `(1, 1)` for `k = 0`, whose gradient term has the factor `k = 0`.
#[inline(always)]
fn int_powers(u: &[f32; LANES], k: u32) -> ([f32; LANES], [f32; LANES]) {
    let mut uk1 = [1f32; LANES];
    for _ in 1..k {
        for l in 0..LANES {
            uk1[l] *= u[l];
        }
    }
    let mut uk = [1f32; LANES];
    for l in 0..LANES {
        uk[l] = sel(k == 0, 1.0, uk1[l] * u[l]);
    }
    (uk1, uk)
}

/// Whether `Lb` is one of the standard label types of at most 16 bits (`bool`, `u8`, `i8`,
/// `u16`, `i16`), whose `to_i64` lies in `[−2¹⁵, 2¹⁶)`. A type test, not a size test:
/// [`Label`] can be implemented outside the crate, with any `to_i64`.
fn narrow_label<Lb: Label>() -> bool {
    use std::any::TypeId;
    let t = TypeId::of::<Lb>();
    [
        TypeId::of::<bool>(),
        TypeId::of::<u8>(),
        TypeId::of::<i8>(),
        TypeId::of::<u16>(),
        TypeId::of::<i16>(),
    ]
    .contains(&t)
}

/// Converts the labels of pixels `s0..s1` into `out` as classes, `-1` for the ignore label,
/// and sets the block after them to `-1` (the tail block reads all its lanes); returns
/// whether every label is below `nc` or the ignore label. The kernels after it see
/// only `i32` classes, so they are not generic over the label type (a quarter of the
/// instances to compile).
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
fn classes_of<Lb: Label>(
    lab: &[Lb],
    s0: usize,
    s1: usize,
    nc: usize,
    ignore: i64,
    out: &mut [i32; PIXEL_CHUNK],
) -> bool {
    debug_assert!(s1 - s0 <= PIXEL_CHUNK);
    let mut bad = 0u32;
    if narrow_label::<Lb>() {
        // These labels lie in `[−2¹⁵, 2¹⁶)`, so the comparisons can be made in `i32`,
        // sixteen to an AVX-512 register instead of eight. An ignore label outside that
        // range matches no label; `i32::MIN` stands for it, which no such label equals.
        let nc = i32::try_from(nc).unwrap_or(i32::MAX);
        let ignore = i32::try_from(ignore)
            .ok()
            .filter(|v| (-(1 << 15)..(1 << 16)).contains(v))
            .unwrap_or(i32::MIN);
        for (o, &v) in out.iter_mut().zip(&lab[s0..s1]) {
            let v = v.to_i64() as i32;
            bad += u32::from(!((0..nc).contains(&v) | (v == ignore)));
            *o = if v == ignore { -1 } else { v };
        }
    } else {
        for (o, &v) in out.iter_mut().zip(&lab[s0..s1]) {
            let v = v.to_i64();
            bad += u32::from(!((0..nc as i64).contains(&v) | (v == ignore)));
            *o = if v == ignore { -1 } else { v as i32 };
        }
    }
    let n = s1 - s0;
    out[n..(n + LANES).min(PIXEL_CHUNK)].fill(-1);
    bad == 0
}

thread_local! {
    /// Each thread's label buffer for [`with_classes`]: reused, because initialising 16 KB
    /// per unit and pass cost about 1% of a Dice+CE call (a `memset` in its profile).
    static CLS_BUF: RefCell<[i32; PIXEL_CHUNK]> = const { RefCell::new([-1; PIXEL_CHUNK]) };
}

/// Runs `f(labels_ok, classes)` with [`classes_of`]'s classes of pixels `s0..s1`, in this
/// thread's reused buffer (a fresh one if a caller up the stack holds it, which no unit does).
fn with_classes<Lb: Label, R>(
    lab: &[Lb],
    s0: usize,
    s1: usize,
    nc: usize,
    ignore: i64,
    f: impl FnOnce(bool, &[i32; PIXEL_CHUNK]) -> R,
) -> R {
    CLS_BUF.with(|cell| {
        let mut held = cell.try_borrow_mut();
        let mut fresh;
        let buf: &mut [i32; PIXEL_CHUNK] = match held {
            Ok(ref mut b) => b,
            Err(_) => {
                fresh = [-1i32; PIXEL_CHUNK];
                &mut fresh
            }
        };
        let ok = classes_of(lab, s0, s1, nc, ignore, buf);
        f(ok, buf)
    })
}

/// Writes one block (`len ≤ LANES` lanes) into `dst`.
#[inline(always)]
fn put(dst: &mut [f32], src: &[f32; LANES]) {
    if let Ok(d) = <&mut [f32; LANES]>::try_from(&mut *dst) {
        *d = *src;
    } else {
        let n = dst.len();
        dst.copy_from_slice(&src[..n]);
    }
}

/// The pixel term's gradient for a block, `pa·p_c + pb·[c = y] + vf·cw_c`, where
/// `cw_c = −scale·(ε/C)·w_c` for cross-entropy's label smoothing and 0 otherwise.
struct PixelGrad {
    pa: [f32; LANES],
    pb: [f32; LANES],
    scale: f32,
    k_eps: f32,
    ce: bool,
}

/// Writes the gradient of one block from the probabilities `p` (one `[f32; LANES]` per
/// class): the pixel term plus, with `coef`, the Dice-type term
/// `p_c (g_c − Σ_k p_k g_k)` with `g_c = A_c [c = y] + B_c (1 or 2 p_c)`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn grad_block(
    p: &[[f32; LANES]],
    cls: &[i32; LANES],
    vf: &[f32; LANES],
    terms: &PixelGrad,
    wts: &[f32],
    coef: Option<&[[f32; 2]]>,
    sq: bool,
    gs: &mut [&mut [f32]],
    off: usize,
    len: usize,
    gp: &mut [[f32; LANES]],
) {
    // `g_c` goes into `gp` (one row per class, a fixed array for a constant class count),
    // computed once for both the dot product and the gradient: computing it twice cost a
    // fifth of pass 2's vector operations.
    let mut dot = [0f32; LANES];
    if let Some(cf) = coef {
        for (c, ((pc, gc), &[ca, cb])) in p.iter().zip(gp.iter_mut()).zip(cf).enumerate() {
            let ci = c as i32;
            for l in 0..LANES {
                let hit = sel(cls[l] == ci, 1.0, 0.0);
                // `2p` exact (see the sums in `unit_body`).
                gc[l] = ca.mul_add(hit, cb * vf[l] * sel(sq, 2.0 * pc[l], 1.0));
                dot[l] = pc[l].mul_add(gc[l], dot[l]);
            }
        }
    }
    let has_region = coef.is_some();
    let (pa, pb) = (&terms.pa, &terms.pb);
    for (c, ((pc, gc), &wc)) in p.iter().zip(gp.iter()).zip(wts).enumerate() {
        let cw = -terms.scale * terms.k_eps * wc * sel(terms.ce, 1.0, 0.0);
        let ci = c as i32;
        let mut gl = [0f32; LANES];
        for l in 0..LANES {
            let p = pc[l];
            let hit = sel(cls[l] == ci, 1.0, 0.0);
            let pix = pa[l].mul_add(p, pb[l].mul_add(hit, vf[l] * cw));
            let reg = sel(has_region, p * (gc[l] - dot[l]), 0.0);
            gl[l] = pix + reg;
        }
        put(&mut gs[c][off..off + len], &gl);
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn unit_body<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    mut grads: Option<&mut [&mut [f32]]>,
    mut losses: Option<&mut [f32]>,
) -> SoftmaxOut {
    // `NC > 0`: the class count is a constant, so the per-class scratch is a fixed array
    // that LLVM keeps in registers; `NC = 0`: any count, scratch on the heap.
    let nc = if NC > 0 { NC } else { ctx.classes };
    let s = ctx.spatial;
    let Terms {
        wts,
        ce_eps,
        ce_wsum,
        gamma,
        kint,
        k_eps,
        sq,
        scale,
    } = Terms::of(ctx, nc);
    debug_assert_eq!(ctx.pixel.kind(), KIND);
    // A fixed array for a constant class count: the per-class loops then have a constant
    // trip count and unroll into straight-line code (with the `Vec`'s runtime length, LLVM
    // kept a compare and branch per class and spilled the scratch around them).
    let mut wts_fixed = [0f32; NC];
    let wts = fixed_or_slice(&wts, &mut wts_fixed);

    let mut e_heap = heap::<_, NC>(nc, [0f32; LANES]);
    let mut gp_heap = heap::<_, NC>(nc, [0f32; LANES]);
    let mut sacc_fixed = [[[0f32; LANES]; 3]; NC];
    let mut sacc_heap = vec![[[0f32; LANES]; 3]; if NC > 0 || !ctx.want_sums { 0 } else { nc }];
    // Chosen on `NC` alone, a constant: a choice that also depended on `want_sums` left the
    // slice's length unknown, and LLVM kept the class loop of the sums below as a run-time
    // loop with its accumulators in memory (and a scalar copy of it behind an alias check).
    // Without `want_sums` the accumulators go unused (`sums` is empty).
    let sacc: &mut [[[f32; LANES]; 3]] = if NC > 0 {
        &mut sacc_fixed
    } else {
        &mut sacc_heap
    };
    let mut sums = vec![[0f64; 3]; if ctx.want_sums { nc } else { 0 }];
    let mut acc_loss = [0f32; LANES];
    let mut acc_w = [0f32; LANES];
    let mut acc_n = [0f32; LANES];
    let mut acc_bad = [0f32; LANES];
    let mut out = SoftmaxOut::default();

    // The block body as a macro, expanded twice: with `len = LANES` (a constant) for the
    // full blocks, where every copy is a fixed-size move, and once for the tail. With one
    // runtime `len` LLVM merges the full and partial copies into `memcpy` calls (about a
    // tenth of the time of a softmax Dice pass).
    macro_rules! block {
        ($b:expr, $len:expr) => {{
            let b: usize = $b;
            let len: usize = $len;
            // Per-block scratch for a constant class count (see `from_p_body`).
            let mut e_fixed = [[0f32; LANES]; NC];
            let e = scratch::<_, NC, NC>(&mut e_fixed, &mut e_heap);
            for (c, ec) in e.iter_mut().enumerate() {
                let base = c * s + b;
                if len == LANES {
                    super::prefetch_ahead(x.as_ptr(), base);
                }
                // Fixed-size array copies stay in registers; slice copies become memcpy calls.
                if let Ok(src) = <&[f32; LANES]>::try_from(&x[base..base + len]) {
                    *ec = *src;
                } else {
                    *ec = [0.0; LANES];
                    ec[..len].copy_from_slice(&x[base..base + len]);
                }
            }
            // Labels were converted for the whole unit up front: building them lane by lane
            // here and reloading them as a vector stalled on store forwarding.
            let mut cls = [-1i32; LANES];
            if let Ok(src) = <&[i32; LANES]>::try_from(&cls_buf[b - s0..b - s0 + LANES]) {
                cls = *src;
            }
            let mut vf = [0f32; LANES];
            for l in 0..LANES {
                vf[l] = sel(cls[l] >= 0, 1.0, 0.0);
            }
            let mut m = e[0];
            for ec in e.iter().skip(1) {
                for l in 0..LANES {
                    // A select, not `f32::max`, whose NaN handling costs two more vector
                    // operations per class; non-finite logits are rejected anyway.
                    m[l] = sel(ec[l] > m[l], ec[l], m[l]);
                }
            }
            let mut xy = [0f32; LANES];
            let mut ey = [0f32; LANES];
            let mut z = [0f32; LANES];
            // `Σ e_c` over the classes below the maximum, and how many classes tie at it
            // (`e = 1` exactly): `ln z = ln_1p((ties − 1) + below)` keeps full relative
            // accuracy for confident pixels, where `ln z` itself would lose it to the
            // rounding of `1 + tiny` (an absolute error of 6e-8 in a loss of 1e-4).
            let mut below = [0f32; LANES];
            let mut ties = [0f32; LANES];
            let mut zrest = [0f32; LANES];
            let mut swd = [0f32; LANES];
            let mut wy = [0f32; LANES];
            // `zip`, not `wts[c]`: a bounds check per class in the hot loop otherwise
            // (`wts` has one weight per class, checked when the loss was configured).
            for (c, (ec, &wc)) in e.iter_mut().zip(wts).enumerate() {
                let ci = c as i32;
                for l in 0..LANES {
                    let d = ec[l] - m[l];
                    let hit = cls[l] == ci;
                    // The input check: `d·0 + acc` is `acc` while every `d` is finite and
                    // NaN, for good, once one is not; `d = x_c − m` is not finite exactly
                    // when a logit of the pixel is not (an infinite `x_c` makes `m`
                    // infinite too, and `∞ − ∞` is NaN). One FMA per logit, on a value
                    // already in a register (a separate pass over the logits cost a
                    // seventh of the cross-entropy kernel's time in a store-forwarding
                    // stall).
                    acc_bad[l] = d.mul_add(0.0, acc_bad[l]);
                    let ex = exp_neg(d);
                    xy[l] += sel(hit, d, 0.0);
                    ey[l] += sel(hit, ex, 0.0);
                    zrest[l] += sel(hit, 0.0, ex);
                    swd[l] = wc.mul_add(d, swd[l]);
                    wy[l] += sel(hit, wc, 0.0);
                    z[l] += ex;
                    below[l] += sel(d == 0.0, 0.0, ex);
                    ties[l] += sel(d == 0.0, 1.0, 0.0);
                    ec[l] = ex;
                }
            }
            let mut lnz = [0f32; LANES];
            let mut inv = [0f32; LANES];
            for l in 0..LANES {
                inv[l] = 1.0 / z[l];
                lnz[l] = ln_1p_recip((ties[l] - 1.0) + below[l], z[l], inv[l]);
            }
            // From here on `e` holds the probabilities `p_c = e_c / Z`. Lanes outer for a
            // constant class count: with the classes inner and unrolled, LLVM vectorises
            // across lanes; in the other order it vectorised across the classes of
            // `NC = 8`, with gathers and scatters (a sixteenth of a cross-entropy call).
            if NC > 0 {
                for l in 0..LANES {
                    for ec in e.iter_mut() {
                        ec[l] *= inv[l];
                    }
                }
            } else {
                for ec in e.iter_mut() {
                    for l in 0..LANES {
                        ec[l] *= inv[l];
                    }
                }
            }
            // Pixel term: loss, and its gradient as pa·p_c + pb·[c = y] + vf·cw_c.
            let mut pa = [0f32; LANES];
            let mut pb = [0f32; LANES];
            let mut lo = [0f32; LANES];
            match KIND {
                1 => {
                    for l in 0..LANES {
                        let q = (1.0 - ce_eps) * wy[l] + vf[l] * k_eps * ce_wsum;
                        lo[l] =
                            q * lnz[l] - (1.0 - ce_eps) * wy[l] * xy[l] - vf[l] * k_eps * swd[l];
                        acc_loss[l] += lo[l];
                        acc_w[l] += wy[l];
                        acc_n[l] += vf[l];
                        pa[l] = scale * q;
                        pb[l] = -scale * (1.0 - ce_eps) * wy[l];
                    }
                }
                2 => {
                    for l in 0..LANES {
                        let zr = zrest[l];
                        // −ln p_y; when y is the arg-max (x_y − m = 0, e_y = 1) it is
                        // ln(1 + Σ_{k≠y} e_k), exact for confident pixels.
                        let nl = sel(xy[l] == 0.0, ln_1p(zr), lnz[l] - xy[l]);
                        let lnu = ln(zr.max(f32::MIN_POSITIVE)) - lnz[l];
                        let mm = sel(zr == 0.0 && gamma > 0.0, 0.0, exp_neg(gamma * lnu));
                        let u = zr * inv[l];
                        let ratio = sel(zr > 0.0, nl / u, 1.0);
                        let py = ey[l] * inv[l];
                        let kk = wy[l] * vf[l];
                        lo[l] = kk * mm * nl;
                        acc_loss[l] += lo[l];
                        acc_w[l] += wy[l];
                        acc_n[l] += vf[l];
                        let f = kk * mm * (1.0 + gamma * py * ratio);
                        pa[l] = scale * f;
                        pb[l] = -scale * f;
                    }
                }
                3 => {
                    // `u = 1 − p_y` as the other classes' share (no cancellation), and
                    // `−ln p_y = ln Z − (x_y − m)`: a sum of two non-negative terms, and
                    // `ln Z` alone when `y` is the arg-max, which `lnz` keeps accurate.
                    let mut u = [0f32; LANES];
                    for l in 0..LANES {
                        u[l] = zrest[l] * inv[l];
                    }
                    let (uk1, um) = int_powers(&u, kint);
                    let kf = kint as f32;
                    for l in 0..LANES {
                        let mm = um[l];
                        let nl = lnz[l] - xy[l];
                        let py = ey[l] * inv[l];
                        let kk = wy[l] * vf[l];
                        lo[l] = kk * mm * nl;
                        acc_loss[l] += lo[l];
                        acc_w[l] += wy[l];
                        acc_n[l] += vf[l];
                        // `(1 − p_y)^γ (1 + γ p_y (−ln p_y)/(1 − p_y))` without the division.
                        let f = kk * (kf * py * nl).mul_add(uk1[l], mm);
                        pa[l] = scale * f;
                        pb[l] = -scale * f;
                    }
                }
                _ => {
                    for l in 0..LANES {
                        acc_n[l] += vf[l];
                    }
                }
            }
            if let Some(out) = losses.as_deref_mut() {
                out[b - s0..b - s0 + len].copy_from_slice(&lo[..len]);
            }
            if ctx.want_sums {
                for (c, (ec, sa)) in e.iter().zip(sacc.iter_mut()).enumerate() {
                    let ci = c as i32;
                    for l in 0..LANES {
                        let p = ec[l];
                        let hit = sel(cls[l] == ci, 1.0, 0.0);
                        sa[0][l] = p.mul_add(hit, sa[0][l]);
                        // `p` or `p²` as `p·(p or 1)`, exact to one rounding (see
                        // `sigmoid::pass1_step`).
                        sa[1][l] = (vf[l] * p).mul_add(sel(sq, p, 1.0), sa[1][l]);
                        sa[2][l] += hit;
                    }
                }
            }
            if let Some(gs) = grads.as_deref_mut() {
                let off = b - s0;
                if ctx.store_p {
                    for (c, ec) in e.iter().enumerate() {
                        put(&mut gs[c][off..off + len], ec);
                    }
                } else {
                    let terms = PixelGrad {
                        pa,
                        pb,
                        scale,
                        k_eps,
                        ce: KIND == 1,
                    };
                    let mut gp_fixed = [[0f32; LANES]; NC];
                    let gp = scratch::<_, NC, NC>(&mut gp_fixed, &mut gp_heap);
                    grad_block(e, &cls, &vf, &terms, wts, None, sq, gs, off, len, gp);
                }
            }
        }};
    }
    let full_end = s0 + (s1 - s0) / LANES * LANES;
    for (k, b) in (s0..full_end).step_by(LANES).enumerate() {
        block!(b, LANES);
        if k % FOLD == FOLD - 1 {
            out.loss += fold(&mut acc_loss);
            out.wsum += fold(&mut acc_w);
            out.count += fold(&mut acc_n);
            for (sa, su) in sacc.iter_mut().zip(sums.iter_mut()) {
                for i in 0..3 {
                    su[i] += fold(&mut sa[i]);
                }
            }
        }
    }
    if full_end < s1 {
        block!(full_end, s1 - full_end);
    }
    out.loss += fold(&mut acc_loss);
    out.wsum += fold(&mut acc_w);
    out.count += fold(&mut acc_n);
    for (sa, su) in sacc.iter_mut().zip(sums.iter_mut()) {
        for i in 0..3 {
            su[i] += fold(&mut sa[i]);
        }
    }
    out.bad |= ctx.check && fold(&mut acc_bad).is_nan();
    out.sums = sums;
    out
}

/// Pass 2 of a Dice-type loss whose pass 1 stored the probabilities in the gradient buffer
/// ([`SoftmaxCtx::store_p`]): reads `p_c` back from `grads` and overwrites it with the
/// gradient. Cross-entropy's and the Dice-type term's gradients need only `p` and the label,
/// so for them this pass has no `exp` and computes bit for bit what recomputing `p` would;
/// the focal term needs two `ln` and one `exp` per pixel instead of one `exp` per logit.
#[inline(always)]
fn from_p_body<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    grads: &mut [&mut [f32]],
    coef: &[[f32; 2]],
) {
    let nc = if NC > 0 { NC } else { ctx.classes };
    let t = Terms::of(ctx, nc);
    debug_assert_eq!(ctx.pixel.kind(), KIND);
    let (ce_eps, scale, k_eps) = (t.ce_eps, t.scale, t.k_eps);
    let mut wts_fixed = [0f32; NC];
    let wts = fixed_or_slice(&t.wts, &mut wts_fixed);
    // The coefficients as a local copy for a constant class count: read through the
    // caller's slice, LLVM reloaded them for every block (it cannot rule out that the
    // gradient stores change them).
    let mut coef_fixed = [[0f32; 2]; NC];
    let coef = fixed_or_slice(coef, &mut coef_fixed);
    let mut p_heap = heap::<_, NC>(nc, [0f32; LANES]);
    let mut gp_heap = heap::<_, NC>(nc, [0f32; LANES]);
    // The block body as a macro, expanded for the full blocks (`len = LANES`, a constant:
    // the copies stay fixed-size moves) and once for the tail, as in `unit_body` (with a
    // runtime `len` the copies were `memcpy` calls, a twentieth of a Dice+CE call).
    macro_rules! block {
        ($b:expr, $len:expr) => {{
            let b: usize = $b;
            let len: usize = $len;
            let off = b - s0;
            // Per-block scratch for a constant class count: one array shared by the full
            // blocks and the tail (whose copies have a run-time length) was kept in memory.
            let mut p_fixed = [[0f32; LANES]; NC];
            let mut gp_fixed = [[0f32; LANES]; NC];
            let p = scratch::<_, NC, NC>(&mut p_fixed, &mut p_heap);
            let gp = scratch::<_, NC, NC>(&mut gp_fixed, &mut gp_heap);
            for (c, pc) in p.iter_mut().enumerate() {
                if len == LANES {
                    super::prefetch_ahead(grads[c].as_ptr(), off);
                }
                let src = &grads[c][off..off + len];
                if let Ok(src) = <&[f32; LANES]>::try_from(src) {
                    *pc = *src;
                } else {
                    *pc = [0.0; LANES];
                    pc[..len].copy_from_slice(src);
                }
            }
            let mut cls = [-1i32; LANES];
            if let Ok(src) = <&[i32; LANES]>::try_from(&cls_buf[off..off + LANES]) {
                cls = *src;
            }
            let mut vf = [0f32; LANES];
            let mut wy = [0f32; LANES];
            for l in 0..LANES {
                vf[l] = sel(cls[l] >= 0, 1.0, 0.0);
            }
            for (c, &wc) in wts.iter().enumerate() {
                let ci = c as i32;
                for l in 0..LANES {
                    wy[l] += sel(cls[l] == ci, wc, 0.0);
                }
            }
            let mut terms = PixelGrad {
                pa: [0.0; LANES],
                pb: [0.0; LANES],
                scale,
                k_eps,
                ce: KIND == 1,
            };
            match KIND {
                1 => {
                    // The same expressions as `unit_body`'s cross-entropy arm.
                    for l in 0..LANES {
                        let q = (1.0 - ce_eps) * wy[l] + vf[l] * k_eps * t.ce_wsum;
                        terms.pa[l] = scale * q;
                        terms.pb[l] = -scale * (1.0 - ce_eps) * wy[l];
                    }
                }
                2 | 3 => {
                    // Focal from the probabilities alone: `u = 1 − p_y` as the sum of the other
                    // classes' `p` (no cancellation), `−ln p_y` as `ln(1 + u/p_y)` when `p_y > ½`,
                    // so every factor keeps its relative accuracy; `p_y·(−ln p_y)/u` is taken as
                    // its limit 0 when `p_y` underflowed and 1 when `u = 0`.
                    let mut py = [0f32; LANES];
                    let mut u = [0f32; LANES];
                    for (c, pc) in p.iter().enumerate() {
                        let ci = c as i32;
                        for l in 0..LANES {
                            let hit = cls[l] == ci;
                            py[l] += sel(hit, pc[l], 0.0);
                            u[l] += sel(hit, 0.0, pc[l]);
                        }
                    }
                    if KIND == 3 {
                        // Integer `γ`: the same as `unit_body`'s kind 3, from `p`.
                        let (uk1, um) = int_powers(&u, t.kint);
                        let kf = t.kint as f32;
                        for l in 0..LANES {
                            let (py, u) = (py[l], u[l]);
                            let nl = sel(py > 0.5, ln_1p(u / py), -ln(py.max(f32::MIN_POSITIVE)));
                            let mm = um[l];
                            let kk = wy[l] * vf[l];
                            let f = kk * (kf * py * nl).mul_add(uk1[l], mm);
                            terms.pa[l] = scale * f;
                            terms.pb[l] = -scale * f;
                        }
                    } else {
                        for l in 0..LANES {
                            let (py, u) = (py[l], u[l]);
                            let nl = sel(py > 0.5, ln_1p(u / py), -ln(py.max(f32::MIN_POSITIVE)));
                            let mm = sel(
                                u == 0.0 && t.gamma > 0.0,
                                0.0,
                                exp_neg(t.gamma * ln(u.max(f32::MIN_POSITIVE))),
                            );
                            let ratio = sel(u > 0.0, nl / u, 1.0);
                            let pr = sel(py > 0.0, py * ratio, 0.0);
                            let kk = wy[l] * vf[l];
                            let f = kk * mm * (1.0 + t.gamma * pr);
                            terms.pa[l] = scale * f;
                            terms.pb[l] = -scale * f;
                        }
                    }
                }
                _ => {}
            }
            grad_block(
                p,
                &cls,
                &vf,
                &terms,
                wts,
                Some(coef),
                t.sq,
                grads,
                off,
                len,
                gp,
            );
        }};
    }
    let full_end = s0 + (s1 - s0) / LANES * LANES;
    for b in (s0..full_end).step_by(LANES) {
        block!(b, LANES);
    }
    if full_end < s1 {
        block!(full_end, s1 - full_end);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
fn from_p_simd<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    grads: &mut [&mut [f32]],
    coef: &[[f32; 2]],
) {
    from_p_body::<NC, KIND>(ctx, cls_buf, s0, s1, grads, coef)
}

/// See [`from_p_body`].
pub(crate) fn grad_from_p<Lb: Label>(
    ctx: &SoftmaxCtx<'_>,
    lab: &[Lb],
    s0: usize,
    s1: usize,
    grads: &mut [&mut [f32]],
    coef: &[[f32; 2]],
) {
    with_classes(lab, s0, s1, ctx.classes, ctx.ignore, |_, cls_buf| {
        macro_rules! go {
            ($nc:literal, $lnc:literal, $k:literal) => {
                if super::simd_enabled() {
                    if !explicit_from_p::<$nc, $k>(ctx, cls_buf, s0, s1, grads, coef) {
                        from_p_simd::<$lnc, $k>(ctx, cls_buf, s0, s1, grads, coef)
                    }
                } else {
                    from_p_body::<$lnc, $k>(ctx, cls_buf, s0, s1, grads, coef)
                }
            };
        }
        with_consts!(ctx.classes, ctx.pixel.kind(), go)
    })
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn unit_simd<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    grads: Option<&mut [&mut [f32]]>,
    losses: Option<&mut [f32]>,
) -> SoftmaxOut {
    unit_body::<NC, KIND>(ctx, x, cls_buf, s0, s1, grads, losses)
}

/// Pass 1 by the explicit AVX-512 code ([`super::softmax_avx512`]) when it covers the call
/// (any class count and pixel term, no per-pixel losses, a gradient as stored probabilities
/// or, without the Dice-type sums, as the pixel term's) and the CPU has AVX-512; `None`
/// otherwise. Same results as [`unit_simd`].
#[inline]
#[allow(clippy::too_many_arguments)]
fn explicit_unit<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    grads: &mut Option<&mut [&mut [f32]]>,
    map: bool,
) -> Option<SoftmaxOut> {
    #[cfg(target_arch = "x86_64")]
    if !map && (grads.is_none() || ctx.store_p || !ctx.want_sums) && super::avx512::available() {
        let grads = grads.as_deref_mut();
        // SAFETY: `available` found the target features of `unit` on this CPU.
        return Some(unsafe {
            super::softmax_avx512::unit::<NC, KIND>(ctx, x, cls_buf, s0, s1, grads)
        });
    }
    // Elsewhere than x86-64 the arguments go unused.
    let _ = (ctx, x, cls_buf, s0, s1, grads, map);
    None
}

/// Pass 2 by the explicit AVX-512 code ([`super::softmax_avx512::from_p`]) when the CPU has
/// AVX-512 (it covers every class count); returns whether it ran. Same results as
/// [`from_p_simd`].
#[inline]
fn explicit_from_p<const NC: usize, const KIND: u8>(
    ctx: &SoftmaxCtx<'_>,
    cls_buf: &[i32; PIXEL_CHUNK],
    s0: usize,
    s1: usize,
    grads: &mut [&mut [f32]],
    coef: &[[f32; 2]],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if super::avx512::available() {
        // SAFETY: `available` found the target features of `from_p` on this CPU.
        unsafe { super::softmax_avx512::from_p::<NC, KIND>(ctx, cls_buf, s0, s1, grads, coef) };
        return true;
    }
    let _ = (ctx, cls_buf, s0, s1, grads, coef);
    false
}

/// Processes pixels `s0..s1` of one image: `x` is the image's `C×S` logits, `lab` its `S`
/// labels, `grads` (when given) the `C` gradient pieces for those pixels, which receive the
/// pixel term's gradient (or, with [`SoftmaxCtx::store_p`], the probabilities), `losses`
/// (when given) receives the pixel term of each pixel.
#[allow(clippy::too_many_arguments)]
pub(crate) fn unit<Lb: Label>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    lab: &[Lb],
    s0: usize,
    s1: usize,
    mut grads: Option<&mut [&mut [f32]]>,
    losses: Option<&mut [f32]>,
) -> SoftmaxOut {
    let map = losses.is_some();
    with_classes(
        lab,
        s0,
        s1,
        ctx.classes,
        ctx.ignore,
        |labels_ok, cls_buf| {
            macro_rules! go {
                ($nc:literal, $lnc:literal, $k:literal) => {
                    if super::simd_enabled() {
                        match explicit_unit::<$nc, $k>(ctx, x, cls_buf, s0, s1, &mut grads, map) {
                            Some(out) => out,
                            None => unit_simd::<$lnc, $k>(ctx, x, cls_buf, s0, s1, grads, losses),
                        }
                    } else {
                        unit_body::<$lnc, $k>(ctx, x, cls_buf, s0, s1, grads, losses)
                    }
                };
            }
            let mut out = with_consts!(ctx.classes, ctx.pixel.kind(), go);
            out.bad |= ctx.check && !labels_ok;
            out
        },
    )
}
