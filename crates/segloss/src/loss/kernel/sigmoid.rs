//! Element-wise sigmoid kernels: BCE and focal terms, Dice-type sums and gradients.
//!
//! Every element function starts from `e = e^{-|x|}` (one `exp`) and `l = ln(1 + e)` (one
//! `ln_1p`), from which `σ(x)`, `σ(-x)`, `softplus(x) = max(x,0) + l` and
//! `softplus(-x) = max(-x,0) + l` all follow without overflow or cancellation.

use super::{FOLD, LANES, fold, sel};

/// Calls `$f::<$t, SQ>(args)` with the const `SQ` equal to the run-time `$squared`: the
/// squared denominator is chosen once per call, outside the loops.
macro_rules! by_squared {
    ($squared:expr, $f:ident::<$t:ty>($($arg:expr),* $(,)?)) => {
        if $squared {
            $f::<$t, true>($($arg),*)
        } else {
            $f::<$t, false>($($arg),*)
        }
    };
}

/// Elements per group of [`FOLD`] blocks.
const GROUP: usize = FOLD * LANES;
use crate::math::{exp_minus, exp_neg, ln, ln_1p_unit, sigmoid_pair};
use multiversion::multiversion;

/// Defines the kernel entry point `$name` for the body `$body`: `$simd`, a clone of the body
/// per SIMD target (AVX-512, AVX2+FMA; `multiversion` picks one at run time), or the
/// portable body itself when [`super::force_scalar`] is on.
macro_rules! entry {
    ($(#[$doc:meta])* $name:ident, $simd:ident => $body:ident(
        $($arg:ident: $ty:ty),* $(,)?
    ) $(-> $ret:ty)?) => {
        #[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
        #[allow(clippy::too_many_arguments)]
        fn $simd<T: SigmoidTerm>($($arg: $ty),*) $(-> $ret)? {
            $body::<T>($($arg),*)
        }

        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn $name<T: SigmoidTerm>($($arg: $ty),*) $(-> $ret)? {
            if super::simd_enabled() {
                $simd::<T>($($arg),*)
            } else {
                $body::<T>($($arg),*)
            }
        }
    };
}

/// `(σ(x), σ(-x), e^{-|x|}, σ(|x|), ln(1 + e^{-|x|}))`: `math::sigmoid_pair` (one `exp`,
/// one division, one mask) and `ln_1p_unit`, which skips `ln_1p`'s special cases, impossible
/// for `e ∈ [0, 1]`.
#[inline(always)]
pub(crate) fn parts(x: f32) -> (f32, f32, f32, f32, f32) {
    let (a, b, e, r) = sigmoid_pair(x);
    (a, b, e, r, ln_1p_unit(e))
}

/// A per-element loss term of a sigmoid loss.
pub(crate) trait SigmoidTerm: Sync {
    /// Whether pass 1 of a Dice-type loss stores this term's gradient in `grad` for pass 2 to
    /// add to (a compile-time choice). Worth it where the term costs more to evaluate again
    /// than the extra write and read of `grad` (the focal terms: measured faster); BCE is
    /// cheaper to recompute in pass 2 (measured: storing it made Dice+BCE slower), and
    /// [`NoTerm`] has no gradient to store.
    const STORE_GRAD: bool = false;
    /// Whether the loss of [`SigmoidTerm::eval`] is not finite (`±∞` or NaN) whenever the
    /// logit is not finite or the target is NaN, for every row and every other argument.
    /// The kernels then check only the targets' range on the way ([`accumulate`]), and a unit
    /// whose loss sum is not finite goes to the precise check; otherwise they also add
    /// `x·0 + t·0` to the loss sum ([`flagged`]).
    const LOSS_FLAGS_BAD: bool = false;
    /// Parameters of one channel.
    type Row: Copy + Send + Sync;
    /// The parameters of channel `c`.
    fn row(&self, c: usize) -> Self::Row;
    /// `(loss, ∂loss/∂x, σ(x), σ(-x))` for one element.
    fn eval(row: Self::Row, x: f32, t: f32) -> (f32, f32, f32, f32);
    /// The term's form in the explicit AVX-512 passes (`sigmoid_avx512`), where it has one.
    #[inline(always)]
    fn explicit_form(_row: Self::Row) -> Option<Explicit> {
        None
    }
    /// `(σ(x), σ(x)·σ(-x))`, with `σ(±x)` bit for bit as [`SigmoidTerm::eval`] returns them,
    /// without the rest of the term (pass 2 of a Dice-type loss needs only these). The
    /// product is taken as `σ(|x|)·σ(-|x|)`, which needs no choice on the sign of `x` and is
    /// the same rounded value as `σ(x)·σ(-x)` (a product of the same two factors).
    #[inline(always)]
    fn pq(_row: Self::Row, x: f32, _t: f32) -> (f32, f32) {
        let (a, _, e, r, _) = parts(x);
        (a, r * (e * r))
    }
}

