//! Runs a loss *plan* (a pixel term and/or a Dice-type objective, one activation) over a
//! batch: checks the inputs, splits the work into units, combines partial sums in order.
//!
//! Passes: pixel-only losses make one pass (loss and gradient together); Dice-type losses
//! make two, the first computing the overlap sums (and, for combined losses, the pixel
//! term's loss and, for a focal term when the gradient is wanted, its gradient), the
//! second writing the gradient (adding the Dice part to the stored focal gradient). Sigmoid
//! Dice-type losses with per-image sums run image by image where that shares out evenly
//! over the threads, each image's pass 1 beside the previous image's pass 2 ([`image_workers`]).
//!
//! Errors and `grad`: on error `grad` holds no partial result. Errors found before the pass
//! (buffer lengths, target kind, configuration, shape) leave it untouched; errors found in
//! the values during the pass leave it filled with zeros (details on `Loss::forward`).
//! The passes flag bad values on the way instead of checking them in a pass of their own
//! (the sigmoid passes conservatively: a loss sum that overflows on finite inputs is flagged
//! too); when a unit is flagged the read-only checks of [`validate`] run to name the first
//! bad position, and [`zero_on_error`] clears whatever the pass wrote if there is one.

use super::sigmoid::{self, BceTerm, Focal, FocalInt, FocalReal, FocalTerm, NoTerm, SigmoidTerm};
use super::softmax::{self, SoftmaxCtx, SoftmaxPixel};
use super::{PIXEL_CHUNK, ROW_CHUNK, run_units, validate};
use crate::error::{Error, Result};
use crate::label::Label;
use crate::loss::Targets;
use crate::loss::activation::Activation;
use crate::loss::reduction::Reduction;
use crate::loss::region::{RegionSpec, Scope};
use crate::shape::Shape;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// The pixel term of a plan.
#[derive(Debug, Clone)]
pub(crate) enum PixelSpec {
    /// No pixel term.
    None,
    /// Sigmoid BCE.
    Bce(BceTerm),
    /// Sigmoid focal.
    Focal(FocalTerm),
    /// A softmax term.
    Softmax(SoftmaxPixel),
}

/// One loss evaluation: what to compute and how to weigh the parts.
#[derive(Debug, Clone)]
pub(crate) struct Plan<'a> {
    pub op: &'static str,
    pub activation: Activation,
    pub pixel: &'a PixelSpec,
    pub pixel_weight: f64,
    pub pixel_reduction: Reduction,
    pub region: Option<(&'a RegionSpec, f64)>,
    pub ignore: Option<i64>,
    /// Per-class vectors of the plan that must have `C` entries, with their names.
    pub class_vectors: &'a [(&'static str, usize)],
}

