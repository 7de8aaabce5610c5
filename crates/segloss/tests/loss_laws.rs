//! Laws every loss must obey, as property tests, and the extreme inputs of the issue:
//! logits of ±1e4, all-empty targets, all-ignored pixels.

mod loss_support;

use loss_support::naive::{Act, FAMILIES, Family, Tg, random_inputs, random_loss, random_shape};
use loss_support::{Rng, assert_close};

// Laws compare two f32 kernels; each carries ~1e-7 relative rounding per element.
use proptest::prelude::*;
use segloss::Shape;
use segloss::loss::*;

fn forward(loss: &dyn Loss, x: &[f32], t: Targets<'_>, shape: &Shape) -> (f64, Vec<f32>) {
    let mut g = vec![f32::NAN; x.len()];
    let v = loss.forward(x, t, shape, Some(&mut g)).unwrap();
    (v, g)
}

fn close_all(case: &str, a: &(f64, Vec<f32>), b: &(f64, Vec<f32>), rel: f64, abs: f64) {
    assert_close(case, "loss", &[a.0], &[b.0], rel, abs);
    let ga: Vec<f64> = a.1.iter().map(|&v| v as f64).collect();
    let gb: Vec<f64> = b.1.iter().map(|&v| v as f64).collect();
    // f32 gradients of algebraically equal formulas differ by rounding: compare tiny
    // entries against the largest.
    let scale = gb.iter().fold(0f64, |m, v| m.max(v.abs()));
    assert_close(case, "grad", &ga, &gb, rel, abs + 1e-6 * scale);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Focal with γ = 0 and no α is BCE (sigmoid) and cross-entropy (softmax).
    #[test]
    fn focal_gamma0_without_alpha_is_cross_entropy(seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let shape = random_shape(&mut rng, 2);
        let focal = FocalConfig::new().with_gamma(0.0).with_alpha(FocalAlpha::None);
        let (x, tg) = random_inputs(&mut rng, &shape, Act::Sigmoid, None, 6.0);
        let a = forward(&focal.clone().init().unwrap(), &x, tg.as_targets(), &shape);
        let b = forward(&BceConfig::new().init().unwrap(), &x, tg.as_targets(), &shape);
        close_all("sigmoid", &a, &b, 1e-6, 1e-9);
        let (x, tg) = random_inputs(&mut rng, &shape, Act::Softmax, Some(255), 6.0);
        let a = forward(
            &focal.with_activation(Activation::Softmax).with_ignore_index(255).init().unwrap(),
            &x, tg.as_targets(), &shape,
        );
        let b = forward(
            &CrossEntropyConfig::new().with_ignore_index(255).init().unwrap(),
            &x, tg.as_targets(), &shape,
        );
        close_all("softmax", &a, &b, 1e-5, 1e-8);
    }

    /// A combination is the weighted sum of its parts, loss and gradient. The parts run
    /// one-pass kernels; the softmax combinations build their gradient in pass 2 from the
    /// probabilities stored by pass 1 (focal's from `p` alone, not from the logits), so this
    /// checks that path against the log-space one, on logits up to ±`scale` (confident
    /// pixels: `p_y` near 1 and near underflow).
    #[test]
    fn combinations_are_the_sum_of_their_parts(
        seed in any::<u64>(),
        softmax in any::<bool>(),
        scale in prop::sample::select(vec![3.0f64, 30.0, 120.0]),
        gamma in prop::sample::select(vec![0.0f32, 0.5, 2.0, 2.5]),
    ) {
        let mut rng = Rng(seed);
        let shape = random_shape(&mut rng, 2);
        let (act, a) = if softmax {
            (Activation::Softmax, Act::Softmax)
        } else {
            (Activation::Sigmoid, Act::Sigmoid)
        };
        let (x, tg) = random_inputs(&mut rng, &shape, a, None, scale);
        let t = tg.as_targets();
        let dice = forward(&DiceConfig::new().with_activation(act).init().unwrap(), &x, t, &shape);
        let focal_cfg = FocalConfig::new().with_activation(act).with_gamma(gamma);
        let focal = forward(&focal_cfg.clone().init().unwrap(), &x, t, &shape);
        let both = forward(
            &DiceFocalConfig::new()
                .with_activation(act)
                .with_focal(focal_cfg)
                .with_lambda_dice(0.7)
                .with_lambda_focal(1.3)
                .init()
                .unwrap(),
            &x, t, &shape,
        );
        let sum = |a: &(f64, Vec<f32>), wa: f64, b: &(f64, Vec<f32>), wb: f64| {
            let g = a.1.iter().zip(&b.1).map(|(&u, &v)| (wa * u as f64 + wb * v as f64) as f32);
            (wa * a.0 + wb * b.0, g.collect::<Vec<f32>>())
        };
        close_all("dice+focal", &both, &sum(&dice, 0.7, &focal, 1.3), 2e-5, 1e-8);
        if softmax {
            let ce = forward(&CrossEntropyConfig::new().init().unwrap(), &x, t, &shape);
            let both = forward(&DiceCeConfig::new().with_activation(act).init().unwrap(), &x, t, &shape);
            close_all("dice+ce", &both, &sum(&dice, 1.0, &ce, 1.0), 2e-5, 1e-8);
        }
    }

    /// Tversky(½, ½) is Dice: `(I + s)/(I + ½FP + ½FN + s) = (2I + 2s)/(P + T + 2s)`, i.e.
    /// Dice with the smoothing doubled.
    #[test]
    fn tversky_half_half_is_dice(seed in any::<u64>(), softmax in any::<bool>(), s in 0.0f64..1.0) {
        let mut rng = Rng(seed);
        let shape = random_shape(&mut rng, 2);
        let (act, a) = if softmax {
            (Activation::Softmax, Act::Softmax)
        } else {
            (Activation::Sigmoid, Act::Sigmoid)
        };
        let (x, tg) = random_inputs(&mut rng, &shape, a, None, 5.0);
        let tv = TverskyConfig::new().with_activation(act).with_smooth(s).init().unwrap();
        let dice = DiceConfig::new().with_activation(act).with_smooth(2.0 * s).init().unwrap();
        close_all(
            "tversky vs dice",
            &forward(&tv, &x, tg.as_targets(), &shape),
            &forward(&dice, &x, tg.as_targets(), &shape),
            1e-5,
            1e-7,
        );
    }

    /// A perfect prediction drives every Dice-type loss towards 0.
    #[test]
    fn perfect_prediction_drives_dice_to_zero(seed in any::<u64>(), softmax in any::<bool>()) {
        let mut rng = Rng(seed);
        let shape = random_shape(&mut rng, 2);
        let (nc, s) = (shape.channels(), shape.spatial_len());
        let (act, a) = if softmax {
            (Activation::Softmax, Act::Softmax)
        } else {
            (Activation::Sigmoid, Act::Sigmoid)
        };
        let (_, tg) = random_inputs(&mut rng, &shape, a, None, 1.0);
        // Hard targets and logits of ±30 that agree with them.
        let (x, tg): (Vec<f32>, Tg) = match tg {
            Tg::Dense(t) => {
                let t: Vec<f32> = t.iter().map(|&v| (v > 0.5) as u8 as f32).collect();
                (t.iter().map(|&v| if v > 0.5 { 30.0 } else { -30.0 }).collect(), Tg::Dense(t))
            }
            Tg::Labels(l) => {
                let mut x = vec![-15.0f32; shape.len()];
                for (i, &y) in l.iter().enumerate() {
                    x[((i / s) * nc + y as usize) * s + i % s] = 15.0;
                }
                (x, Tg::Labels(l))
            }
        };
        let losses: Vec<Box<dyn Loss>> = vec![
            Box::new(DiceConfig::new().with_activation(act).init().unwrap()),
            Box::new(DiceConfig::new().with_activation(act).with_form(DiceForm::Jaccard).init().unwrap()),
            Box::new(DiceConfig::new().with_activation(act).with_penalty(Penalty::NegLog).init().unwrap()),
            Box::new(TverskyConfig::new().with_activation(act).with_alpha(0.3).with_beta(0.7).init().unwrap()),
            Box::new(GeneralizedDiceConfig::new().with_activation(act).init().unwrap()),
        ];
        for l in &losses {
            let (v, g) = forward(l.as_ref(), &x, tg.as_targets(), &shape);
            prop_assert!(v.abs() < 1e-5, "{}: {v}", l.name());
            prop_assert!(g.iter().all(|v| v.abs() < 1e-4), "{}", l.name());
        }
    }

    /// Every loss stays finite for logits of ±1e4 (any mix of signs and targets).
    #[test]
    fn finite_at_extreme_logits(seed in any::<u64>(), fam in 0usize..8) {
        let mut rng = Rng(seed);
        let family = FAMILIES[fam];
        let shape = random_shape(&mut rng, if family == Family::Ce { 2 } else { 1 });
        let (loss, _, act, ignore) = random_loss(&mut rng, family, shape.channels());
        let (x, tg) = random_inputs(&mut rng, &shape, act, ignore, 1.0);
        let x: Vec<f32> = x.iter().map(|&v| if v >= 0.0 { 1e4 } else { -1e4 }).collect();
        let (v, g) = forward(loss.as_ref(), &x, tg.as_targets(), &shape);
        prop_assert!(v.is_finite(), "{family:?}: loss {v}");
        prop_assert!(g.iter().all(|v| v.is_finite()), "{family:?}: grad {g:?}");
    }
}