/// Adds one element's loss to its lane's sum (through [`flagged`]) and its target to the
/// lane's range check: the running minimum, from 0, of `t − t² = t(1 − t)`, which is `≥ 0`
/// exactly for `t ∈ [0, 1]` (its sign survives rounding), so a negative minimum means a
/// target outside `[0, 1]`. A NaN `t` gives NaN, which the minimum skips; the loss sum
/// catches it.
///
/// One FMA and one `min` per element for the check, against two FMAs, a compare, a blend
/// and an add for a count of bad elements.
#[inline(always)]
fn accumulate<T: SigmoidTerm>(lo: f32, x: f32, t: f32, sum: &mut f32, margin: &mut f32) {
    let v = t.mul_add(-t, t);
    *margin = sel(v < *margin, v, *margin);
    *sum += flagged::<T>(lo, x, t);
}

/// The loss of one element as the passes sum it: `lo` for a term with
/// [`SigmoidTerm::LOSS_FLAGS_BAD`]; otherwise `x·0 + (t·0 + lo)`, which is `lo` (up to the
/// sign of a zero) for finite `x` and `t ≥ 0` and NaN for a non-finite `x` or a NaN `t`.
/// Either way a bad logit or NaN target makes the unit's loss sum non-finite.
#[inline(always)]
fn flagged<T: SigmoidTerm>(lo: f32, x: f32, t: f32) -> f32 {
    if T::LOSS_FLAGS_BAD {
        lo
    } else {
        x.mul_add(0.0, t.mul_add(0.0, lo))
    }
}

/// Whether a unit may hold a bad input, from its loss sum and its lanes of `t − t²` minima
/// ([`accumulate`]). Never false for a bad input; true also when the loss sum overflows on finite
/// inputs (logits near `f32::MAX`), which the precise check then clears.
#[inline(always)]
fn suspect(loss: f64, margins: &[f32; LANES]) -> bool {
    !loss.is_finite() || margins.iter().any(|&m| m < 0.0)
}

/// A term with passes in explicit AVX-512 (`sigmoid_avx512`), and its parameters.
#[derive(Debug, Clone, Copy)]
// Only the x86-64 kernels read the parameters.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) enum Explicit {
    /// `Focal<FocalInt<K>>` with `K ≤ 4`: `(K, α₊, α₋)`.
    Focal(u32, f32, f32),
    /// `Focal<FocalReal>`: `(γ, α₊, α₋)`.
    RealFocal(f32, f32, f32),
    /// [`BceTerm`]: `(pos_weight, smoothing)`.
    Bce(f32, f32),
    /// [`NoTerm`].
    Plain,
}

/// No pixel term (pure Dice-type losses).
pub(crate) struct NoTerm;

impl SigmoidTerm for NoTerm {
    type Row = ();
    fn row(&self, _c: usize) {}
    #[inline(always)]
    fn explicit_form(_row: ()) -> Option<Explicit> {
        Some(Explicit::Plain)
    }
    #[inline(always)]
    fn eval(_row: (), x: f32, _t: f32) -> (f32, f32, f32, f32) {
        let (a, b, ..) = parts(x);
        (0.0, 0.0, a, b)
    }
}

/// Binary cross-entropy with logits, `pos_weight` and label smoothing.
#[derive(Debug, Clone)]
pub(crate) struct BceTerm {
    /// One value (all channels) or one per channel.
    pub pos_weight: Vec<f32>,
    /// Label smoothing `ε`: `t ← t(1-ε) + ε/2`.
    pub smoothing: f32,
}

impl SigmoidTerm for BceTerm {
    /// The loss is `l·(pt + 1 − t) + |x|·(1 − t or pt)` with `l` finite: for `|x| = ∞` the
    /// second term is `∞·w`, `∞` for `w > 0` and NaN for `w = 0`; a NaN `x` or `t` propagates.
    const LOSS_FLAGS_BAD: bool = true;
    type Row = (f32, f32);
    fn row(&self, c: usize) -> (f32, f32) {
        let pw = if self.pos_weight.len() == 1 {
            self.pos_weight[0]
        } else {
            self.pos_weight[c]
        };
        (pw, self.smoothing)
    }
    #[inline(always)]
    fn explicit_form((pw, ls): (f32, f32)) -> Option<Explicit> {
        Some(Explicit::Bce(pw, ls))
    }
    #[inline(always)]
    fn eval((pw, ls): (f32, f32), x: f32, t: f32) -> (f32, f32, f32, f32) {
        // `mul_add` throughout the kernels: one rounding instead of two, and one instruction
        // where the CPU has FMA (every SIMD clone requires it).
        let t = t.mul_add(1.0 - ls, 0.5 * ls);
        let (a, b, _e, _s, l) = parts(x);
        // `pw·t·softplus(−x) + (1 − t)·softplus(x)` with `softplus(±x) = max(±x, 0) + l`:
        // `l·(pw·t + 1 − t) + |x|·(1 − t or pw·t)`, a sum of non-negative terms (no
        // cancellation) in three operations after `l`.
        let (pt, omt) = (pw * t, 1.0 - t);
        let loss = x.abs().mul_add(sel(x >= 0.0, omt, pt), l * (pt + omt));
        let grad = (-pt).mul_add(b, omt * a);
        (loss, grad, a, b)
    }
}

