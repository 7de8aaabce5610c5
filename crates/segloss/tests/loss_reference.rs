//! Every case of `../shared/reference/losses.json` (PyTorch, torchvision, MONAI, smp),
//! loss and gradient, within 1e-5 relative. `generate.py` beside the file records the exact
//! call of each case; where a library's convention differs from segloss's on purpose, the
//! mapping is spelled out in `build` below.

mod loss_support;

use loss_support::{assert_close, max_abs, reference};
use segloss::Shape;
use segloss::loss::*;
use serde_json::Value;

/// An element-wise map `(logits, targets, shape, out)`.
type MapFn = Box<dyn Fn(&[f32], &[f32], &Shape, &mut [f32])>;

/// How to turn segloss's value into the reference library's.
struct Case {
    loss: Box<dyn Loss>,
    /// Multiplies loss and gradient (a normalisation convention).
    factor: f64,
    /// For `reduction='none'` cases: the element-wise map.
    map: Option<MapFn>,
}

fn f(p: &Value, k: &str) -> f64 {
    p[k].as_f64().unwrap_or_else(|| panic!("param {k}"))
}

fn red(p: &Value) -> Reduction {
    match p["reduction"].as_str() {
        Some("sum") | Some("none") => Reduction::Sum,
        _ => Reduction::Mean,
    }
}

fn plain(loss: impl Loss + 'static) -> Case {
    Case {
        loss: Box::new(loss),
        factor: 1.0,
        map: None,
    }
}