/// γ < 1 at confident elements: the modulating factor's gradient would be `0·∞` if computed
/// naively; it must be finite and match the reference formula.
#[test]
fn focal_fractional_gamma_is_finite_when_confident() {
    let shape = Shape::new(&[1, 1, 6]).unwrap();
    let x = [30.0f32, -30.0, 100.0, -100.0, 1e4, -1e4];
    let t = [1.0f32, 0.0, 1.0, 0.0, 1.0, 0.0];
    for gamma in [0.1f32, 0.5, 0.9] {
        let f = FocalConfig::new().with_gamma(gamma).init().unwrap();
        let (v, g) = forward(&f, &x, Targets::Dense(&t), &shape);
        assert!((0.0..1e-12).contains(&v), "gamma {gamma}: {v}");
        assert!(g.iter().all(|v| v.is_finite() && v.abs() < 1e-12), "{g:?}");
        let sf = FocalConfig::new()
            .with_gamma(gamma)
            .with_activation(Activation::Softmax)
            .init()
            .unwrap();
        let s2 = Shape::new(&[1, 2, 3]).unwrap();
        let x2 = [50.0f32, -1e4, 1e4, -50.0, 1e4, -1e4];
        let (v, g) = forward(&sf, &x2, Targets::U8(&[0, 1, 0]), &s2);
        assert!(v.is_finite() && v < 1e-12, "softmax gamma {gamma}: {v}");
        assert!(g.iter().all(|v| v.is_finite() && v.abs() < 1e-12), "{g:?}");
    }
}