/// Sigmoid focal loss, `α_t (1 - p_t)^γ BCE(x, t)` with `p_t = p t + (1 - p)(1 - t)` and
/// `α_t = α₊ t + α₋ (1 - t)` (torchvision's convention, which also defines soft targets).
///
/// With `q = 1 - p_t = t σ(-x) + (1 - t) σ(x)` written as `σ(|x|)·(w_big + w_small e)`
/// (`w_big` the weight of the larger of `σ(±x)`), `ln q` is exact in log space, so
/// `q^γ = exp(γ ln q)` never sees `0^γ` and `γ < 1` stays finite. The gradient is
/// `α_t q^γ [(σ(x) - t) + γ (1 - 2t) (σ(x)σ(-x)/q) BCE]`, where `σσ/q` is computed as
/// `σ(|x|)·e/(w_big + w_small e)`, bounded by 1.
#[derive(Debug, Clone)]
pub(crate) struct FocalTerm {
    /// `γ ≥ 0`.
    pub gamma: f32,
    /// Per channel `(α₊, α₋)` (already multiplied by the class weight); one entry = all.
    pub alpha: Vec<(f32, f32)>,
}

/// The real-exponent focal term.
pub(crate) struct FocalReal;
/// The integer-exponent focal term (`q^K` by multiplication, no `exp`/`ln`).
pub(crate) struct FocalInt<const K: u32>;

/// `2^-64`: below this the focal denominator is scaled up before its reciprocal is taken.
pub(super) const TINY: f32 = f32::from_bits(0x1f80_0000);
/// `2^64`, the scaling factor (exact: a power of two).
pub(super) const HUGE: f32 = f32::from_bits(0x5f80_0000);

/// The intermediate values of a focal element up to `σ(±x)`; see [`focal_common`].
struct FocalSig {
    e: f32,
    den: f32,
    big_zero: bool,
    f: f32,
    inv: f32,
    r: f32,
    a: f32,
    b: f32,
}

/// The first half of [`focal_common`]: `σ(±x)` as the focal term computes them (through
/// the shared division `1/(u·d)`, which can differ from `1/(1 + e)` in the last bit).
#[inline(always)]
fn focal_sig(x: f32, t: f32) -> FocalSig {
    let e = exp_minus(x.abs());
    let u = 1.0 + e;
    let pos = x >= 0.0;
    let w_big = sel(pos, 1.0 - t, t);
    let w_small = sel(pos, t, 1.0 - t);
    let den = w_small.mul_add(e, w_big);
    let big_zero = w_big == 0.0;
    let f = sel(den < TINY, HUGE, 1.0);
    let d = sel(big_zero, 1.0, den * f);
    let inv = 1.0 / (u * d);
    let r = d * inv;
    let er = e * r;
    FocalSig {
        e,
        den,
        big_zero,
        f,
        inv,
        r,
        a: sel(pos, r, er),
        b: sel(pos, er, r),
    }
}

/// The parts of a focal element: `(σ(x), σ(-x), e, l, BCE, den, w_big = 0, σσ/q)`.
///
/// One division serves both `σ(|x|) = 1/u` (`u = 1 + e`) and `σσ/q = e/(u·den)`:
/// `inv = 1/(u·d)`, then `σ(|x|) = d·inv` and `σσ/q = e·f·inv`, where `d = den·f` with
/// `f = 2^64` when `den < 2^-64` (so `inv` stays finite for tiny soft targets) and `d = 1`
/// when `w_big = 0` (where `e/den` is exactly 1, and `0/0` once `e` underflows).
#[inline(always)]
fn focal_common(x: f32, t: f32) -> (f32, f32, f32, f32, f32, f32, bool, f32) {
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
    let l = ln_1p_unit(e);
    let sp_pos = sel(x > 0.0, x, 0.0) + l;
    let sp_neg = sel(x < 0.0, -x, 0.0) + l;
    let bce = t.mul_add(sp_neg, (1.0 - t) * sp_pos);
    let ratio = sel(big_zero, r, e * f * inv);
    (a, b, e, l, bce, den, big_zero, ratio)
}

impl FocalTerm {
    pub(crate) fn row_of(&self, c: usize) -> (f32, f32, f32) {
        let (ap, an) = if self.alpha.len() == 1 {
            self.alpha[0]
        } else {
            self.alpha[c]
        };
        (self.gamma, ap, an)
    }
}

/// A focal term specialised on how `q^γ` is computed.
pub(crate) struct Focal<P>(pub FocalTerm, pub std::marker::PhantomData<P>);