fn build(id: &str, p: &Value, classes: usize) -> Case {
    let monai_dice = || {
        DiceConfig::new()
            .with_smooth_nr(f(p, "smooth_nr"))
            .with_smooth_dr(f(p, "smooth_dr"))
    };
    let c = classes as f64;
    match id {
        "bce_mean" | "bce_extreme" => plain(BceConfig::new().init().unwrap()),
        "bce_pos_weight" => plain(BceConfig::new().with_pos_weight(3.0).init().unwrap()),
        "bce_none" => {
            let cfg = BceConfig::new().with_reduction(Reduction::Sum);
            let m = cfg.init().unwrap();
            Case {
                loss: Box::new(cfg.init().unwrap()),
                factor: 1.0,
                map: Some(Box::new(move |x, t, s, o| m.map(x, t, s, o).unwrap())),
            }
        }
        _ if id.starts_with("focal_tv_")
            || id == "focal_monai_sigmoid"
            || id == "focal_seed_variant" =>
        {
            let alpha = match p["alpha"].as_f64() {
                None => FocalAlpha::None,
                Some(a) if p["negative_weight"] == "alpha" => FocalAlpha::NotesVariant(a as f32),
                Some(a) => FocalAlpha::Balanced(a as f32),
            };
            let cfg = FocalConfig::new()
                .with_gamma(f(p, "gamma") as f32)
                .with_alpha(alpha)
                .with_reduction(red(p));
            let map: Option<MapFn> = if p["reduction"] == "none" {
                let m = cfg.init().unwrap();
                Some(Box::new(move |x, t, s, o| {
                    m.map(x, Targets::Dense(t), s, o).unwrap()
                }))
            } else {
                None
            };
            Case {
                loss: Box::new(cfg.init().unwrap()),
                factor: 1.0,
                map,
            }
        }
        // The notes' formula: ε = 1e-8 in numerator and denominator, sums over the batch.
        "dice_seed" => plain(
            DiceConfig::new()
                .with_smooth(1e-8)
                .with_scope(Scope::Batch)
                .init()
                .unwrap(),
        ),
        // MONAI DiceLoss: batch=True is Scope::Batch, squared_pred squares p and t.
        "dice_monai_b0_sq0" | "dice_monai_b0_sq1" | "dice_monai_b1_sq0" | "dice_monai_b1_sq1" => {
            let scope = if p["batch"] == true {
                Scope::Batch
            } else {
                Scope::PerImage
            };
            let den = if p["squared"] == true {
                Denominator::Squared
            } else {
                Denominator::Linear
            };
            plain(
                monai_dice()
                    .with_scope(scope)
                    .with_denominator(den)
                    .init()
                    .unwrap(),
            )
        }
        "jaccard_monai" => plain(monai_dice().with_form(DiceForm::Jaccard).init().unwrap()),
        "dice_monai_empty" => plain(monai_dice().init().unwrap()),
        // smp: sums over dims (0, 2) = Scope::Batch, smooth 0, denominator clamped at eps,
        // classes absent from the target contribute 0 (EmptyTarget::Zero), log: −ln max(s, eps).
        "dice_smp_log" => plain(
            DiceConfig::new()
                .with_smooth(0.0)
                .with_eps(1e-7)
                .with_scope(Scope::Batch)
                .with_empty_target(EmptyTarget::Zero)
                .with_penalty(Penalty::NegLog)
                .init()
                .unwrap(),
        ),
        "tversky_monai_0.3_0.7" | "tversky_monai_0.7_0.3" => plain(
            TverskyConfig::new()
                .with_alpha(f(p, "alpha"))
                .with_beta(f(p, "beta"))
                .with_smooth_nr(f(p, "smooth_nr"))
                .with_smooth_dr(f(p, "smooth_dr"))
                .init()
                .unwrap(),
        ),
        // smp TverskyLoss: (mean over classes of (1 − TI))^γ; one class here, so it is our
        // per-term (1 − TI)^γ.
        "focal_tversky_smp" => plain(
            TverskyConfig::new()
                .with_alpha(0.3)
                .with_beta(0.7)
                .with_gamma(0.75)
                .with_smooth(0.0)
                .with_eps(1e-7)
                .with_scope(Scope::Batch)
                .with_empty_target(EmptyTarget::Zero)
                .init()
                .unwrap(),
        ),
        "dicefocal_monai" => plain(
            DiceFocalConfig::new()
                .with_dice(monai_dice())
                .with_focal(
                    FocalConfig::new()
                        .with_gamma(2.0)
                        .with_alpha(FocalAlpha::Balanced(0.25)),
                )
                .with_lambda_dice(1.0)
                .with_lambda_focal(2.0)
                .init()
                .unwrap(),
        ),
        "dicece_monai" => plain(DiceCeConfig::new().with_dice(monai_dice()).init().unwrap()),
        "ce_2d" | "ce_3d" => plain(CrossEntropyConfig::new().init().unwrap()),
        "ce_weight_ls" => plain(
            CrossEntropyConfig::new()
                .with_class_weights(vec![0.2, 1.0, 3.0])
                .with_label_smoothing(0.1)
                .init()
                .unwrap(),
        ),
        "ce_ignore" => plain(
            CrossEntropyConfig::new()
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
        "dice_monai_softmax_2d" | "dice_monai_softmax_3d" => plain(
            monai_dice()
                .with_activation(Activation::Softmax)
                .init()
                .unwrap(),
        ),
        "dice_monai_softmax_nobg_batch" => plain(
            monai_dice()
                .with_activation(Activation::Softmax)
                .with_background(Background::Exclude)
                .with_scope(Scope::Batch)
                .init()
                .unwrap(),
        ),
        // MONAI multiplies each (n, c) term by w_c and takes the plain mean over N·C terms;
        // segloss takes the weighted mean Σ w L / Σ w, so MONAI = segloss · Σ_c w_c / C.
        "dice_monai_softmax_weight" => Case {
            loss: Box::new(
                monai_dice()
                    .with_activation(Activation::Softmax)
                    .with_class_weights(vec![0.2, 1.0, 3.0])
                    .init()
                    .unwrap(),
            ),
            factor: (0.2 + 1.0 + 3.0) / c,
            map: None,
        },
        // MONAI's softmax focal sums per-class terms over the one-hot target and averages over
        // N·C·S; segloss averages the per-pixel loss over N·S: MONAI = segloss / C. Its scalar
        // alpha means [1 − α, α, α, …] = FocalAlpha::Balanced.
        "focal_monai_softmax_alpha" => Case {
            loss: Box::new(
                FocalConfig::new()
                    .with_activation(Activation::Softmax)
                    .with_gamma(2.0)
                    .with_alpha(FocalAlpha::Balanced(0.25))
                    .init()
                    .unwrap(),
            ),
            factor: 1.0 / c,
            map: None,
        },
        // MONAI's DiceFocalLoss(softmax=True) pairs a softmax Dice with a *sigmoid* focal term
        // on the logits against one-hot targets (generate.py's comment says softmax; the
        // values say sigmoid): the mixed-activation trap segloss's DiceFocal refuses. It is
        // reproduced from the two standalone losses.
        "dicefocal_monai_softmax_2d" | "dicefocal_monai_softmax_3d" => {
            plain(MonaiSoftmaxDiceFocal {
                dice: monai_dice()
                    .with_activation(Activation::Softmax)
                    .init()
                    .unwrap(),
                focal: FocalConfig::new()
                    .with_gamma(2.0)
                    .with_alpha(FocalAlpha::None)
                    .init()
                    .unwrap(),
            })
        }
        "gdice_monai_square" => plain(
            GeneralizedDiceConfig::new()
                .with_activation(Activation::Softmax)
                .with_weight(GeneralizedWeight::Square)
                .with_smooth_nr(f(p, "smooth_nr"))
                .with_smooth_dr(f(p, "smooth_dr"))
                .init()
                .unwrap(),
        ),
        "dice_smp_multiclass" | "dice_smp_multiclass_ignore" => {
            let mut cfg = DiceConfig::new()
                .with_activation(Activation::Softmax)
                .with_smooth(0.0)
                .with_eps(1e-7)
                .with_scope(Scope::Batch)
                .with_empty_target(EmptyTarget::Zero);
            if p["ignore_index"].is_number() {
                cfg = cfg.with_ignore_index(255);
            }
            plain(cfg.init().unwrap())
        }
        other => panic!("reference case {other} has no mapping"),
    }
}

/// MONAI's `DiceFocalLoss(softmax=True, to_onehot_y=True)`: softmax Dice on the labels plus
/// sigmoid focal on one-hot dense targets.
struct MonaiSoftmaxDiceFocal {
    dice: Dice,
    focal: Focal,
}

impl Loss for MonaiSoftmaxDiceFocal {
    fn name(&self) -> &'static str {
        "monai_softmax_dice_focal"
    }
    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        grad: Option<&mut [f32]>,
    ) -> segloss::Result<f64> {
        let Targets::U8(lab) = targets else {
            unreachable!()
        };
        let (c, s) = (shape.channels(), shape.spatial_len());
        let mut onehot = vec![0f32; logits.len()];
        for (i, &l) in lab.iter().enumerate() {
            let (n, px) = (i / s, i % s);
            onehot[(n * c + l as usize) * s + px] = 1.0;
        }
        let mut g2 = vec![0f32; logits.len()];
        let g = grad.unwrap();
        let a = self.dice.forward(logits, targets, shape, Some(g))?;
        let b = self
            .focal
            .forward(logits, Targets::Dense(&onehot), shape, Some(&mut g2))?;
        for (x, y) in g.iter_mut().zip(&g2) {
            *x += y;
        }
        Ok(a + b)
    }
}