fn target_name(t: &Targets<'_>) -> &'static str {
    match t {
        Targets::Dense(_) => "dense f32 masks",
        Targets::U8(_) => "u8 class indices",
        Targets::U16(_) => "u16 class indices",
        Targets::U32(_) => "u32 class indices",
        Targets::I64(_) => "i64 class indices",
    }
}

/// Checks that a per-class vector has one entry or one per channel.
pub(crate) fn check_class_len(
    op: &'static str,
    what: &'static str,
    len: usize,
    classes: usize,
) -> Result<()> {
    if len != 1 && len != classes {
        return Err(Error::Incompatible {
            op,
            what,
            expected: format!("{classes} (one per channel)"),
            found: len.to_string(),
        });
    }
    Ok(())
}

/// Checks everything that does not depend on the values.
fn check_common(
    plan: &Plan<'_>,
    logits: &[f32],
    shape: &Shape,
    grad: Option<&[f32]>,
) -> Result<()> {
    shape.check_len(plan.op, "logits", logits.len())?;
    if let Some(g) = grad {
        shape.check_len(plan.op, "grad", g.len())?;
    }
    for &(what, len) in plan.class_vectors {
        check_class_len(plan.op, what, len, shape.channels())?;
    }
    Ok(())
}

/// Runs `$body` with `$t` bound to the monomorphic sigmoid term of `$plan` (focal terms with
/// an integer γ ≤ 4 get the multiplication-only kernel).
macro_rules! with_sigmoid_term {
    ($plan:expr, $t:ident => $body:expr) => {
        match $plan.pixel {
            PixelSpec::None => {
                let $t = &NoTerm;
                $body
            }
            PixelSpec::Bce(b) => {
                let $t = b;
                $body
            }
            PixelSpec::Focal(f) => {
                macro_rules! int {
                    ($k:literal) => {{
                        let $t = &Focal::<FocalInt<$k>>(f.clone(), PhantomData);
                        $body
                    }};
                }
                match f.gamma {
                    0.0 => int!(0),
                    1.0 => int!(1),
                    2.0 => int!(2),
                    3.0 => int!(3),
                    4.0 => int!(4),
                    _ => {
                        let $t = &Focal::<FocalReal>(f.clone(), PhantomData);
                        $body
                    }
                }
            }
            PixelSpec::Softmax(_) => Err(Error::Incompatible {
                op: $plan.op,
                what: "activation",
                expected: "softmax".into(),
                found: "sigmoid".into(),
            }),
        }
    };
}

/// Evaluates `plan`; see [`crate::loss::Loss::forward`].
pub(crate) fn run(
    plan: &Plan<'_>,
    logits: &[f32],
    targets: Targets<'_>,
    shape: &Shape,
    grad: Option<&mut [f32]>,
) -> Result<f64> {
    check_common(plan, logits, shape, grad.as_deref())?;
    match plan.activation {
        Activation::Sigmoid => {
            let Targets::Dense(t) = targets else {
                return Err(Error::TargetKind {
                    op: plan.op,
                    expected: "dense f32 masks (sigmoid losses need one target per logit)",
                    found: target_name(&targets),
                });
            };
            shape.check_len(plan.op, "targets", t.len())?;
            // The values are checked inside the passes (see the module docs).
            with_sigmoid_term!(plan, term => run_sigmoid(term, plan, logits, t, shape, grad))
        }
        Activation::Softmax => {
            if shape.channels() < 2 {
                return Err(Error::InvalidShape {
                    op: plan.op,
                    shape: shape.dims().to_vec(),
                    reason: "softmax over the channel axis needs at least 2 channels",
                });
            }
            let none = SoftmaxPixel::None;
            let pixel = match plan.pixel {
                PixelSpec::None => &none,
                PixelSpec::Softmax(p) => p,
                _ => {
                    return Err(Error::Incompatible {
                        op: plan.op,
                        what: "activation",
                        expected: "sigmoid".into(),
                        found: "softmax".into(),
                    });
                }
            };
            match targets {
                Targets::Dense(_) => Err(Error::TargetKind {
                    op: plan.op,
                    expected: "class indices (softmax losses take one label per pixel)",
                    found: target_name(&targets),
                }),
                Targets::U8(l) => run_softmax(pixel, plan, logits, l, shape, grad),
                Targets::U16(l) => run_softmax(pixel, plan, logits, l, shape, grad),
                Targets::U32(l) => run_softmax(pixel, plan, logits, l, shape, grad),
                Targets::I64(l) => run_softmax(pixel, plan, logits, l, shape, grad),
            }
        }
    }
}

/// For an error found in the values during a pass: runs `check` (a read-only check that
/// names the first bad position) and, if it fails, fills the whole of `grad` with zeros so
/// that no partial result is left, then returns the error. If `check` passes, `grad` is
/// left as the pass wrote it and `Ok` is returned.
///
/// # Errors
/// The error of `check`.
pub(crate) fn zero_on_error(
    grad: Option<&mut [f32]>,
    check: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let res = check();
    if res.is_err()
        && let Some(g) = grad
    {
        g.fill(0.0);
    }
    res
}

/// How many workers run a sigmoid Dice-type loss with its gradient image by image (0: unit
/// by unit instead). Each worker takes the next image not yet taken, and runs its pass 1
/// beside the pass 2 of the image it took before ([`sigmoid::pass12_unit`]), which then
/// finds that image's logits, targets and gradient still in cache and overlaps its memory
/// traffic with pass 1's arithmetic (measured: see `docs/kernel-performance.md`). Taking
/// images as they come, rather than a fixed run of them per thread, keeps both threads busy
/// when one starts late (a sleeping pool thread can take a millisecond to wake on a virtual
/// machine). Only for per-image sums, and only where the images share out about evenly over
/// the threads; each image's results do not depend on the worker that ran it, so the result
/// is the same bits as unit by unit, for any thread count.
fn image_workers(spec: &RegionSpec, images: usize) -> usize {
    #[cfg(feature = "rayon")]
    let threads = rayon::current_num_threads().max(1);
    #[cfg(not(feature = "rayon"))]
    let threads = 1;
    let even = images.is_multiple_of(threads) || images >= 4 * threads;
    if spec.scope != Scope::PerImage || !even {
        return 0;
    }
    threads.min(images)
}

/// Splits `grad` (rows of `S`) into the sigmoid units, in unit order.
fn sigmoid_slices(grad: &mut [f32], s: usize) -> Vec<&mut [f32]> {
    grad.chunks_mut(s)
        .flat_map(|row| row.chunks_mut(ROW_CHUNK))
        .collect()
}

fn run_sigmoid<T: SigmoidTerm>(
    term: &T,
    plan: &Plan<'_>,
    x: &[f32],
    t: &[f32],
    shape: &Shape,
    mut grad: Option<&mut [f32]>,
) -> Result<f64> {
    let (nb, nc, s) = (shape.batch(), shape.channels(), shape.spatial_len());
    let rows = nb * nc;
    let ppr = s.div_ceil(ROW_CHUNK);
    let units = rows * ppr;
    let range = |u: usize| {
        let r = u / ppr;
        let a = (u % ppr) * ROW_CHUNK;
        let b = (a + ROW_CHUNK).min(s);
        (r, r * s + a, r * s + b)
    };
    let pix_norm = match plan.pixel_reduction {
        Reduction::Mean => shape.len() as f64,
        Reduction::Sum => 1.0,
    };
    let pix_scale = plan.pixel_weight / pix_norm;
    let workers = match (plan.region, &grad) {
        (Some((spec, _)), Some(_)) => image_workers(spec, nb),
        _ => 0,
    };
    match plan.region {
        None => {
            let slices = grad.as_deref_mut().map(|g| sigmoid_slices(g, s));
            let parts = run_units(units, slices, |u, g| {
                let (r, a, b) = range(u);
                sigmoid::pixel_unit::<T>(term.row(r % nc), &x[a..b], &t[a..b], g, pix_scale as f32)
            });
            if parts.iter().any(|p| p.1) {
                zero_on_error(grad, || validate::dense_inputs(plan.op, x, t))?;
            }
            Ok(parts.iter().map(|p| p.0).sum::<f64>() * pix_scale)
        }
        Some((spec, weight)) if workers > 0 => {
            let scale = spec.scale(nb, nc, weight);
            let (sq, ps) = (spec.squared, pix_scale as f32);
            let row_of = |u: usize| term.row(u / ppr % nc);
            // Each image's gradient, for the worker that takes the image (each lock is
            // taken once, so never contended).
            let slots: Vec<Mutex<Option<&mut [f32]>>> = grad
                .as_deref_mut()
                .unwrap_or_default()
                .chunks_mut(nc * s)
                .map(|gi| Mutex::new(Some(gi)))
                .collect();
            let next = AtomicUsize::new(0);
            let per_worker = run_units(workers, None::<Vec<()>>, |_, _| {
                let mut out = Vec::new();
                // The coefficients of the previous image, its first unit, and its units
                // awaiting pass 2.
                let mut coef = vec![[0f32; 2]; nc];
                let mut prev: Option<(usize, Vec<&mut [f32]>)> = None;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = slots.get(n) else { break };
                    let gi = slot
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take()
                        .unwrap_or_default();
                    let u0 = n * nc * ppr;
                    let mut units = sigmoid_slices(gi, s);
                    let nu = units.len();
                    let mut parts = Vec::with_capacity(nu);
                    for (j, unit) in units.iter_mut().enumerate() {
                        let (_, a, b) = range(u0 + j);
                        let g = if T::STORE_GRAD {
                            Some(&mut **unit)
                        } else {
                            None
                        };
                        let (xs, ts) = (&x[a..b], &t[a..b]);
                        parts.push(match prev.as_mut() {
                            // Beside the previous image's pass 2, its units backwards:
                            // the last ones pass 1 wrote are the likeliest still in cache.
                            Some((p0, pu)) => {
                                let j2 = nu - 1 - j;
                                let u2 = *p0 + j2;
                                let (_, a2, b2) = range(u2);
                                let other = sigmoid::Pass2Unit {
                                    row: row_of(u2),
                                    x: &x[a2..b2],
                                    t: &t[a2..b2],
                                    g: &mut *pu[j2],
                                    coef: coef[j2 / ppr],
                                };
                                sigmoid::pass12_unit::<T>(row_of(u0 + j), xs, ts, g, ps, sq, other)
                            }
                            None => sigmoid::pass1_unit::<T>(row_of(u0 + j), xs, ts, g, ps, sq),
                        });
                    }
                    let mut sums = vec![[0f64; 3]; nc];
                    for (j, (p, _)) in parts.iter().enumerate() {
                        for k in 0..3 {
                            sums[j / ppr][k] += p[k + 1];
                        }
                    }
                    let reg = spec.evaluate_image(nc, &sums, scale, &mut coef);
                    out.push((n, parts, reg));
                    prev = Some((u0, units));
                }
                if let Some((u0, mut units)) = prev {
                    for (j, g) in units.iter_mut().enumerate().rev() {
                        let (_, a, b) = range(u0 + j);
                        let (xs, ts) = (&x[a..b], &t[a..b]);
                        let cf = coef[j / ppr];
                        sigmoid::pass2_unit::<T>(row_of(u0 + j), xs, ts, g, ps, cf, sq);
                    }
                }
                out
            });
            // In image order: the sums below run in the same order for any thread count.
            let mut images: Vec<_> = per_worker.into_iter().flatten().collect();
            images.sort_unstable_by_key(|im| im.0);
            let images: Vec<_> = images.into_iter().map(|(_, p, r)| (p, r)).collect();
            if images.iter().any(|(parts, _)| parts.iter().any(|p| p.1)) {
                zero_on_error(grad, || validate::dense_inputs(plan.op, x, t))?;
            }
            let pix = images
                .iter()
                .flat_map(|(parts, _)| parts)
                .fold(0f64, |acc, p| acc + p.0[0]);
            let reg = images.iter().fold(0f64, |acc, im| acc + im.1) * scale;
            Ok(pix * pix_scale + reg)
        }
        Some((spec, weight)) => {
            // A focal term writes its gradient in pass 1 (`T::STORE_GRAD`, a compile-time
            // choice); BCE and pure Dice-type losses write nothing there.
            let slices = match grad.as_deref_mut() {
                Some(g) if T::STORE_GRAD => Some(sigmoid_slices(g, s)),
                _ => None,
            };
            let parts = run_units(units, slices, |u, g| {
                let (r, a, b) = range(u);
                sigmoid::pass1_unit::<T>(
                    term.row(r % nc),
                    &x[a..b],
                    &t[a..b],
                    g,
                    pix_scale as f32,
                    spec.squared,
                )
            });
            if parts.iter().any(|p| p.1) {
                zero_on_error(grad.as_deref_mut(), || {
                    validate::dense_inputs(plan.op, x, t)
                })?;
            }
            let mut sums = vec![[0f64; 3]; rows];
            let mut pix = 0f64;
            for (u, (p, _)) in parts.iter().enumerate() {
                let r = u / ppr;
                pix += p[0];
                for k in 0..3 {
                    sums[r][k] += p[k + 1];
                }
            }
            let mut coef = vec![[0f32; 2]; rows];
            let reg = spec.evaluate(nb, nc, &sums, weight, &mut coef);
            if let Some(g) = grad {
                let slices = sigmoid_slices(g, s);
                run_units(units, Some(slices), |u, g| {
                    let (r, a, b) = range(u);
                    if let Some(g) = g {
                        sigmoid::pass2_unit::<T>(
                            term.row(r % nc),
                            &x[a..b],
                            &t[a..b],
                            g,
                            pix_scale as f32,
                            coef[r],
                            spec.squared,
                        );
                    }
                });
            }
            Ok(pix * pix_scale + reg)
        }
    }
}