impl SigmoidTerm for Focal<FocalReal> {
    const STORE_GRAD: bool = true;
    /// The loss is `α_t q^γ · BCE`: BCE is `∞` or NaN for `|x| = ∞` (as in [`BceTerm`]), and
    /// a finite or NaN factor times it is `±∞` or NaN; NaN propagates.
    const LOSS_FLAGS_BAD: bool = true;
    type Row = (f32, f32, f32);
    fn row(&self, c: usize) -> Self::Row {
        self.0.row_of(c)
    }
    #[inline(always)]
    fn explicit_form((gamma, ap, an): Self::Row) -> Option<Explicit> {
        Some(Explicit::RealFocal(gamma, ap, an))
    }
    #[inline(always)]
    fn pq(_row: Self::Row, x: f32, t: f32) -> (f32, f32) {
        let s = focal_sig(x, t);
        (s.a, s.r * (s.e * s.r))
    }
    #[inline(always)]
    fn eval((gamma, ap, an): Self::Row, x: f32, t: f32) -> (f32, f32, f32, f32) {
        let (a, b, _e, l, bce, den, big_zero, ratio) = focal_common(x, t);
        let lnq = -l + sel(big_zero, -x.abs(), ln(den));
        let m = exp_neg(gamma * lnq);
        let at = t.mul_add(ap, an * (1.0 - t));
        let am = at * m;
        let loss = am * bce;
        // `σ(x) − t` as `(1 − t)σ(x) − tσ(−x)` (equal, as σ(x) + σ(−x) = 1): no cancellation
        // for confident pixels with hard targets, where `σ(x) − 1` would lose the digits BCE keeps.
        let d = (1.0 - t).mul_add(a, -(t * b));
        let grad = am * (gamma * (1.0 - 2.0 * t) * ratio).mul_add(bce, d);
        (loss, grad, a, b)
    }
}

impl<const K: u32> SigmoidTerm for Focal<FocalInt<K>> {
    const STORE_GRAD: bool = true;
    /// As for [`Focal<FocalReal>`]: `(α_t q^K)·BCE`.
    const LOSS_FLAGS_BAD: bool = true;
    type Row = (f32, f32, f32);
    fn row(&self, c: usize) -> Self::Row {
        self.0.row_of(c)
    }
    #[inline(always)]
    fn explicit_form((_gamma, ap, an): Self::Row) -> Option<Explicit> {
        (K <= 4).then_some(Explicit::Focal(K, ap, an))
    }
    /// With an integer `γ = K`, `q^K` is a product, finite for every `q ≥ 0`, and the
    /// gradient's `q^γ·σσ/q` is `q^{K−1}·σσ`: no `ln q`, no `exp`, and no division by `q`,
    /// so `q = tσ(−x) + (1 − t)σ(x)` is used directly (a sum of two non-negative terms, with
    /// the relative accuracy of `σ(±x)`), and `σ(±x)` come from the one division `1/(1 + e)`
    /// that BCE also uses.
    ///
    /// With `w = α_t q^{K−1}`: loss `= (w q)·BCE` and gradient
    /// `= w·(q (σ(x) − t) + K(1 − 2t) σσ BCE)`, one multiplication by `w` shared by both
    /// terms; `α_t = α₋ + t(α₊ − α₋)` is one FMA (exactly `α₋` for `t = 0`; for `t = 1`,
    /// `α₊` up to one rounding of `α₊ − α₋`, none for the default `α = ¼`).
    #[inline(always)]
    fn eval((_gamma, ap, an): Self::Row, x: f32, t: f32) -> (f32, f32, f32, f32) {
        let (a, b, _e, _s, l) = parts(x);
        let omt = 1.0 - t;
        // BCE `= t·softplus(−x) + (1 − t)·softplus(x) = l + |x|·(1 − t or t)`, as in `BceTerm`.
        let bce = x.abs().mul_add(sel(x >= 0.0, omt, t), l);
        // `q = (1 − t)σ(x) + tσ(−x)` and `σ(x) − t = (1 − t)σ(x) − tσ(−x)` (equal, as
        // σ(x) + σ(−x) = 1: no cancellation for confident pixels with hard targets, where
        // `σ(x) − 1` would lose the digits BCE keeps) share the product `tσ(−x)`.
        let tb = t * b;
        let q = omt.mul_add(a, tb);
        let d = omt.mul_add(a, -tb);
        let mut qk1 = 1.0f32; // q^{K−1}, or 1 for K = 0 (whose term has the factor K = 0)
        let mut k = 1;
        while k < K {
            qk1 *= q;
            k += 1;
        }
        let at = t.mul_add(ap - an, an);
        let w = at * qk1;
        if K == 0 {
            return (w * bce, w * d, a, b);
        }
        let loss = (w * q) * bce;
        // ∂q/∂x = (1 − 2t)σ(x)σ(−x).
        // `K(1 − 2t)` as one FMA; for `K` a power of two it is exactly `K·fl(1 − 2t)`.
        let kf = K as f32;
        let c = t.mul_add(-2.0 * kf, kf);
        let grad = w * q.mul_add(d, c * ((a * b) * bce));
        (loss, grad, a, b)
    }
}