#[test]
fn every_reference_case_matches() {
    let data = reference("losses.json");
    let cases = data["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40, "expected the full reference set");
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let dims: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let shape = Shape::new(&dims).unwrap();
        let x: Vec<f32> = case["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let want_grad: Vec<f64> = case["grad"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let c = build(id, &case["params"], shape.channels());
        let mut grad = vec![0f32; x.len()];
        let tv = case["target"].as_array().unwrap();
        let dense: Vec<f32>;
        let labels8: Vec<u8>;
        let labels64: Vec<i64>;
        let targets = if case["target_kind"] == "index" {
            // Exercise two label types.
            if dims.len() == 5 && !id.starts_with("dicefocal") {
                labels64 = tv.iter().map(|v| v.as_i64().unwrap()).collect();
                Targets::I64(&labels64)
            } else {
                labels8 = tv.iter().map(|v| v.as_i64().unwrap() as u8).collect();
                Targets::U8(&labels8)
            }
        } else {
            dense = tv.iter().map(|v| v.as_f64().unwrap() as f32).collect();
            Targets::Dense(&dense)
        };
        let value = c
            .loss
            .forward(&x, targets, &shape, Some(&mut grad))
            .unwrap()
            * c.factor;
        match &case["loss"] {
            Value::Array(vals) => {
                let want: Vec<f64> = vals.iter().map(|v| v.as_f64().unwrap()).collect();
                let Targets::Dense(t) = targets else {
                    unreachable!()
                };
                let mut out = vec![0f32; x.len()];
                (c.map.as_ref().expect("map for reduction none"))(&x, t, &shape, &mut out);
                let got: Vec<f64> = out.iter().map(|&v| v as f64).collect();
                assert_close(id, "map", &got, &want, 1e-5, 1e-6 * max_abs(&want));
                assert_close(id, "sum", &[value], &[want.iter().sum()], 1e-5, 0.0);
            }
            v => {
                let want = v.as_f64().unwrap();
                assert_close(id, "loss", &[value], &[want], 1e-5, 0.0);
            }
        }
        let got: Vec<f64> = grad.iter().map(|&g| g as f64 * c.factor).collect();
        assert_close(
            id,
            "grad",
            &got,
            &want_grad,
            1e-5,
            1e-6 * max_abs(&want_grad),
        );
    }
}