/// Splits `grad` into the softmax units: for each unit, its `C` channel pieces.
fn softmax_slices(grad: &mut [f32], nc: usize, s: usize) -> Vec<Vec<&mut [f32]>> {
    let ppi = s.div_ceil(PIXEL_CHUNK);
    let mut out = Vec::with_capacity(grad.len() / (nc * s) * ppi);
    for img in grad.chunks_mut(nc * s) {
        let mut chans: Vec<_> = img
            .chunks_mut(s)
            .map(|ch| ch.chunks_mut(PIXEL_CHUNK))
            .collect();
        for _ in 0..ppi {
            out.push(chans.iter_mut().filter_map(|it| it.next()).collect());
        }
    }
    out
}

fn run_softmax<Lb: Label>(
    pixel: &SoftmaxPixel,
    plan: &Plan<'_>,
    x: &[f32],
    lab: &[Lb],
    shape: &Shape,
    grad: Option<&mut [f32]>,
) -> Result<f64> {
    let (nb, nc, s) = (shape.batch(), shape.channels(), shape.spatial_len());
    shape.check_index_len(plan.op, "targets", lab.len())?;
    let ce_weights = match pixel {
        SoftmaxPixel::Ce { weights, .. } => Some(weights.as_slice()),
        _ => None,
    };
    let scale_of = |count: f64, wsum: f64| {
        let norm = match (plan.pixel_reduction, pixel) {
            (Reduction::Sum, _) => 1.0,
            (Reduction::Mean, SoftmaxPixel::Ce { .. }) => wsum,
            (Reduction::Mean, _) => count,
        };
        // All pixels ignored (or zero total weight): the pixel term is 0 with gradient 0.
        if norm > 0.0 {
            plan.pixel_weight / norm
        } else {
            0.0
        }
    };
    // Labels are checked (and counted, for the mean) before any pass: the scan is cheap and
    // the cross-entropy mean needs `Σ w_y` before the gradient is written. Logits are
    // checked inside the first pass; when it finds a bad one the gradient is zeroed.
    let pix_scale = if plan.region.is_none() {
        let (count, wsum) = match validate::labels(plan.op, lab, nc, plan.ignore, ce_weights) {
            Ok(v) => v,
            // A bad logit is reported before a bad label, as everywhere else.
            Err(e) => {
                validate::logits(plan.op, x)?;
                return Err(e);
            }
        };
        scale_of(count as f64, wsum)
    } else {
        0.0
    };
    let ppi = s.div_ceil(PIXEL_CHUNK);
    let units = nb * ppi;
    let range = |u: usize| {
        let n = u / ppi;
        let a = (u % ppi) * PIXEL_CHUNK;
        (n, a, (a + PIXEL_CHUNK).min(s))
    };
    let img = |n: usize| (&x[n * nc * s..(n + 1) * nc * s], &lab[n * s..(n + 1) * s]);
    let ctx = |want_sums, squared, pix_scale: f64, check, store_p| SoftmaxCtx {
        classes: nc,
        spatial: s,
        ignore: plan.ignore.unwrap_or(i64::MIN),
        pixel,
        pix_scale: pix_scale as f32,
        want_sums,
        squared,
        check,
        store_p,
    };
    // A pass saw a bad value: the precise error comes from the read-only scans.
    let check = || {
        validate::logits(plan.op, x)?;
        validate::labels(plan.op, lab, nc, plan.ignore, None).map(|_| ())
    };
    match plan.region {
        None => {
            let c = ctx(false, false, pix_scale, true, false);
            let mut grad = grad;
            let slices = grad.as_deref_mut().map(|g| softmax_slices(g, nc, s));
            let parts = run_units(units, slices, |u, mut g| {
                let (n, a, b) = range(u);
                let (xi, li) = img(n);
                softmax::unit::<Lb>(&c, xi, li, a, b, g.as_deref_mut(), None)
            });
            if parts.iter().any(|p| p.bad) {
                zero_on_error(grad, check)?;
            }
            Ok(parts.iter().map(|p| p.loss).sum::<f64>() * pix_scale)
        }
        Some((spec, weight)) => {
            // With a gradient, pass 1 stores the probabilities there for pass 2.
            let c1 = ctx(true, spec.squared, 0.0, true, grad.is_some());
            let mut grad = grad;
            let slices = grad.as_deref_mut().map(|g| softmax_slices(g, nc, s));
            let parts = run_units(units, slices, |u, mut g| {
                let (n, a, b) = range(u);
                let (xi, li) = img(n);
                softmax::unit::<Lb>(&c1, xi, li, a, b, g.as_deref_mut(), None)
            });
            if parts.iter().any(|p| p.bad) {
                zero_on_error(grad.as_deref_mut(), check)?;
            }
            let (count, wsum) = parts
                .iter()
                .fold((0.0, 0.0), |(c, w), p| (c + p.count, w + p.wsum));
            let pix_scale = scale_of(count, wsum);
            let mut sums = vec![[0f64; 3]; nb * nc];
            let mut pix = 0f64;
            for (u, p) in parts.iter().enumerate() {
                let n = u / ppi;
                pix += p.loss;
                for (c, su) in p.sums.iter().enumerate() {
                    for k in 0..3 {
                        sums[n * nc + c][k] += su[k];
                    }
                }
            }
            let mut coef = vec![[0f32; 2]; nb * nc];
            let reg = spec.evaluate(nb, nc, &sums, weight, &mut coef);
            if let Some(g) = grad {
                let c2 = ctx(false, spec.squared, pix_scale, false, false);
                let slices = softmax_slices(g, nc, s);
                run_units(units, Some(slices), |u, g| {
                    let (n, a, b) = range(u);
                    let li = &lab[n * s..(n + 1) * s];
                    if let Some(mut g) = g {
                        let cf = &coef[n * nc..(n + 1) * nc];
                        softmax::grad_from_p::<Lb>(&c2, li, a, b, &mut g, cf);
                    }
                });
            }
            Ok(pix * pix_scale + reg)
        }
    }
}