/// BCE at |x| = 1e4: exactly the linear tail, no overflow (PyTorch gives the same).
#[test]
fn bce_extreme_logits_are_exact() {
    let shape = Shape::new(&[1, 1, 4]).unwrap();
    let bce = BceConfig::new()
        .with_reduction(Reduction::Sum)
        .init()
        .unwrap();
    let x = [1e4f32, -1e4, 1e4, -1e4];
    let t = [0.0f32, 1.0, 1.0, 0.0];
    let (v, g) = forward(&bce, &x, Targets::Dense(&t), &shape);
    assert_eq!(v, 2e4);
    assert_eq!(g, vec![1.0, -1.0, 0.0, 0.0]);
}

/// All-empty targets: finite, and Dice-type losses penalise any predicted foreground.
#[test]
fn all_empty_targets_are_finite() {
    let shape = Shape::new(&[2, 3, 4, 4]).unwrap();
    let t = vec![0.0f32; shape.len()];
    let mut rng = Rng(7);
    let x: Vec<f32> = (0..shape.len()).map(|_| rng.normal(3.0) as f32).collect();
    for fam in FAMILIES.iter().filter(|f| **f != Family::Ce) {
        let (loss, _, _, _) = random_loss(&mut rng, *fam, 1);
        let s1 = Shape::new(&[2, 1, 6, 8]).unwrap();
        let (v, g) = forward(
            loss.as_ref(),
            &x[..s1.len()],
            Targets::Dense(&t[..s1.len()]),
            &s1,
        );
        assert!(v.is_finite() && g.iter().all(|v| v.is_finite()), "{fam:?}");
    }
    let dice = DiceConfig::new().init().unwrap();
    let (v, _) = forward(&dice, &x, Targets::Dense(&t), &shape);
    assert!(
        v > 0.99,
        "predicting foreground on an empty target costs ~1, got {v}"
    );
    let (v, _) = forward(&dice, &vec![-40.0; shape.len()], Targets::Dense(&t), &shape);
    assert!(
        v < 1e-3,
        "predicting nothing on an empty target costs ~0, got {v}"
    );
}

