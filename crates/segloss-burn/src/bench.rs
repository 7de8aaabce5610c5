//! Timing of a loss's forward plus backward, for `segloss bench --impl ...` and the benches.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

use crate::error::Result;
use crate::loss::{BurnLoss, TargetKind};
use crate::path::ExecPath;
use crate::targets::SegTargets;

/// Which implementation a timing runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchImpl {
    /// The burn loss on the fused path (core kernel as a backend extension), Flex autodiff.
    BurnFused,
    /// The burn loss on the composed path (burn tensor ops), Flex autodiff.
    BurnComposed,
}

/// Median and minimum of the timed repetitions, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Median over the repetitions.
    pub median_ms: f64,
    /// Fastest repetition.
    pub min_ms: f64,
}

/// Times `reps` forward-plus-backward passes of `loss` on seeded random logits of shape
/// `dims = [N, C, D1, ...]` on Flex with autodiff, after one untimed warm-up pass.
///
/// Targets follow `segloss bench`: about 5% positives for dense (binary/multi-label)
/// losses, uniform classes for index (multi-class) losses. One pass is: a fresh `require_grad`
/// leaf, `forward`, `backward()`, and reading the gradient (which forces it on lazy backends).
///
/// # Errors
/// The loss's error, e.g. for a shape it rejects.
///
/// ```
/// use segloss_burn::bench::{time_loss, BenchImpl};
/// use segloss_burn::loss::BceLossConfig;
/// let loss = BceLossConfig::new().init().unwrap();
/// let t = time_loss(BenchImpl::BurnFused, &loss, &[2, 1, 8, 8], 3).unwrap();
/// assert!(t.min_ms <= t.median_ms);
/// ```
pub fn time_loss(
    imp: BenchImpl,
    loss: &dyn BurnLoss,
    dims: &[usize],
    reps: usize,
) -> Result<Timing> {
    let device = Device::flex().autodiff();
    device.seed(20261129);
    let [n, c, s] = crate::targets::canonical(dims);
    let logits = Tensor::<3>::random([n, c, s], Distribution::Normal(0.0, 2.0), &device);
    let targets = match loss.target_kind() {
        TargetKind::Dense => SegTargets::Dense(Tensor::<3>::random(
            [n, c, s],
            Distribution::Bernoulli(0.05),
            &device,
        )),
        TargetKind::Index => {
            let classes: Vec<i64> = (0..n * s)
                .map(|i| ((i as u64).wrapping_mul(2654435761) >> 7) as i64 % c as i64)
                .collect();
            SegTargets::Index(Tensor::<2, Int>::from_data(
                TensorData::new(classes, [n, s]),
                &device,
            ))
        }
    };
    let path = match imp {
        BenchImpl::BurnFused => ExecPath::Fused,
        BenchImpl::BurnComposed => ExecPath::Composed,
    };
    let pass = || -> Result<f64> {
        let x = logits.clone().detach().require_grad();
        let start = Instant::now();
        let value = loss.forward_canonical(x.clone(), targets.clone(), path)?;
        let grads = value.backward();
        let grad = x.grad(&grads);
        // Reading one element forces the computation on backends that defer it.
        if let Some(g) = grad {
            let _ = g.slice([0..1, 0..1, 0..1]).into_data();
        }
        Ok(start.elapsed().as_secs_f64() * 1e3)
    };
    pass()?;
    let mut times = (0..reps.max(1))
        .map(|_| pass())
        .collect::<Result<Vec<_>>>()?;
    times.sort_by(f64::total_cmp);
    Ok(Timing {
        median_ms: times[times.len() / 2],
        min_ms: times[0],
    })
}