/// Copies a tail of `len < LANES` elements into padded lanes.
#[inline(always)]
fn pad(src: &[f32]) -> [f32; LANES] {
    let mut out = [0.0; LANES];
    out[..src.len()].copy_from_slice(src);
    out
}

/// Pixel loss only: returns `(Σ loss, suspect)` and writes `scale·∂loss/∂x` into `g` when
/// given. `suspect` ([`suspect`]) is true for every unit with a non-finite logit or a target
/// outside `[0, 1]` (checked on the way, in the same pass: the caller then runs the precise
/// check, and on a bad input discards `g`).
#[inline(always)]
fn pixel_unit_body<T: SigmoidTerm>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
) -> (f64, bool) {
    let mut acc = [0f32; LANES];
    let mut margins = [0f32; LANES];
    let mut total = 0f64;
    let full = x.len() / LANES * LANES;
    let (xh, xt) = x.split_at(full);
    let (th, tt) = t.split_at(full);
    match g {
        Some(g) => {
            let (gh, gt) = g.split_at_mut(full);
            for (k, ((xc, tc), gc)) in xh
                .chunks_exact(LANES)
                .zip(th.chunks_exact(LANES))
                .zip(gh.chunks_exact_mut(LANES))
                .enumerate()
            {
                super::prefetch_ahead(xc.as_ptr(), 0);
                super::prefetch_ahead(tc.as_ptr(), 0);
                for l in 0..LANES {
                    let (lo, d, _, _) = T::eval(row, xc[l], tc[l]);
                    accumulate::<T>(lo, xc[l], tc[l], &mut acc[l], &mut margins[l]);
                    gc[l] = scale * d;
                }
                if k % FOLD == FOLD - 1 {
                    total += fold(&mut acc);
                }
            }
            let (xp, tp) = (pad(xt), pad(tt));
            for l in 0..xt.len() {
                let (lo, d, _, _) = T::eval(row, xp[l], tp[l]);
                accumulate::<T>(lo, xp[l], tp[l], &mut acc[l], &mut margins[l]);
                gt[l] = scale * d;
            }
        }
        None => {
            for (k, (xc, tc)) in xh
                .chunks_exact(LANES)
                .zip(th.chunks_exact(LANES))
                .enumerate()
            {
                for l in 0..LANES {
                    let lo = T::eval(row, xc[l], tc[l]).0;
                    accumulate::<T>(lo, xc[l], tc[l], &mut acc[l], &mut margins[l]);
                }
                if k % FOLD == FOLD - 1 {
                    total += fold(&mut acc);
                }
            }
            for l in 0..xt.len() {
                let lo = T::eval(row, xt[l], tt[l]).0;
                accumulate::<T>(lo, xt[l], tt[l], &mut acc[l], &mut margins[l]);
            }
        }
    }
    let total = total + fold(&mut acc);
    (total, suspect(total, &margins))
}

entry!(
    /// See [`pixel_unit_body`]; [`pixel_unit`] dispatches.
    pixel_unit_lanes, pixel_unit_simd => pixel_unit_body(
        row: T::Row,
        x: &[f32],
        t: &[f32],
        g: Option<&mut [f32]>,
        scale: f32,
    ) -> (f64, bool)
);

/// One block of pass 1; with `WRITE`, also stores `scale·∂pix/∂x` into `gc`. `acc` holds
/// the lanes of the four sums, `margins` those of the range check ([`accumulate`]). `SQ`:
/// the squared denominator (`Σ p²`, `Σ t²`), a compile-time choice, so the loop carries
/// neither a select nor a branch on it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pass1_step<T: SigmoidTerm, const WRITE: bool, const SQ: bool>(
    row: T::Row,
    scale: f32,
    acc: &mut [[f32; LANES]; 4],
    margins: &mut [f32; LANES],
    xc: &[f32],
    tc: &[f32],
    gc: &mut [f32],
    n: usize,
) {
    for l in 0..n {
        let (lo, d, p, _) = T::eval(row, xc[l], tc[l]);
        let tv = tc[l];
        if WRITE {
            gc[l] = scale * d;
        }
        // Input check on the way: the targets' range in `margins`, a non-finite logit or NaN
        // target through the loss sum.
        accumulate::<T>(lo, xc[l], tv, &mut acc[0][l], &mut margins[l]);
        acc[1][l] = p.mul_add(tv, acc[1][l]);
        // p or p² as p·(p or 1): a select of a loop-invariant choice, and p² exact to one
        // rounding. Not the branch-free `p·(1 + sq·(p − 1))`: its `p − 1` rounds to 2⁻²⁴
        // absolute, a relative error of 6e-8/p in p² (6e-4 at p = 1e-4).
        acc[2][l] = p.mul_add(if SQ { p } else { 1.0 }, acc[2][l]);
        acc[3][l] = tv.mul_add(if SQ { tv } else { 1.0 }, acc[3][l]);
    }
}