/// Every pixel ignored: loss 0 and gradient 0 for every softmax loss (documented; PyTorch's
/// cross-entropy returns NaN here).
#[test]
fn all_ignored_pixels_give_zero_loss_and_gradient() {
    let shape = Shape::new(&[2, 3, 5, 5]).unwrap();
    let mut rng = Rng(11);
    let x: Vec<f32> = (0..shape.len()).map(|_| rng.normal(3.0) as f32).collect();
    let lab = vec![255u8; shape.index_len()];
    let sm = Activation::Softmax;
    let losses: Vec<Box<dyn Loss>> = vec![
        Box::new(
            CrossEntropyConfig::new()
                .with_ignore_index(255)
                .with_label_smoothing(0.1)
                .init()
                .unwrap(),
        ),
        Box::new(
            FocalConfig::new()
                .with_activation(sm)
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
        Box::new(
            DiceConfig::new()
                .with_activation(sm)
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
        Box::new(
            TverskyConfig::new()
                .with_activation(sm)
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
        Box::new(
            GeneralizedDiceConfig::new()
                .with_activation(sm)
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
        Box::new(
            DiceCeConfig::new()
                .with_activation(sm)
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
        Box::new(
            DiceFocalConfig::new()
                .with_activation(sm)
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
    ];
    for l in &losses {
        let (v, g) = forward(l.as_ref(), &x, Targets::U8(&lab), &shape);
        assert_eq!(v, 0.0, "{}", l.name());
        assert!(g.iter().all(|&v| v == 0.0), "{}", l.name());
    }
}

/// The element-wise maps sum to the `Sum` reduction.
#[test]
fn maps_sum_to_the_sum_reduction() {
    let mut rng = Rng(5);
    let shape = Shape::new(&[2, 3, 7, 5]).unwrap();
    let (x, tg) = random_inputs(&mut rng, &shape, Act::Sigmoid, None, 4.0);
    let Tg::Dense(t) = &tg else { unreachable!() };
    let mut out = vec![0f32; shape.len()];
    let bce = BceConfig::new()
        .with_pos_weight(2.0)
        .with_reduction(Reduction::Sum);
    bce.init().unwrap().map(&x, t, &shape, &mut out).unwrap();
    let total = bce
        .init()
        .unwrap()
        .forward(&x, tg.as_targets(), &shape, None)
        .unwrap();
    assert_close(
        "bce map",
        "sum",
        &[out.iter().map(|&v| v as f64).sum()],
        &[total],
        1e-6,
        0.0,
    );
    let f = FocalConfig::new()
        .with_gamma(1.5)
        .with_reduction(Reduction::Sum);
    f.init()
        .unwrap()
        .map(&x, tg.as_targets(), &shape, &mut out)
        .unwrap();
    let total = f
        .init()
        .unwrap()
        .forward(&x, tg.as_targets(), &shape, None)
        .unwrap();
    assert_close(
        "focal map",
        "sum",
        &[out.iter().map(|&v| v as f64).sum()],
        &[total],
        1e-6,
        0.0,
    );
    let (x, tg) = random_inputs(&mut rng, &shape, Act::Softmax, Some(-100), 4.0);
    let mut out = vec![0f32; shape.index_len()];
    let ce = CrossEntropyConfig::new()
        .with_ignore_index(-100)
        .with_class_weights(vec![0.5, 1.0, 2.0])
        .with_reduction(Reduction::Sum);
    ce.init()
        .unwrap()
        .map(&x, tg.as_targets(), &shape, &mut out)
        .unwrap();
    let total = ce
        .init()
        .unwrap()
        .forward(&x, tg.as_targets(), &shape, None)
        .unwrap();
    assert_close(
        "ce map",
        "sum",
        &[out.iter().map(|&v| v as f64).sum()],
        &[total],
        1e-6,
        0.0,
    );
    let f = FocalConfig::new()
        .with_activation(Activation::Softmax)
        .with_ignore_index(-100)
        .with_reduction(Reduction::Sum);
    f.init()
        .unwrap()
        .map(&x, tg.as_targets(), &shape, &mut out)
        .unwrap();
    let total = f
        .init()
        .unwrap()
        .forward(&x, tg.as_targets(), &shape, None)
        .unwrap();
    assert_close(
        "softmax focal map",
        "sum",
        &[out.iter().map(|&v| v as f64).sum()],
        &[total],
        1e-6,
        0.0,
    );
}

/// The notes' worked numbers (mission.md §3–5) at q = 0.45 (building) and q = 0.7
/// (background), with α = 0.25, γ = 2.
#[test]
fn notes_worked_numbers() {
    let logit = |q: f64| (q / (1.0 - q)).ln() as f32;
    let shape = Shape::new(&[1, 1, 2]).unwrap();
    let x = [logit(0.45), logit(0.7)];
    let t = [1.0f32, 0.0];
    let sum = |l: &dyn Loss| l.forward(&x, Targets::Dense(&t), &shape, None).unwrap();
    let bce = BceConfig::new()
        .with_reduction(Reduction::Sum)
        .init()
        .unwrap();
    assert!((sum(&bce) - (0.7985 + 1.2040)).abs() < 1e-4);
    let pos = -0.25 * 0.55f64.powi(2) * 0.45f64.ln();
    let neg = -0.75 * 0.7f64.powi(2) * 0.3f64.ln();
    let focal = FocalConfig::new()
        .with_reduction(Reduction::Sum)
        .init()
        .unwrap();
    assert!((sum(&focal) - (pos + neg)).abs() < 1e-6);
    // The notes' own negative term uses α, not 1 − α.
    let notes = FocalConfig::new()
        .with_alpha(FocalAlpha::NotesVariant(0.25))
        .with_reduction(Reduction::Sum)
        .init()
        .unwrap();
    assert!((sum(&notes) - (pos + neg / 3.0)).abs() < 1e-6);
}

/// Sigmoid focal on soft targets within a hair of 0 and confident logits, where
/// `1 - p_t` is far below `2^-64` (the kernel rescales it before taking a reciprocal):
/// loss and gradient match the closed form in f64, and nothing overflows.
#[test]
fn focal_tiny_soft_targets_match_the_closed_form() {
    let xs = [-30.0f32, -45.0, -60.0, -100.0, -200.0, 45.0];
    let ts = [1e-40f32, 1e-30, 1e-20, 1e-10];
    let n = xs.len() * ts.len();
    let shape = Shape::new(&[1, 1, n]).unwrap();
    let (x, t): (Vec<f32>, Vec<f32>) = xs
        .iter()
        .flat_map(|&x| ts.iter().map(move |&t| (x, t)))
        .unzip();
    for gamma in [2.0f64, 0.5] {
        let f = FocalConfig::new()
            .with_gamma(gamma as f32)
            .with_alpha(FocalAlpha::None)
            .with_reduction(Reduction::Sum)
            .init()
            .unwrap();
        let (v, g) = forward(&f, &x, Targets::Dense(&t), &shape);
        let softplus = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
        let mut want_v = 0.0;
        for (k, (&xf, &tf)) in x.iter().zip(&t).enumerate() {
            let (x, t) = (xf as f64, tf as f64);
            let p = 1.0 / (1.0 + (-x).exp());
            let q = t * (1.0 - p) + (1.0 - t) * p;
            let bce = (1.0 - t) * softplus(x) + t * softplus(-x);
            let m = q.powf(gamma);
            want_v += m * bce;
            let want_g = m * ((p - t) + gamma * (1.0 - 2.0 * t) * p * (1.0 - p) / q * bce);
            let got = g[k] as f64;
            assert!(
                got.is_finite() && (got - want_g).abs() <= 1e-4 * want_g.abs() + 1e-37,
                "gamma {gamma} x {x} t {t}: grad {got} vs {want_g}"
            );
        }
        assert!(
            (v - want_v).abs() <= 1e-5 * want_v.abs() + 1e-37,
            "gamma {gamma}: loss {v} vs {want_v}"
        );
    }
}

/// Every integer label type gives the same softmax losses and gradients, bit for bit, with
/// and without an ignore label: `u8` and `u16` labels are converted with `i32` comparisons,
/// `u32` and `i64` labels with `i64` ones. An ignore label that no `u8`/`u16` value can
/// take (−100, 70 000) ignores nothing, and a label ≥ C is an error for every type.
#[test]
fn every_label_type_gives_the_same_softmax_result() {
    let mut rng = Rng(11);
    let shape = Shape::new(&[2, 3, 37, 3]).unwrap();
    let x: Vec<f32> = (0..shape.len()).map(|_| rng.normal(3.0) as f32).collect();
    let npix = shape.index_len();
    // Classes 0..3 and the ignore label 255 (where it is one).
    let raw: Vec<u32> = (0..npix)
        .map(|i| if i % 7 == 3 { 255 } else { (i * 5 % 3) as u32 })
        .collect();
    let sm = Activation::Softmax;
    for ignore in [Some(255i64), Some(-100), Some(70_000), None] {
        let with = |c: DiceCeConfig| match ignore {
            Some(i) => c.with_ignore_index(i),
            None => c,
        };
        let dice_ce = with(DiceCeConfig::new().with_activation(sm))
            .init()
            .unwrap();
        let ce = match ignore {
            Some(i) => CrossEntropyConfig::new().with_ignore_index(i),
            None => CrossEntropyConfig::new(),
        }
        .init()
        .unwrap();
        let losses: [&dyn Loss; 2] = [&dice_ce, &ce];
        // Without 255 as the ignore label, the 255s are out of range: map them to class 2
        // for the comparison, and check the error separately.
        let lab: Vec<u32> = raw
            .iter()
            .map(|&v| {
                if v == 255 && ignore != Some(255) {
                    2
                } else {
                    v
                }
            })
            .collect();
        let l8: Vec<u8> = lab.iter().map(|&v| v as u8).collect();
        let l16: Vec<u16> = lab.iter().map(|&v| v as u16).collect();
        let l64: Vec<i64> = lab.iter().map(|&v| v as i64).collect();
        for l in losses {
            let want = forward(l, &x, Targets::U32(&lab), &shape);
            for (ty, t) in [
                ("u8", Targets::U8(&l8)),
                ("u16", Targets::U16(&l16)),
                ("i64", Targets::I64(&l64)),
            ] {
                let got = forward(l, &x, t, &shape);
                assert_eq!(
                    got.0.to_bits(),
                    want.0.to_bits(),
                    "{} {ty} {ignore:?}",
                    l.name()
                );
                assert!(
                    got.1
                        .iter()
                        .zip(&want.1)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{} {ty} {ignore:?}",
                    l.name()
                );
            }
            if ignore != Some(255) {
                let mut g = vec![0f32; x.len()];
                let bad8: Vec<u8> = raw.iter().map(|&v| v as u8).collect();
                let bad16: Vec<u16> = raw.iter().map(|&v| v as u16).collect();
                for t in [Targets::U8(&bad8), Targets::U16(&bad16), Targets::U32(&raw)] {
                    assert!(
                        l.forward(&x, t, &shape, Some(&mut g)).is_err(),
                        "{}",
                        l.name()
                    );
                }
            }
        }
    }
}

/// Squared-denominator Dice keeps full relative accuracy where the probabilities are small
/// (the background of imbalanced data): `p²` and `∂/∂p = 2p·…` are computed as products, not
/// as `p·(1 + (p − 1))`, whose `p − 1` rounds to 2⁻²⁴ absolute (a relative error of ~1e-4
/// at p = 1e-4, which this test would catch). Every gradient entry, against the closed form
/// in `f64` from the same `f32` logits, within 4e-6 relative.
#[test]
fn squared_dice_is_accurate_for_small_probabilities() {
    let n = 64;
    let s = 1e-5;
    // One squared Dice term from probabilities `p` and targets `t`:
    // `L = 1 − (2I + s)/(Σp² + Σt² + s)` and `∂L/∂p_i = −(2t_i·D − N·2p_i)/D²`.
    let term = |p: &[f64], t: &[f64]| -> (f64, Vec<f64>) {
        let num = 2.0 * p.iter().zip(t).map(|(a, b)| a * b).sum::<f64>() + s;
        let den = p.iter().chain(t).map(|a| a * a).sum::<f64>() + s;
        let d = p
            .iter()
            .zip(t)
            .map(|(&pi, &ti)| -(2.0 * ti * den - num * 2.0 * pi) / (den * den))
            .collect();
        (1.0 - num / den, d)
    };
    let x: Vec<f32> = (0..n).map(|i| -9.0 - 0.013 * i as f32).collect();
    let t: Vec<f32> = (0..n).map(|i| f32::from(i % 8 == 0)).collect();
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let p: Vec<f64> = x.iter().map(|&v| sig(v as f64)).collect();
    let t64: Vec<f64> = t.iter().map(|&v| v as f64).collect();

    // Sigmoid, one image and channel.
    let (want_loss, dldp) = term(&p, &t64);
    let want: Vec<f64> = dldp
        .iter()
        .zip(&p)
        .map(|(d, &pi)| d * pi * (1.0 - pi))
        .collect();
    let dice = DiceConfig::new()
        .with_denominator(Denominator::Squared)
        .init()
        .unwrap();
    let shape = Shape::new(&[1, 1, n]).unwrap();
    let (v, g) = forward(&dice, &x, Targets::Dense(&t), &shape);
    assert_close("sigmoid", "loss", &[v], &[want_loss], 1e-6, 0.0);
    let g64: Vec<f64> = g.iter().map(|&v| v as f64).collect();
    assert_close("sigmoid", "grad", &g64, &want, 4e-6, 0.0);

    // Softmax, two classes, every label 0: class 1 has the small probabilities and an
    // empty target, so its term's gradient is all `2p`. The loss is the mean of the two
    // terms; the gradient goes through the softmax Jacobian `p_c (∂L/∂p_c − Σ_k p_k ∂L/∂p_k)`.
    let x2: Vec<f32> = x.iter().map(|_| 0.0).chain(x.iter().copied()).collect();
    let lab = vec![0u8; n];
    let probs = [p.iter().map(|v| 1.0 - v).collect::<Vec<_>>(), p.clone()];
    let dldp = [
        term(&probs[0], &vec![1.0; n]).1,
        term(&probs[1], &vec![0.0; n]).1,
    ];
    let mut want2 = vec![0f64; 2 * n];
    for i in 0..n {
        let dot = (probs[0][i] * dldp[0][i] + probs[1][i] * dldp[1][i]) / 2.0;
        for c in 0..2 {
            want2[c * n + i] = probs[c][i] * (dldp[c][i] / 2.0 - dot);
        }
    }
    let dice = DiceConfig::new()
        .with_activation(Activation::Softmax)
        .with_denominator(Denominator::Squared)
        .init()
        .unwrap();
    let shape = Shape::new(&[1, 2, n]).unwrap();
    let (_, g) = forward(&dice, &x2, Targets::U8(&lab), &shape);
    let g64: Vec<f64> = g.iter().map(|&v| v as f64).collect();
    assert_close("softmax", "grad", &g64, &want2, 4e-6, 0.0);
}
