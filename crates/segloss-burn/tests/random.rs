//! Fused and composed paths on seeded random inputs: every loss family, both activations,
//! odd shapes, soft targets, ignore labels and large logits. Loss and gradient must agree
//! within 1e-5 relative.

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use common::Rng;
use segloss_burn::ExecPath;
use segloss_burn::loss::*;
use segloss_burn::targets::SegTargets;

/// Standard normal (Box-Muller on 24-bit uniforms).
fn normal(rng: &mut Rng) -> f32 {
    let (u, v) = (rng.unit_f32().max(1e-7), rng.unit_f32());
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

struct Inputs {
    dims: [usize; 3],
    x: Vec<f32>,
    targets: Targets,
}

enum Targets {
    Dense(Vec<f32>),
    Index(Vec<i64>),
}

fn inputs(
    rng: &mut Rng,
    dims: [usize; 3],
    softmax: bool,
    scale: f32,
    soft: bool,
    ignore: Option<i64>,
) -> Inputs {
    let [n, c, s] = dims;
    let x = (0..n * c * s).map(|_| normal(rng) * scale).collect();
    let targets = if softmax {
        Targets::Index(
            (0..n * s)
                .map(|_| match ignore {
                    Some(ig) if rng.unit_f32() < 0.1 => ig,
                    _ => (rng.next() % c as u64) as i64,
                })
                .collect(),
        )
    } else {
        Targets::Dense(
            (0..n * c * s)
                .map(|_| {
                    if soft {
                        rng.unit_f32()
                    } else {
                        (rng.unit_f32() < 0.2) as u8 as f32
                    }
                })
                .collect(),
        )
    };
    Inputs { dims, x, targets }
}

fn run(loss: &dyn BurnLoss, inp: &Inputs, path: ExecPath) -> (f64, Vec<f64>) {
    let device = Device::flex().autodiff();
    let [n, c, s] = inp.dims;
    let x =
        Tensor::<3>::from_data(TensorData::new(inp.x.clone(), [n, c, s]), &device).require_grad();
    let t = match &inp.targets {
        Targets::Dense(t) => SegTargets::Dense(Tensor::from_data(
            TensorData::new(t.clone(), [n, c, s]),
            &device,
        )),
        Targets::Index(t) => SegTargets::Index(Tensor::<2, Int>::from_data(
            TensorData::new(t.clone(), [n, s]),
            &device,
        )),
    };
    let v = loss.forward_canonical(x.clone(), t, path).unwrap();
    let value = f64::from(v.clone().into_scalar::<f32>());
    let g = x
        .grad(&v.backward())
        .unwrap()
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap();
    (value, g)
}

fn check(name: &str, loss: &dyn BurnLoss, inp: &Inputs) {
    let (lf, gf) = run(loss, inp, ExecPath::Fused);
    let (lc, gc) = run(loss, inp, ExecPath::Composed);
    assert!(
        lf.is_finite() && lc.is_finite(),
        "{name}: non-finite loss {lf} / {lc}"
    );
    assert!(
        (lf - lc).abs() <= 1e-5 * lf.abs().max(1e-6),
        "{name}: loss fused {lf} vs composed {lc}"
    );
    let scale = gf.iter().fold(0f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in gf.iter().zip(&gc).enumerate() {
        assert!(b.is_finite(), "{name}: composed grad[{i}] = {b}");
        let tol = 1e-5 * a.abs() + 1e-5 * scale;
        assert!(
            (a - b).abs() <= tol,
            "{name}: grad[{i}] fused {a} vs composed {b} (tol {tol:e})"
        );
    }
}

fn sigmoid_losses() -> Vec<(&'static str, Box<dyn BurnLoss>)> {
    vec![
        (
            "bce",
            Box::new(
                BceLossConfig::new()
                    .with_pos_weight(vec![2.5])
                    .with_label_smoothing(0.1)
                    .init()
                    .unwrap(),
            ),
        ),
        ("focal", Box::new(FocalLossConfig::new().init().unwrap())),
        (
            "focal g0.5",
            Box::new(
                FocalLossConfig::new()
                    .with_gamma(0.5)
                    .with_alpha(FocalAlpha::None)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "focal notes",
            Box::new(
                FocalLossConfig::new()
                    .with_alpha(FocalAlpha::NotesVariant(0.25))
                    .with_reduction(Reduction::Sum)
                    .init()
                    .unwrap(),
            ),
        ),
        ("dice", Box::new(DiceLossConfig::new().init().unwrap())),
        (
            "dice batch sq",
            Box::new(
                DiceLossConfig::new()
                    .with_scope(Scope::Batch)
                    .with_denominator(Denominator::Squared)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "log jaccard",
            Box::new(
                DiceLossConfig::new()
                    .with_form(DiceForm::Jaccard)
                    .with_penalty(Penalty::NegLog)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "tversky focal",
            Box::new(
                TverskyLossConfig::new()
                    .with_alpha(0.3)
                    .with_beta(0.7)
                    .with_gamma(1.5)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "gdice",
            Box::new(GeneralizedDiceLossConfig::new().init().unwrap()),
        ),
        (
            "dice+focal",
            Box::new(
                DiceFocalLossConfig::new()
                    .with_lambda_focal(2.0)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "dice+bce",
            Box::new(DiceCeLossConfig::new().init().unwrap()),
        ),
    ]
}

fn softmax_losses(ignore: Option<i64>) -> Vec<(&'static str, Box<dyn BurnLoss>)> {
    let sm = Activation::Softmax;
    vec![
        (
            "ce",
            Box::new(
                CrossEntropyLossConfig::new()
                    .with_class_weights(Some(vec![0.5, 1.0, 2.0]))
                    .with_label_smoothing(0.1)
                    .with_ignore_index(ignore)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "softmax focal",
            Box::new(
                FocalLossConfig::new()
                    .with_activation(sm)
                    .with_ignore_index(ignore)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "softmax dice",
            Box::new(
                DiceLossConfig::new()
                    .with_activation(sm)
                    .with_ignore_index(ignore)
                    .with_background(Background::Exclude)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "softmax dice weighted",
            Box::new(
                DiceLossConfig::new()
                    .with_activation(sm)
                    .with_ignore_index(ignore)
                    .with_class_weights(Some(vec![0.2, 1.0, 3.0]))
                    .with_empty_target(EmptyTarget::Zero)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "softmax gdice",
            Box::new(
                GeneralizedDiceLossConfig::new()
                    .with_activation(sm)
                    .with_ignore_index(ignore)
                    .with_scope(Scope::Batch)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "softmax dice+focal",
            Box::new(
                DiceFocalLossConfig::new()
                    .with_activation(sm)
                    .with_ignore_index(ignore)
                    .init()
                    .unwrap(),
            ),
        ),
        (
            "softmax dice+ce",
            Box::new(
                DiceCeLossConfig::new()
                    .with_activation(sm)
                    .with_ignore_index(ignore)
                    .init()
                    .unwrap(),
            ),
        ),
    ]
}

#[test]
fn sigmoid_losses_agree_on_random_inputs() {
    let mut rng = Rng(7);
    for (dims, scale, soft) in [
        ([2, 1, 37], 2.0, false),
        ([1, 3, 64], 4.0, true),
        ([3, 2, 5], 30.0, false),
    ] {
        let inp = inputs(&mut rng, dims, false, scale, soft, None);
        for (name, loss) in sigmoid_losses() {
            check(name, loss.as_ref(), &inp);
        }
    }
}

#[test]
fn softmax_losses_agree_on_random_inputs() {
    let mut rng = Rng(11);
    for (dims, scale, ignore) in [
        ([2, 3, 29], 2.0, None),
        ([1, 3, 100], 5.0, Some(255)),
        ([2, 3, 7], 20.0, Some(-100)),
    ] {
        let inp = inputs(&mut rng, dims, true, scale, false, ignore);
        for (name, loss) in softmax_losses(ignore) {
            check(name, loss.as_ref(), &inp);
        }
    }
}
