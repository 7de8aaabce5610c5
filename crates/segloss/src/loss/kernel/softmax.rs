//! Softmax kernels over the channel axis: cross-entropy and focal terms, Dice-type sums and
//! gradients, for class-index targets.
//!
//! A block holds [`LANES`] neighbouring pixels of one image; the `C` logits of a pixel are
//! `S` apart. Per block: `m = max_c x_c`, `e_c = exp(x_c − m)` (kept in a `C×LANES` scratch),
//! `Z = Σ e_c`, `ln Z`, then each requested quantity; the only per-element transcendental is
//! the one `exp` per logit (plus a few per pixel).

use super::{FOLD, LANES, fold, sel};
use crate::label::Label;
use crate::math::{exp, ln, ln_1p, ln_1p_unit_recip};
use multiversion::multiversion;

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
    /// in [`SoftmaxOut::bad`]; used by passes that write nothing.
    pub check: bool,
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

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn unit_body<Lb: Label>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    lab: &[Lb],
    s0: usize,
    s1: usize,
    mut grads: Option<&mut [&mut [f32]]>,
    coef: Option<&[[f32; 2]]>,
    mut losses: Option<&mut [f32]>,
) -> SoftmaxOut {
    let nc = ctx.classes;
    let s = ctx.spatial;
    let ones;
    let wts: &[f32] = match ctx.pixel.weights() {
        Some(w) => w,
        None => {
            ones = vec![1.0f32; nc];
            &ones
        }
    };
    let (ce_eps, ce_wsum, gamma, kind) = match ctx.pixel {
        SoftmaxPixel::None => (0.0, 0.0, 0.0, 0u8),
        SoftmaxPixel::Ce {
            wsum, smoothing, ..
        } => (*smoothing, *wsum, 0.0, 1u8),
        SoftmaxPixel::Focal { gamma, .. } => (0.0, 0.0, *gamma, 2u8),
    };
    let k_eps = ce_eps / nc as f32;
    let sq = sel(ctx.squared, 1.0, 0.0);
    let scale = ctx.pix_scale;

    let mut e = vec![[0f32; LANES]; nc];
    let mut sacc = if ctx.want_sums {
        vec![[[0f32; LANES]; 3]; nc]
    } else {
        Vec::new()
    };
    let mut sums = vec![[0f64; 3]; if ctx.want_sums { nc } else { 0 }];
    let mut acc_loss = [0f32; LANES];
    let mut acc_w = [0f32; LANES];
    let mut acc_n = [0f32; LANES];
    let mut out = SoftmaxOut::default();

    // The block body as a macro, expanded twice: with `len = LANES` (a constant) for the
    // full blocks, where every copy is a fixed-size move, and once for the tail. With one
    // runtime `len` LLVM merges the full and partial copies into `memcpy` calls (about a
    // tenth of the time of a softmax Dice pass).
    macro_rules! block {
        ($b:expr, $len:expr) => {{
            let b: usize = $b;
            let len: usize = $len;
            for (c, ec) in e.iter_mut().enumerate() {
                let base = c * s + b;
                // Fixed-size array copies stay in registers; slice copies become memcpy calls.
                if let Ok(src) = <&[f32; LANES]>::try_from(&x[base..base + len]) {
                    *ec = *src;
                } else {
                    *ec = [0.0; LANES];
                    ec[..len].copy_from_slice(&x[base..base + len]);
                }
            }
            let mut cls = [-1i32; LANES];
            for (l, cl) in cls.iter_mut().enumerate().take(len) {
                let v = lab[b + l].to_i64();
                *cl = if v == ctx.ignore { -1 } else { v as i32 };
            }
            if ctx.check {
                let mut ok = true;
                for &v in &lab[b..b + len] {
                    let v = v.to_i64();
                    ok &= (v >= 0 && v < nc as i64) | (v == ctx.ignore);
                }
                for ec in e.iter() {
                    for &v in ec {
                        ok &= v.abs() <= f32::MAX;
                    }
                }
                out.bad |= !ok;
            }
            let mut vf = [0f32; LANES];
            for l in 0..LANES {
                vf[l] = sel(cls[l] >= 0, 1.0, 0.0);
            }
            let mut m = e[0];
            for ec in e.iter().skip(1) {
                for l in 0..LANES {
                    m[l] = m[l].max(ec[l]);
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
            for (c, ec) in e.iter_mut().enumerate() {
                let wc = wts[c];
                let ci = c as i32;
                for l in 0..LANES {
                    let d = ec[l] - m[l];
                    let hit = cls[l] == ci;
                    let ex = exp(d);
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
                lnz[l] = ln_1p_unit_recip((ties[l] - 1.0) + below[l], z[l], inv[l]);
            }
            // Pixel term: loss, and its gradient as pa·p_c + pb·[c = y] + vf·cw_c.
            let mut pa = [0f32; LANES];
            let mut pb = [0f32; LANES];
            let mut lo = [0f32; LANES];
            match kind {
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
                        let mm = sel(zr == 0.0 && gamma > 0.0, 0.0, exp(gamma * lnu));
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
                        let p = ec[l] * inv[l];
                        let hit = sel(cls[l] == ci, 1.0, 0.0);
                        sa[0][l] = p.mul_add(hit, sa[0][l]);
                        sa[1][l] = (vf[l] * p).mul_add(sq.mul_add(p - 1.0, 1.0), sa[1][l]);
                        sa[2][l] += hit;
                    }
                }
            }
            if let Some(gs) = grads.as_deref_mut() {
                let mut dot = [0f32; LANES];
                if let Some(cf) = coef {
                    for (c, ec) in e.iter().enumerate() {
                        let [ca, cb] = cf[c];
                        let ci = c as i32;
                        for l in 0..LANES {
                            let p = ec[l] * inv[l];
                            let hit = sel(cls[l] == ci, 1.0, 0.0);
                            let gp = ca.mul_add(hit, cb * vf[l] * sq.mul_add(2.0 * p - 1.0, 1.0));
                            dot[l] = p.mul_add(gp, dot[l]);
                        }
                    }
                }
                let (ca0, cb0, has_region) = (0.0f32, 0.0f32, coef.is_some());
                let off = b - s0;
                for (c, ec) in e.iter().enumerate() {
                    let [ca, cb] = coef.map_or([ca0, cb0], |cf| cf[c]);
                    let cw = -scale * k_eps * wts[c] * sel(kind == 1, 1.0, 0.0);
                    let ci = c as i32;
                    let mut gl = [0f32; LANES];
                    for l in 0..LANES {
                        let p = ec[l] * inv[l];
                        let hit = sel(cls[l] == ci, 1.0, 0.0);
                        let pix = pa[l].mul_add(p, pb[l].mul_add(hit, vf[l] * cw));
                        let gp = ca.mul_add(hit, cb * vf[l] * sq.mul_add(2.0 * p - 1.0, 1.0));
                        let reg = sel(has_region, p * (gp - dot[l]), 0.0);
                        gl[l] = pix + reg;
                    }
                    if let Ok(dst) = <&mut [f32; LANES]>::try_from(&mut gs[c][off..off + len]) {
                        *dst = gl;
                    } else {
                        gs[c][off..off + len].copy_from_slice(&gl[..len]);
                    }
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
    out.sums = sums;
    out
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn unit_simd<Lb: Label>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    lab: &[Lb],
    s0: usize,
    s1: usize,
    grads: Option<&mut [&mut [f32]]>,
    coef: Option<&[[f32; 2]]>,
    losses: Option<&mut [f32]>,
) -> SoftmaxOut {
    unit_body::<Lb>(ctx, x, lab, s0, s1, grads, coef, losses)
}

/// Processes pixels `s0..s1` of one image: `x` is the image's `C×S` logits, `lab` its `S`
/// labels, `grads` (when given) the `C` gradient pieces for those pixels, `coef` the
/// image's per-class Dice-type gradient coefficients `[∂L/∂Σpt, ∂L/∂Σp]`, `losses` (when
/// given) receives the pixel term of each pixel.
#[allow(clippy::too_many_arguments)]
pub(crate) fn unit<Lb: Label>(
    ctx: &SoftmaxCtx<'_>,
    x: &[f32],
    lab: &[Lb],
    s0: usize,
    s1: usize,
    grads: Option<&mut [&mut [f32]]>,
    coef: Option<&[[f32; 2]]>,
    losses: Option<&mut [f32]>,
) -> SoftmaxOut {
    if super::simd_enabled() {
        unit_simd::<Lb>(ctx, x, lab, s0, s1, grads, coef, losses)
    } else {
        unit_body::<Lb>(ctx, x, lab, s0, s1, grads, coef, losses)
    }
}