/// Writes the unreduced pixel term of `plan` into `out`: one value per logit for sigmoid
/// losses, one per pixel for softmax losses (ignored pixels get 0).
pub(crate) fn map(
    plan: &Plan<'_>,
    logits: &[f32],
    targets: Targets<'_>,
    shape: &Shape,
    out: &mut [f32],
) -> Result<()> {
    check_common(plan, logits, shape, None)?;
    match plan.activation {
        Activation::Sigmoid => {
            let Targets::Dense(t) = targets else {
                return Err(Error::TargetKind {
                    op: plan.op,
                    expected: "dense f32 masks (sigmoid losses need one target per logit)",
                    found: target_name(&targets),
                });
            };
            shape.check_len(plan.op, "targets", t.len())?;
            shape.check_len(plan.op, "out", out.len())?;
            validate::dense_inputs(plan.op, logits, t)?;
            with_sigmoid_term!(plan, term => map_sigmoid(term, logits, t, shape, out))
        }
        Activation::Softmax => {
            let PixelSpec::Softmax(pixel) = plan.pixel else {
                return Err(Error::Incompatible {
                    op: plan.op,
                    what: "activation",
                    expected: "sigmoid".into(),
                    found: "softmax".into(),
                });
            };
            shape.check_index_len(plan.op, "out", out.len())?;
            match targets {
                Targets::Dense(_) => Err(Error::TargetKind {
                    op: plan.op,
                    expected: "class indices (softmax losses take one label per pixel)",
                    found: target_name(&targets),
                }),
                Targets::U8(l) => map_softmax(pixel, plan, logits, l, shape, out),
                Targets::U16(l) => map_softmax(pixel, plan, logits, l, shape, out),
                Targets::U32(l) => map_softmax(pixel, plan, logits, l, shape, out),
                Targets::I64(l) => map_softmax(pixel, plan, logits, l, shape, out),
            }
        }
    }
}