/// Pass 1 of a Dice-type loss: `([Σ loss, Σ p t, Σ p (or p²), Σ t (or t²)], suspect)`,
/// where `suspect` ([`suspect`]) is true for every unit with a non-finite logit or a target
/// outside `[0, 1]` (checked on the way: the caller then runs the precise check, and on a
/// bad input discards `g`). With `g` (given for a term with
/// [`SigmoidTerm::STORE_GRAD`] when the gradient is wanted) it also writes the pixel term's
/// gradient `scale·∂pix/∂x`, to which pass 2 adds the Dice part, so pass 2 need not
/// evaluate the pixel term again. `side(b)` runs after full block `b` ([`pass12_unit_body`]
/// puts another unit's pass 2 there).
#[inline(always)]
fn pass1_with<T: SigmoidTerm, const SQ: bool>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
    mut side: impl FnMut(usize),
) -> ([f64; 4], bool) {
    let mut acc = [[0f32; LANES]; 4];
    let mut margins = [0f32; LANES];
    let mut total = [0f64; 4];
    let full = x.len() / LANES * LANES;
    let (xh, xt) = x.split_at(full);
    let (th, tt) = t.split_at(full);
    // One loop for both cases: without a gradient the blocks get empty slices, which
    // `pass1_step::<_, false>` never touches. Groups of `FOLD` blocks, folded after the
    // group (the last, partial group with the tail): with the fold inside the block loop,
    // LLVM kept the sums on the stack, a load and a store per sum and block.
    macro_rules! blocks {
        ($write:literal, $g:expr) => {{
            let g: &mut [f32] = $g;
            for (k, (xg, tg)) in xh.chunks(GROUP).zip(th.chunks(GROUP)).enumerate() {
                let gg: &mut [f32] = if $write {
                    &mut g[k * GROUP..k * GROUP + xg.len()]
                } else {
                    &mut []
                };
                for b in 0..xg.len() / LANES {
                    super::prefetch_ahead(xg.as_ptr(), b * LANES);
                    super::prefetch_ahead(tg.as_ptr(), b * LANES);
                    let gc: &mut [f32] = if $write {
                        &mut gg[b * LANES..(b + 1) * LANES]
                    } else {
                        &mut []
                    };
                    pass1_step::<T, $write, SQ>(
                        row,
                        scale,
                        &mut acc,
                        &mut margins,
                        &xg[b * LANES..(b + 1) * LANES],
                        &tg[b * LANES..(b + 1) * LANES],
                        gc,
                        LANES,
                    );
                    side(k * FOLD + b);
                }
                if xg.len() == GROUP {
                    for (tot, a) in total.iter_mut().zip(&mut acc) {
                        *tot += fold(a);
                    }
                }
            }
            let gt: &mut [f32] = if $write { &mut g[full..] } else { &mut [] };
            pass1_step::<T, $write, SQ>(row, scale, &mut acc, &mut margins, xt, tt, gt, xt.len());
        }};
    }
    match g {
        Some(g) => blocks!(true, g),
        None => blocks!(false, &mut []),
    }
    for (tot, a) in total.iter_mut().zip(&mut acc) {
        *tot += fold(a);
    }
    (total, suspect(total[0], &margins))
}

/// [`pass1_with`] alone.
#[inline(always)]
fn pass1_unit_body<T: SigmoidTerm>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
    squared: bool,
) -> ([f64; 4], bool) {
    by_squared!(squared, pass1_with::<T>(row, x, t, g, scale, |_| {}))
}

entry!(
    /// See [`pass1_unit_body`]; [`pass1_unit`] dispatches.
    pass1_unit_lanes, pass1_unit_simd => pass1_unit_body(
        row: T::Row,
        x: &[f32],
        t: &[f32],
        g: Option<&mut [f32]>,
        scale: f32,
        squared: bool,
    ) -> ([f64; 4], bool)
);

/// `∂L/∂p = A t + B·(1 or 2p)` of the Dice-type part (`2p` exact, see `pass1_step`).
#[inline(always)]
fn dice_dp<const SQ: bool>(ca: f32, cb: f32, t: f32, p: f32) -> f32 {
    ca.mul_add(t, if SQ { cb * (2.0 * p) } else { cb })
}

#[inline(always)]
fn pass2_step<T: SigmoidTerm, const SQ: bool>(
    row: T::Row,
    [ca, cb, scale]: [f32; 3],
    xc: &[f32],
    tc: &[f32],
    gc: &mut [f32],
    n: usize,
) {
    for l in 0..n {
        if T::STORE_GRAD {
            // `gc` holds `scale·∂pix/∂x` from pass 1: the same rounded value as evaluating
            // the term here, so the result is bit for bit that of the branch below.
            let (p, pq) = T::pq(row, xc[l], tc[l]);
            gc[l] = dice_dp::<SQ>(ca, cb, tc[l], p).mul_add(pq, gc[l]);
        } else {
            let (_, d, p, q) = T::eval(row, xc[l], tc[l]);
            gc[l] = dice_dp::<SQ>(ca, cb, tc[l], p).mul_add(p * q, scale * d);
        }
    }
}

