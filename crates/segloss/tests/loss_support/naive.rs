#![allow(clippy::needless_range_loop)]
//! A simple, slow, obviously correct `f64` implementation of every loss, written from the
//! formulas in the docs (not from the kernels), plus random loss descriptions that build
//! both this reference and the segloss loss with the same options.

use super::Rng;
use segloss::Shape;
use segloss::loss::*;

/// Activation of a reference loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    Sigmoid,
    Softmax,
}

/// Targets in a form both sides understand.
#[derive(Debug, Clone)]
pub enum Tg {
    Dense(Vec<f32>),
    Labels(Vec<i64>),
}

impl Tg {
    pub fn as_targets(&self) -> Targets<'_> {
        match self {
            Tg::Dense(t) => Targets::Dense(t),
            Tg::Labels(l) => Targets::I64(l),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RefScore {
    Dice,
    Jaccard,
    Tversky(f64, f64),
    Gdl(GeneralizedWeight),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RefTransform {
    OneMinus,
    NegLog,
    Power(f64),
}

/// Every loss, as plain data.
#[derive(Debug, Clone)]
pub enum RefLoss {
    Bce {
        pw: Vec<f64>,
        ls: f64,
        sum: bool,
    },
    SigFocal {
        gamma: f64,
        /// Per channel (α₊, α₋), class weights included.
        alpha: Vec<(f64, f64)>,
        sum: bool,
    },
    SoftFocal {
        gamma: f64,
        k: Vec<f64>,
        ignore: Option<i64>,
        sum: bool,
    },
    Ce {
        w: Vec<f64>,
        ls: f64,
        ignore: Option<i64>,
        sum: bool,
    },
    Region {
        act: Act,
        score: RefScore,
        transform: RefTransform,
        squared: bool,
        snr: f64,
        sdr: f64,
        eps: f64,
        batch: bool,
        exclude_bg: bool,
        weights: Option<Vec<f64>>,
        ignore: Option<i64>,
        empty_zero: bool,
        sum: bool,
    },
    Sum(Box<RefLoss>, f64, Box<RefLoss>, f64),
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `ln σ(x)`, stable.
fn ln_sig(x: f64) -> f64 {
    -((-x).max(0.0) + (-x.abs()).exp().ln_1p())
}

fn softmax_pixel(x: &[f64], shape: &Shape, n: usize, s: usize) -> Vec<f64> {
    let (c, sl) = (shape.channels(), shape.spatial_len());
    let v: Vec<f64> = (0..c).map(|k| x[(n * c + k) * sl + s]).collect();
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = v.iter().map(|a| (a - m).exp()).sum();
    v.iter().map(|a| (a - m).exp() / z).collect()
}

fn log_softmax_pixel(x: &[f64], shape: &Shape, n: usize, s: usize) -> Vec<f64> {
    let (c, sl) = (shape.channels(), shape.spatial_len());
    let v: Vec<f64> = (0..c).map(|k| x[(n * c + k) * sl + s]).collect();
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lz = v.iter().map(|a| (a - m).exp()).sum::<f64>().ln();
    v.iter().map(|a| a - m - lz).collect()
}

fn pick(v: &[f64], c: usize) -> f64 {
    if v.len() == 1 { v[0] } else { v[c] }
}

impl RefLoss {
    /// The loss at `x` (f64 logits).
    pub fn eval(&self, x: &[f64], tg: &Tg, shape: &Shape) -> f64 {
        let (nb, nc, sl) = (shape.batch(), shape.channels(), shape.spatial_len());
        match self {
            RefLoss::Bce { pw, ls, sum } => {
                let Tg::Dense(t) = tg else { panic!() };
                let mut tot = 0.0;
                for (i, (&xv, &tv)) in x.iter().zip(t).enumerate() {
                    let c = (i / sl) % nc;
                    let t = tv as f64 * (1.0 - ls) + ls / 2.0;
                    tot += -(pick(pw, c) * t * ln_sig(xv) + (1.0 - t) * ln_sig(-xv));
                }
                if *sum { tot } else { tot / x.len() as f64 }
            }
            RefLoss::SigFocal { gamma, alpha, sum } => {
                let Tg::Dense(t) = tg else { panic!() };
                let mut tot = 0.0;
                for (i, (&xv, &tv)) in x.iter().zip(t).enumerate() {
                    let c = (i / sl) % nc;
                    let t = tv as f64;
                    let p = sig(xv);
                    let pt = p * t + (1.0 - p) * (1.0 - t);
                    let (ap, an) = if alpha.len() == 1 { alpha[0] } else { alpha[c] };
                    let at = ap * t + an * (1.0 - t);
                    let bce = -(t * ln_sig(xv) + (1.0 - t) * ln_sig(-xv));
                    tot += at * (1.0 - pt).powf(*gamma) * bce;
                }
                if *sum { tot } else { tot / x.len() as f64 }
            }
            RefLoss::SoftFocal {
                gamma,
                k,
                ignore,
                sum,
            } => {
                let Tg::Labels(l) = tg else { panic!() };
                let (mut tot, mut cnt) = (0.0, 0.0);
                for n in 0..nb {
                    for s in 0..sl {
                        let y = l[n * sl + s];
                        if Some(y) == *ignore {
                            continue;
                        }
                        let lp = log_softmax_pixel(x, shape, n, s);
                        let py = lp[y as usize].exp();
                        tot += pick(k, y as usize) * (1.0 - py).powf(*gamma) * -lp[y as usize];
                        cnt += 1.0;
                    }
                }
                if *sum {
                    tot
                } else if cnt > 0.0 {
                    tot / cnt
                } else {
                    0.0
                }
            }
            RefLoss::Ce { w, ls, ignore, sum } => {
                let Tg::Labels(l) = tg else { panic!() };
                let (mut tot, mut norm) = (0.0, 0.0);
                for n in 0..nb {
                    for s in 0..sl {
                        let y = l[n * sl + s];
                        if Some(y) == *ignore {
                            continue;
                        }
                        let lp = log_softmax_pixel(x, shape, n, s);
                        let wy = pick(w, y as usize);
                        let smooth: f64 = (0..nc).map(|c| pick(w, c) * -lp[c]).sum();
                        tot += (1.0 - ls) * wy * -lp[y as usize] + ls / nc as f64 * smooth;
                        norm += wy;
                    }
                }
                if *sum {
                    tot
                } else if norm > 0.0 {
                    tot / norm
                } else {
                    0.0
                }
            }
            RefLoss::Region {
                act,
                score,
                transform,
                squared,
                snr,
                sdr,
                eps,
                batch,
                exclude_bg,
                weights,
                ignore,
                empty_zero,
                sum,
            } => {
                // Probabilities and targets per element, ignored pixels zeroed.
                let mut p = vec![0.0; x.len()];
                let mut t = vec![0.0; x.len()];
                for n in 0..nb {
                    for s in 0..sl {
                        match (act, tg) {
                            (Act::Sigmoid, Tg::Dense(tv)) => {
                                for c in 0..nc {
                                    let i = (n * nc + c) * sl + s;
                                    p[i] = sig(x[i]);
                                    t[i] = tv[i] as f64;
                                }
                            }
                            (Act::Softmax, Tg::Labels(l)) => {
                                let y = l[n * sl + s];
                                if Some(y) == *ignore {
                                    continue;
                                }
                                let pr = softmax_pixel(x, shape, n, s);
                                for c in 0..nc {
                                    let i = (n * nc + c) * sl + s;
                                    p[i] = pr[c];
                                    t[i] = if y == c as i64 { 1.0 } else { 0.0 };
                                }
                            }
                            _ => panic!("activation and targets disagree"),
                        }
                    }
                }
                let groups = if *batch { 1 } else { nb };
                let per = nb / groups;
                let incl = |c: usize| !(*exclude_bg && nc > 1 && c == 0);
                let sums = |g: usize, c: usize| {
                    let (mut i, mut pp, mut tt, mut psum) = (0.0, 0.0, 0.0, 0.0);
                    for n in g * per..(g + 1) * per {
                        for s in 0..sl {
                            let k = (n * nc + c) * sl + s;
                            i += p[k] * t[k];
                            psum += p[k];
                            pp += if *squared { p[k] * p[k] } else { p[k] };
                            tt += if *squared { t[k] * t[k] } else { t[k] };
                        }
                    }
                    (i, pp, tt, psum)
                };
                let tr = |s: f64| match transform {
                    RefTransform::OneMinus => 1.0 - s,
                    RefTransform::NegLog => -s.max(*eps).ln(),
                    RefTransform::Power(g) => (1.0 - s).max(0.0).powf(*g),
                };
                let (mut tot, mut norm) = (0.0, 0.0);
                for g in 0..groups {
                    if let RefScore::Gdl(wt) = score {
                        let mut w: Vec<f64> = (0..nc)
                            .map(|c| {
                                let tt = sums(g, c).2;
                                let v = match wt {
                                    GeneralizedWeight::Square => 1.0 / (tt * tt),
                                    GeneralizedWeight::Simple => 1.0 / tt,
                                    GeneralizedWeight::Uniform => 1.0,
                                };
                                if incl(c) && v.is_finite() { v } else { 0.0 }
                            })
                            .collect();
                        let wmax = w.iter().cloned().fold(0.0, f64::max);
                        for (c, wc) in w.iter_mut().enumerate() {
                            if incl(c) && sums(g, c).2 == 0.0 {
                                *wc = wmax;
                            }
                        }
                        let (mut num, mut den) = (*snr, *sdr);
                        for (c, wc) in w.iter().enumerate() {
                            let (i, pp, tt, _) = sums(g, c);
                            num += 2.0 * wc * i;
                            den += wc * (pp + tt);
                        }
                        tot += tr(num / den.max(*eps));
                        norm += 1.0;
                        continue;
                    }
                    for c in (0..nc).filter(|&c| incl(c)) {
                        let (i, pp, tt, psum) = sums(g, c);
                        let wc = weights.as_ref().map_or(1.0, |w| pick(w, c));
                        norm += wc;
                        if *empty_zero && tt == 0.0 {
                            continue;
                        }
                        let s = match score {
                            RefScore::Dice => (2.0 * i + snr) / (pp + tt + sdr).max(*eps),
                            RefScore::Jaccard => {
                                (2.0 * i + snr) / (2.0 * (pp + tt - i) + sdr).max(*eps)
                            }
                            RefScore::Tversky(a, b) => {
                                let fp = psum - i;
                                let fnn = tt - i;
                                (i + snr) / (i + a * fp + b * fnn + sdr).max(*eps)
                            }
                            RefScore::Gdl(_) => unreachable!(),
                        };
                        tot += wc * tr(s);
                    }
                }
                if *sum {
                    tot
                } else if norm > 0.0 {
                    tot / norm
                } else {
                    0.0
                }
            }
            RefLoss::Sum(a, la, b, lb) => la * a.eval(x, tg, shape) + lb * b.eval(x, tg, shape),
        }
    }

    /// Central finite differences of [`RefLoss::eval`] in `f64`.
    pub fn fd_grad(&self, x: &[f64], tg: &Tg, shape: &Shape) -> Vec<f64> {
        let h = 1e-5;
        let mut xp = x.to_vec();
        (0..x.len())
            .map(|i| {
                let x0 = xp[i];
                xp[i] = x0 + h;
                let a = self.eval(&xp, tg, shape);
                xp[i] = x0 - h;
                let b = self.eval(&xp, tg, shape);
                xp[i] = x0;
                (a - b) / (2.0 * h)
            })
            .collect()
    }
}

/// A random small shape: `N ∈ 1..=3`, `C ∈ c_min..=4`, one or two spatial axes of 1 to 5
/// (sometimes a third of 2), small enough for `O(len²)` finite differences.
pub fn random_shape(rng: &mut Rng, c_min: usize) -> Shape {
    let mut dims = vec![
        1 + rng.below(3) as usize,
        c_min + rng.below((5 - c_min) as u64) as usize,
    ];
    for _ in 0..1 + rng.below(2) {
        dims.push(1 + rng.below(5) as usize);
    }
    if rng.below(4) == 0 {
        dims.push(2);
    }
    Shape::new(&dims).unwrap()
}

/// Random logits in `±scale` and targets of the kind `act` needs (dense: a mix of hard and
/// soft values; labels: uniform classes, some ignored when `ignore` is given).
pub fn random_inputs(
    rng: &mut Rng,
    shape: &Shape,
    act: Act,
    ignore: Option<i64>,
    scale: f64,
) -> (Vec<f32>, Tg) {
    let x: Vec<f32> = (0..shape.len())
        .map(|_| ((rng.uniform() * 2.0 - 1.0) * scale) as f32)
        .collect();
    let tg = match act {
        Act::Sigmoid => {
            let soft = rng.below(3) == 0;
            Tg::Dense(
                (0..shape.len())
                    .map(|_| {
                        if soft {
                            rng.uniform() as f32
                        } else {
                            (rng.uniform() < 0.3) as u8 as f32
                        }
                    })
                    .collect(),
            )
        }
        Act::Softmax => Tg::Labels(
            (0..shape.index_len())
                .map(|_| match ignore {
                    Some(i) if rng.below(6) == 0 => i,
                    _ => rng.below(shape.channels() as u64) as i64,
                })
                .collect(),
        ),
    };
    (x, tg)
}

fn weights(rng: &mut Rng, c: usize) -> Vec<f32> {
    (0..c).map(|_| (0.2 + 2.0 * rng.uniform()) as f32).collect()
}

fn reduction(rng: &mut Rng) -> (Reduction, bool) {
    if rng.below(3) == 0 {
        (Reduction::Sum, true)
    } else {
        (Reduction::Mean, false)
    }
}

/// The loss families [`random_loss`] draws from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    Bce,
    Focal,
    Ce,
    Dice,
    Tversky,
    Gdl,
    DiceCe,
    DiceFocal,
}

pub const FAMILIES: [Family; 8] = [
    Family::Bce,
    Family::Focal,
    Family::Ce,
    Family::Dice,
    Family::Tversky,
    Family::Gdl,
    Family::DiceCe,
    Family::DiceFocal,
];

/// A random loss of `family` with random options for `classes` channels: the segloss
/// loss, its reference, its activation and ignore label.
pub fn random_loss(
    rng: &mut Rng,
    family: Family,
    classes: usize,
) -> (Box<dyn Loss + Send + Sync>, RefLoss, Act, Option<i64>) {
    let act = |rng: &mut Rng| {
        if classes >= 2 && rng.below(2) == 0 {
            Act::Softmax
        } else {
            Act::Sigmoid
        }
    };
    let ign = |rng: &mut Rng, a: Act| {
        if a == Act::Softmax && rng.below(2) == 0 {
            Some(if rng.below(2) == 0 { 255 } else { -100 })
        } else {
            None
        }
    };
    let to_act = |a: Act| match a {
        Act::Sigmoid => Activation::Sigmoid,
        Act::Softmax => Activation::Softmax,
    };
    match family {
        Family::Bce => {
            let (red, sum) = reduction(rng);
            let mut cfg = BceConfig::new().with_reduction(red);
            let mut pw = vec![1.0];
            match rng.below(3) {
                0 => {}
                1 => {
                    let w = (0.3 + 3.0 * rng.uniform()) as f32;
                    cfg = cfg.with_pos_weight(w);
                    pw = vec![w as f64];
                }
                _ => {
                    let w = weights(rng, classes);
                    pw = w.iter().map(|&v| v as f64).collect();
                    cfg = cfg.with_class_pos_weights(w);
                }
            }
            let ls = if rng.below(2) == 0 { 0.0 } else { 0.1 };
            cfg = cfg.with_label_smoothing(ls as f32);
            (
                Box::new(cfg.init().unwrap()),
                RefLoss::Bce {
                    pw,
                    ls: ls as f32 as f64,
                    sum,
                },
                Act::Sigmoid,
                None,
            )
        }
        Family::Focal => {
            let a = act(rng);
            let (f, r) = random_focal(rng, a, classes);
            let ignore = ign(rng, a);
            let f = f.with_activation(to_act(a));
            let (f, r) = match (ignore, r) {
                (Some(i), RefLoss::SoftFocal { gamma, k, sum, .. }) => (
                    f.with_ignore_index(i),
                    RefLoss::SoftFocal {
                        gamma,
                        k,
                        ignore: Some(i),
                        sum,
                    },
                ),
                (_, r) => (f, r),
            };
            (Box::new(f.init().unwrap()), r, a, ignore)
        }
        Family::Ce => {
            let ignore = ign(rng, Act::Softmax);
            let (c, r) = random_ce(rng, classes, ignore);
            (Box::new(c.init().unwrap()), r, Act::Softmax, ignore)
        }
        Family::Dice | Family::Tversky | Family::Gdl => {
            let a = act(rng);
            let ignore = ign(rng, a);
            let (l, r) = random_region(rng, family, a, ignore, classes);
            (l, r, a, ignore)
        }
        Family::DiceCe | Family::DiceFocal => {
            let a = act(rng);
            let ignore = ign(rng, a);
            let (dcfg, dref) = random_dice_config(rng, a, ignore, classes);
            let ld = 0.2 + rng.uniform();
            let lp = 0.2 + rng.uniform();
            let (loss, pref): (Box<dyn Loss + Send + Sync>, RefLoss) = if family == Family::DiceCe {
                let mut cfg = DiceCeConfig::new()
                    .with_activation(to_act(a))
                    .with_dice(dcfg)
                    .with_lambda_dice(ld)
                    .with_lambda_ce(lp);
                if let Some(i) = ignore {
                    cfg = cfg.with_ignore_index(i);
                }
                let pref = if a == Act::Sigmoid {
                    let ls = if rng.below(2) == 0 { 0.0 } else { 0.1f32 };
                    let mut bce = BceConfig::new().with_label_smoothing(ls);
                    // One `pos_weight`, or one per channel (the image-by-image passes then
                    // pair units of different channels).
                    let pw = if rng.below(2) == 0 {
                        bce = bce.with_pos_weight(2.0);
                        vec![2.0]
                    } else {
                        let w = weights(rng, classes);
                        bce = bce.with_class_pos_weights(w.clone());
                        w.iter().map(|&v| v as f64).collect()
                    };
                    cfg = cfg.with_bce(bce);
                    RefLoss::Bce {
                        pw,
                        ls: ls as f64,
                        sum: false,
                    }
                } else {
                    let (c, r) = random_ce(rng, classes, ignore);
                    cfg = cfg.with_ce(c);
                    r
                };
                (Box::new(cfg.init().unwrap()), pref)
            } else {
                let (f, r) = random_focal(rng, a, classes);
                let r = match r {
                    RefLoss::SoftFocal { gamma, k, sum, .. } => RefLoss::SoftFocal {
                        gamma,
                        k,
                        ignore,
                        sum,
                    },
                    r => r,
                };
                let mut cfg = DiceFocalConfig::new()
                    .with_activation(to_act(a))
                    .with_dice(dcfg)
                    .with_focal(f)
                    .with_lambda_dice(ld)
                    .with_lambda_focal(lp);
                if let Some(i) = ignore {
                    cfg = cfg.with_ignore_index(i);
                }
                (Box::new(cfg.init().unwrap()), r)
            };
            (
                loss,
                RefLoss::Sum(Box::new(dref), ld, Box::new(pref), lp),
                a,
                ignore,
            )
        }
    }
}

fn random_focal(rng: &mut Rng, a: Act, classes: usize) -> (FocalConfig, RefLoss) {
    let gammas = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 4.0];
    let gamma = gammas[rng.below(gammas.len() as u64) as usize];
    let (red, sum) = reduction(rng);
    let cw = if rng.below(2) == 0 {
        Some(weights(rng, classes))
    } else {
        None
    };
    let choice = rng.below(if a == Act::Sigmoid { 4 } else { 3 });
    let per: Vec<f32> = (0..classes).map(|_| rng.uniform() as f32).collect();
    let alpha = match choice {
        0 => FocalAlpha::None,
        1 => FocalAlpha::Balanced(0.25),
        2 => FocalAlpha::PerClass(per.clone()),
        _ => FocalAlpha::NotesVariant(0.3),
    };
    let mut cfg = FocalConfig::new()
        .with_gamma(gamma as f32)
        .with_alpha(alpha)
        .with_reduction(red);
    if let Some(w) = &cfg_weights(&cw) {
        cfg = cfg.with_class_weights(w.clone());
    }
    let w = |c: usize| cw.as_ref().map_or(1.0, |w| w[c] as f64);
    let r = match a {
        Act::Sigmoid => RefLoss::SigFocal {
            gamma,
            alpha: (0..classes)
                .map(|c| {
                    let (ap, an) = match choice {
                        0 => (1.0, 1.0),
                        1 => (0.25, 0.75),
                        2 => (per[c] as f64, 1.0 - per[c] as f64),
                        _ => (0.3f32 as f64, 0.3f32 as f64),
                    };
                    (ap * w(c), an * w(c))
                })
                .collect(),
            sum,
        },
        Act::Softmax => RefLoss::SoftFocal {
            gamma,
            k: (0..classes)
                .map(|c| {
                    let a = match choice {
                        0 => 1.0,
                        1 => {
                            if c == 0 {
                                0.75
                            } else {
                                0.25
                            }
                        }
                        _ => per[c] as f64,
                    };
                    a * w(c)
                })
                .collect(),
            ignore: None,
            sum,
        },
    };
    (cfg, r)
}

fn cfg_weights(w: &Option<Vec<f32>>) -> Option<Vec<f32>> {
    w.clone()
}

fn random_ce(rng: &mut Rng, classes: usize, ignore: Option<i64>) -> (CrossEntropyConfig, RefLoss) {
    let (red, sum) = reduction(rng);
    let mut cfg = CrossEntropyConfig::new().with_reduction(red);
    let mut w = vec![1.0];
    if rng.below(2) == 0 {
        let ws = weights(rng, classes);
        w = ws.iter().map(|&v| v as f64).collect();
        cfg = cfg.with_class_weights(ws);
    }
    let ls = if rng.below(2) == 0 { 0.0 } else { 0.1f32 };
    cfg = cfg.with_label_smoothing(ls);
    if let Some(i) = ignore {
        cfg = cfg.with_ignore_index(i);
    }
    (
        cfg,
        RefLoss::Ce {
            w,
            ls: ls as f64,
            ignore,
            sum,
        },
    )
}

struct RegionDraw {
    snr: f64,
    sdr: f64,
    batch: bool,
    exclude_bg: bool,
    weights: Option<Vec<f32>>,
    empty_zero: bool,
    sum: bool,
}

fn draw_region(rng: &mut Rng, classes: usize) -> RegionDraw {
    let (snr, sdr) = match rng.below(3) {
        0 => (1e-5, 1e-5),
        1 => (0.5, 1.0),
        _ => (1.0, 1.0),
    };
    RegionDraw {
        snr,
        sdr,
        batch: rng.below(2) == 0,
        exclude_bg: rng.below(3) == 0,
        weights: (rng.below(2) == 0).then(|| weights(rng, classes)),
        empty_zero: rng.below(3) == 0,
        sum: rng.below(3) == 0,
    }
}

macro_rules! apply_region {
    ($cfg:expr, $d:expr, $act:expr, $ignore:expr) => {{
        let mut c = $cfg
            .with_activation($act)
            .with_smooth_nr($d.snr)
            .with_smooth_dr($d.sdr)
            .with_scope(if $d.batch {
                Scope::Batch
            } else {
                Scope::PerImage
            })
            .with_background(if $d.exclude_bg {
                Background::Exclude
            } else {
                Background::Include
            })
            .with_empty_target(if $d.empty_zero {
                EmptyTarget::Zero
            } else {
                EmptyTarget::Score
            })
            .with_reduction(if $d.sum {
                Reduction::Sum
            } else {
                Reduction::Mean
            });
        if let Some(i) = $ignore {
            c = c.with_ignore_index(i);
        }
        c
    }};
}

fn random_dice_config(
    rng: &mut Rng,
    a: Act,
    ignore: Option<i64>,
    classes: usize,
) -> (DiceConfig, RefLoss) {
    let d = draw_region(rng, classes);
    let act = match a {
        Act::Sigmoid => Activation::Sigmoid,
        Act::Softmax => Activation::Softmax,
    };
    let squared = rng.below(2) == 0;
    let jaccard = rng.below(3) == 0;
    let neglog = rng.below(3) == 0;
    let mut cfg = apply_region!(DiceConfig::new(), d, act, ignore)
        .with_denominator(if squared {
            Denominator::Squared
        } else {
            Denominator::Linear
        })
        .with_form(if jaccard {
            DiceForm::Jaccard
        } else {
            DiceForm::Dice
        })
        .with_penalty(if neglog {
            Penalty::NegLog
        } else {
            Penalty::OneMinus
        });
    if let Some(w) = &d.weights {
        cfg = cfg.with_class_weights(w.clone());
    }
    let r = RefLoss::Region {
        act: a,
        score: if jaccard {
            RefScore::Jaccard
        } else {
            RefScore::Dice
        },
        transform: if neglog {
            RefTransform::NegLog
        } else {
            RefTransform::OneMinus
        },
        squared,
        snr: d.snr,
        sdr: d.sdr,
        eps: 1e-7,
        batch: d.batch,
        exclude_bg: d.exclude_bg,
        weights: d.weights.map(|w| w.iter().map(|&v| v as f64).collect()),
        ignore,
        empty_zero: d.empty_zero,
        sum: d.sum,
    };
    (cfg, r)
}

fn random_region(
    rng: &mut Rng,
    family: Family,
    a: Act,
    ignore: Option<i64>,
    classes: usize,
) -> (Box<dyn Loss + Send + Sync>, RefLoss) {
    let act = match a {
        Act::Sigmoid => Activation::Sigmoid,
        Act::Softmax => Activation::Softmax,
    };
    match family {
        Family::Dice => {
            let (c, r) = random_dice_config(rng, a, ignore, classes);
            (Box::new(c.init().unwrap()), r)
        }
        Family::Tversky => {
            let d = draw_region(rng, classes);
            let (al, be) = (rng.uniform(), rng.uniform());
            let gammas = [1.0, 0.75, 2.0];
            let g = gammas[rng.below(3) as usize];
            let mut cfg = apply_region!(TverskyConfig::new(), d, act, ignore)
                .with_alpha(al)
                .with_beta(be)
                .with_gamma(g);
            if let Some(w) = &d.weights {
                cfg = cfg.with_class_weights(w.clone());
            }
            let r = RefLoss::Region {
                act: a,
                score: RefScore::Tversky(al, be),
                transform: if g == 1.0 {
                    RefTransform::OneMinus
                } else {
                    RefTransform::Power(g)
                },
                squared: false,
                snr: d.snr,
                sdr: d.sdr,
                eps: 1e-7,
                batch: d.batch,
                exclude_bg: d.exclude_bg,
                weights: d.weights.map(|w| w.iter().map(|&v| v as f64).collect()),
                ignore,
                empty_zero: d.empty_zero,
                sum: d.sum,
            };
            (Box::new(cfg.init().unwrap()), r)
        }
        _ => {
            let d = draw_region(rng, classes);
            let wts = [
                GeneralizedWeight::Square,
                GeneralizedWeight::Simple,
                GeneralizedWeight::Uniform,
            ];
            let w = wts[rng.below(3) as usize];
            let cfg = apply_region!(GeneralizedDiceConfig::new(), d, act, ignore).with_weight(w);
            let r = RefLoss::Region {
                act: a,
                score: RefScore::Gdl(w),
                transform: RefTransform::OneMinus,
                squared: false,
                snr: d.snr,
                sdr: d.sdr,
                eps: 1e-7,
                batch: d.batch,
                exclude_bg: d.exclude_bg,
                weights: None,
                ignore,
                empty_zero: false,
                sum: d.sum,
            };
            (Box::new(cfg.init().unwrap()), r)
        }
    }
}