fn map_sigmoid<T: SigmoidTerm>(
    term: &T,
    x: &[f32],
    t: &[f32],
    shape: &Shape,
    out: &mut [f32],
) -> Result<()> {
    let (nc, s) = (shape.channels(), shape.spatial_len());
    let ppr = s.div_ceil(ROW_CHUNK);
    let slices = sigmoid_slices(out, s);
    run_units(slices.len(), Some(slices), |u, o| {
        let r = u / ppr;
        let a = r * s + (u % ppr) * ROW_CHUNK;
        if let Some(o) = o {
            let b = a + o.len();
            sigmoid::map_unit::<T>(term.row(r % nc), &x[a..b], &t[a..b], o);
        }
    });
    Ok(())
}

fn map_softmax<Lb: Label>(
    pixel: &SoftmaxPixel,
    plan: &Plan<'_>,
    x: &[f32],
    lab: &[Lb],
    shape: &Shape,
    out: &mut [f32],
) -> Result<()> {
    if shape.channels() < 2 {
        return Err(Error::InvalidShape {
            op: plan.op,
            shape: shape.dims().to_vec(),
            reason: "softmax over the channel axis needs at least 2 channels",
        });
    }
    let (nc, s) = (shape.channels(), shape.spatial_len());
    shape.check_index_len(plan.op, "targets", lab.len())?;
    validate::logits(plan.op, x)?;
    validate::labels(plan.op, lab, nc, plan.ignore, None)?;
    let ppi = s.div_ceil(PIXEL_CHUNK);
    let ctx = SoftmaxCtx {
        classes: nc,
        spatial: s,
        ignore: plan.ignore.unwrap_or(i64::MIN),
        pixel,
        pix_scale: 0.0,
        want_sums: false,
        squared: false,
        check: false,
        store_p: false,
    };
    let slices: Vec<&mut [f32]> = out
        .chunks_mut(s)
        .flat_map(|img| img.chunks_mut(PIXEL_CHUNK))
        .collect();
    run_units(slices.len(), Some(slices), |u, o| {
        let n = u / ppi;
        let a = (u % ppi) * PIXEL_CHUNK;
        let xi = &x[n * nc * s..(n + 1) * nc * s];
        let li = &lab[n * s..(n + 1) * s];
        if let Some(o) = o {
            let b = a + o.len();
            softmax::unit::<Lb>(&ctx, xi, li, a, b, None, Some(o));
        }
    });
    Ok(())
}