/// Pass 2 of a Dice-type loss: `g = scale·∂pix/∂x + (A t + B·(1 or 2p))·σ(x)σ(-x)`. With
/// [`SigmoidTerm::STORE_GRAD`] the first term is already in `g` (written by pass 1) and only
/// `σ(±x)` are evaluated here; otherwise the term is evaluated again.
#[inline(always)]
fn pass2_unit_body<T: SigmoidTerm>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: &mut [f32],
    scale: f32,
    coef: [f32; 2],
    squared: bool,
) {
    by_squared!(squared, pass2_with::<T>(row, x, t, g, scale, coef))
}

/// [`pass2_unit_body`] for a compile-time choice of the squared denominator.
#[inline(always)]
fn pass2_with<T: SigmoidTerm, const SQ: bool>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: &mut [f32],
    scale: f32,
    coef: [f32; 2],
) {
    let [ca, cb] = coef;
    let full = x.len() / LANES * LANES;
    let (xh, xt) = x.split_at(full);
    let (th, tt) = t.split_at(full);
    let (gh, gt) = g.split_at_mut(full);
    for ((xc, tc), gc) in xh
        .chunks_exact(LANES)
        .zip(th.chunks_exact(LANES))
        .zip(gh.chunks_exact_mut(LANES))
    {
        super::prefetch_ahead(xc.as_ptr(), 0);
        super::prefetch_ahead(tc.as_ptr(), 0);
        super::prefetch_ahead(gc.as_ptr(), 0);
        pass2_step::<T, SQ>(row, [ca, cb, scale], xc, tc, gc, LANES);
    }
    pass2_step::<T, SQ>(row, [ca, cb, scale], xt, tt, gt, xt.len());
}

entry!(
    /// See [`pass2_unit_body`]; [`pass2_unit`] dispatches.
    pass2_unit_lanes, pass2_unit_simd => pass2_unit_body(
        row: T::Row,
        x: &[f32],
        t: &[f32],
        g: &mut [f32],
        scale: f32,
        coef: [f32; 2],
        squared: bool,
    )
);

/// One unit's pass 2 (`x`, `t`, `g`: see [`pass2_unit_body`]) to run beside another unit's
/// pass 1 ([`pass12_unit`]).
pub(crate) struct Pass2Unit<'a, R> {
    pub row: R,
    pub x: &'a [f32],
    pub t: &'a [f32],
    pub g: &'a mut [f32],
    pub coef: [f32; 2],
}

/// Pass 1 of one unit and pass 2 of another (of the previous image) in one loop, a block
/// of each per iteration: pass 1 is bound by vector arithmetic and pass 2 by memory, and
/// together the core overlaps the two. Each unit gets exactly what [`pass1_unit_body`] and
/// [`pass2_unit_body`] would give it: every element's arithmetic is the same, and pass 1's
/// sums run in the same order.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pass12_unit_body<T: SigmoidTerm>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
    squared: bool,
    other: Pass2Unit<'_, T::Row>,
) -> ([f64; 4], bool) {
    by_squared!(squared, pass12_with::<T>(row, x, t, g, scale, other))
}

/// [`pass12_unit_body`] for a compile-time choice of the squared denominator.
#[inline(always)]
fn pass12_with<T: SigmoidTerm, const SQ: bool>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
    other: Pass2Unit<'_, T::Row>,
) -> ([f64; 4], bool) {
    let Pass2Unit {
        row: row2,
        x: x2,
        t: t2,
        g: g2,
        coef: [ca, cb],
    } = other;
    let k2 = [ca, cb, scale];
    let blocks2 = x2.len() / LANES;
    let out = pass1_with::<T, SQ>(row, x, t, g, scale, |b| {
        if b < blocks2 {
            for p in [x2.as_ptr(), t2.as_ptr(), g2.as_ptr()] {
                super::prefetch_ahead(p, b * LANES);
            }
            let r = b * LANES..(b + 1) * LANES;
            let (xc, tc, gc) = (&x2[r.clone()], &t2[r.clone()], &mut g2[r]);
            pass2_step::<T, SQ>(row2, k2, xc, tc, gc, LANES);
        }
    });
    // The blocks of the second unit beyond the first unit's, and its tail.
    let done = (x.len() / LANES).min(blocks2) * LANES;
    pass2_with::<T, SQ>(
        row2,
        &x2[done..],
        &t2[done..],
        &mut g2[done..],
        scale,
        [ca, cb],
    );
    out
}

entry!(
    /// See [`pass12_unit_body`]; [`pass12_unit`] dispatches.
    pass12_unit_lanes, pass12_unit_simd => pass12_unit_body(
        row: T::Row,
        x: &[f32],
        t: &[f32],
        g: Option<&mut [f32]>,
        scale: f32,
        squared: bool,
        other: Pass2Unit<'_, T::Row>,
    ) -> ([f64; 4], bool)
);

/// `T::explicit_form(row)` when the explicit AVX-512 passes (`sigmoid_avx512`) run it: the
/// SIMD path is on and the CPU has AVX-512.
#[inline(always)]
fn explicit<T: SigmoidTerm>(row: T::Row) -> Option<Explicit> {
    #[cfg(target_arch = "x86_64")]
    if let Some(f) = T::explicit_form(row)
        && super::simd_enabled()
        && super::avx512::available()
    {
        return Some(f);
    }
    let _ = row;
    None
}

