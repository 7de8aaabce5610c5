//! Plumbing tests of the backend extension with a minimal core loss defined here, so the
//! custom backward is checked independently of the core kernels.

use burn::tensor::{Device, Tensor, TensorData};
use segloss::loss::{Loss, Targets};

use crate::loss::engine::run_fused;
use crate::targets::SegTargets;

/// Mean of `0.5·(x - t)²`, gradient `(x - t)/n`: simple enough to be obviously right.
struct HalfSquare;

impl Loss for HalfSquare {
    fn name(&self) -> &'static str {
        "half-square"
    }

    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &segloss::Shape,
        grad: Option<&mut [f32]>,
    ) -> segloss::Result<f64> {
        shape.check_len("half-square", "logits", logits.len())?;
        let Targets::Dense(t) = targets else {
            return Err(segloss::Error::InvalidParameter {
                name: "targets",
                value: "indices".into(),
                rule: "must be dense",
            });
        };
        shape.check_len("half-square", "targets", t.len())?;
        let n = logits.len() as f64;
        let loss = logits
            .iter()
            .zip(t)
            .map(|(&x, &t)| 0.5 * (f64::from(x) - f64::from(t)).powi(2))
            .sum::<f64>()
            / n;
        if let Some(g) = grad {
            for ((g, &x), &t) in g.iter_mut().zip(logits).zip(t) {
                *g = ((f64::from(x) - f64::from(t)) / n) as f32;
            }
        }
        Ok(loss)
    }
}

fn inputs(device: &Device) -> (Tensor<3>, Tensor<3>) {
    let x: Vec<f32> = (0..24).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    let t: Vec<f32> = (0..24).map(|i| (i % 3 == 0) as u8 as f32).collect();
    (
        Tensor::from_data(TensorData::new(x, [2, 3, 4]), device),
        Tensor::from_data(TensorData::new(t, [2, 3, 4]), device),
    )
}

#[test]
fn fused_backward_matches_autodiff_of_the_same_formula() {
    let device = Device::flex().autodiff();
    let (x, t) = inputs(&device);

    let xf = x.clone().require_grad();
    let fused = run_fused(&HalfSquare, xf.clone(), SegTargets::Dense(t.clone())).unwrap();
    // Scale by 3 so the upstream gradient is not 1: checks g·∂L/∂x.
    let grads = (fused.clone() * 3.0).backward();
    let g_fused = xf
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();

    let xc = x.require_grad();
    let composed = ((xc.clone() - t).powf_scalar(2.0) * 0.5).mean();
    let grads = (composed.clone() * 3.0).backward();
    let g_comp = xc
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();

    let lf = fused.into_scalar::<f32>();
    let lc = composed.into_scalar::<f32>();
    assert!((lf - lc).abs() <= 1e-6 * lc.abs(), "{lf} vs {lc}");
    for (a, b) in g_fused.iter().zip(&g_comp) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1e-3), "{a} vs {b}");
    }
}

#[test]
fn fused_runs_without_autodiff_and_reports_core_errors() {
    let device = Device::flex();
    let (x, t) = inputs(&device);
    let loss = run_fused(&HalfSquare, x.clone(), SegTargets::Dense(t)).unwrap();
    assert!(loss.into_scalar::<f32>().is_finite());

    let idx = Tensor::<2, burn::tensor::Int>::zeros([2, 4], &device);
    let err = run_fused(&HalfSquare, x, SegTargets::Index(idx)).unwrap_err();
    assert!(err.to_string().contains("must be dense"), "{err}");
}