/// Calls `sigmoid_avx512::$f(term, args)` with `term` the explicit form `$e` (for the focal
/// term, `K` in `0..=4`, see [`SigmoidTerm::explicit_form`]).
#[cfg(target_arch = "x86_64")]
macro_rules! by_term {
    ($f:ident, $e:expr, ($($arg:expr),* $(,)?)) => {{
        use super::sigmoid_avx512::{$f, Bce, IntFocal, Plain, RealFocal, Term};
        let e: Explicit = $e;
        match e {
            Explicit::Focal(0, ..) => $f(IntFocal::<0>::of(e), $($arg),*),
            Explicit::Focal(1, ..) => $f(IntFocal::<1>::of(e), $($arg),*),
            Explicit::Focal(2, ..) => $f(IntFocal::<2>::of(e), $($arg),*),
            Explicit::Focal(3, ..) => $f(IntFocal::<3>::of(e), $($arg),*),
            Explicit::Focal(..) => $f(IntFocal::<4>::of(e), $($arg),*),
            Explicit::RealFocal(..) => $f(RealFocal::of(e), $($arg),*),
            Explicit::Bce(..) => $f(Bce::of(e), $($arg),*),
            Explicit::Plain => $f(Plain, $($arg),*),
        }
    }};
}

/// The pixel loss of one unit ([`pixel_unit_body`]), dispatched as [`pass1_unit`].
pub(crate) fn pixel_unit<T: SigmoidTerm>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
) -> (f64, bool) {
    #[cfg(target_arch = "x86_64")]
    if let Some(e) = explicit::<T>(row) {
        // SAFETY: `explicit` found AVX-512F and FMA on this CPU.
        return unsafe { by_term!(pixel, e, (x, t, g, scale)) };
    }
    pixel_unit_lanes::<T>(row, x, t, g, scale)
}

/// Pass 1 of a Dice-type loss ([`pass1_unit_body`]): by the explicit AVX-512 code for the
/// terms of [`Explicit`] where [`explicit`] allows, by [`pass1_unit_lanes`] otherwise (the
/// same bits).
pub(crate) fn pass1_unit<T: SigmoidTerm>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
    squared: bool,
) -> ([f64; 4], bool) {
    #[cfg(target_arch = "x86_64")]
    if let Some(e) = explicit::<T>(row) {
        // SAFETY: `explicit` found AVX-512F and FMA on this CPU.
        return unsafe { by_term!(pass12, e, (x, t, g, scale, squared, None)) };
    }
    pass1_unit_lanes::<T>(row, x, t, g, scale, squared)
}

/// Pass 2 of a Dice-type loss ([`pass2_unit_body`]), dispatched as [`pass1_unit`].
pub(crate) fn pass2_unit<T: SigmoidTerm>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: &mut [f32],
    scale: f32,
    coef: [f32; 2],
    squared: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(e) = explicit::<T>(row) {
        // SAFETY: `explicit` found AVX-512F and FMA on this CPU.
        unsafe { by_term!(pass2, e, (x, t, g, scale, coef, squared)) };
        return;
    }
    pass2_unit_lanes::<T>(row, x, t, g, scale, coef, squared)
}

/// Pass 1 of one unit beside pass 2 of another ([`pass12_unit_body`]), dispatched as
/// [`pass1_unit`].
pub(crate) fn pass12_unit<T: SigmoidTerm>(
    row: T::Row,
    x: &[f32],
    t: &[f32],
    g: Option<&mut [f32]>,
    scale: f32,
    squared: bool,
    other: Pass2Unit<'_, T::Row>,
) -> ([f64; 4], bool) {
    #[cfg(target_arch = "x86_64")]
    if let Some(e) = explicit::<T>(row)
        && let Some(form) = T::explicit_form(other.row)
    {
        let o = super::sigmoid_avx512::Other {
            form,
            x: other.x,
            t: other.t,
            g: other.g,
            coef: other.coef,
        };
        // SAFETY: `explicit` found AVX-512F and FMA on this CPU.
        return unsafe { by_term!(pass12, e, (x, t, g, scale, squared, Some(o))) };
    }
    pass12_unit_lanes::<T>(row, x, t, g, scale, squared, other)
}

/// Element-wise map: writes each element's loss into `out`.
#[inline(always)]
fn map_unit_body<T: SigmoidTerm>(row: T::Row, x: &[f32], t: &[f32], out: &mut [f32]) {
    for ((o, &xv), &tv) in out.iter_mut().zip(x).zip(t) {
        *o = T::eval(row, xv, tv).0;
    }
}

entry!(
    /// See [`map_unit_body`].
    map_unit, map_unit_simd => map_unit_body(
        row: T::Row,
        x: &[f32],
        t: &[f32],
        out: &mut [f32],
    )
);
