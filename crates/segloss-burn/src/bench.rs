//! Timing of a loss's forward plus backward, for `segloss bench --impl ...` and the benches.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use segloss::loss::Targets;

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

/// Median and minimum of the timed repetitions, in milliseconds, and the loss value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Median over the repetitions.
    pub median_ms: f64,
    /// Fastest repetition.
    pub min_ms: f64,
    /// The loss of the last repetition (read back after the timed section).
    pub value: f64,
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
    time_passes(imp, loss, logits, targets, reps)
}

/// Times `reps` forward-plus-backward passes of `loss` on given host inputs, on Flex with
/// autodiff, after one untimed warm-up pass: the same passes as [`time_loss`], on the
/// inputs `segloss bench` generates for the core kernels, so all implementations see the
/// same data and their loss values can be compared.
///
/// - `logits`: `N×C×spatial` row-major, `dims = [N, C, D1, ...]`;
/// - `targets`: dense masks of the same length, or class indices of length `N×spatial`
///   (any integer type of [`Targets`]; they are widened to `i64` tensors).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] if the lengths do not fit `dims`; the loss's error, e.g.
/// [`crate::Error::TargetKind`] for targets of the wrong kind or a label out of range.
///
/// ```
/// use segloss::loss::Targets;
/// use segloss_burn::bench::{time_loss_on, BenchImpl};
/// use segloss_burn::loss::BceLossConfig;
/// let loss = BceLossConfig::new().init().unwrap();
/// let (x, t) = ([0.0f32; 4], [1.0f32; 4]);
/// let t = time_loss_on(BenchImpl::BurnComposed, &loss, &[1, 1, 4], &x, Targets::Dense(&t), 1)
///     .unwrap();
/// assert!((t.value - std::f64::consts::LN_2).abs() < 1e-6);
/// ```
pub fn time_loss_on(
    imp: BenchImpl,
    loss: &dyn BurnLoss,
    dims: &[usize],
    logits: &[f32],
    targets: Targets<'_>,
    reps: usize,
) -> Result<Timing> {
    const OP: &str = "bench inputs";
    crate::targets::check_logits(OP, dims)?;
    let [n, c, s] = crate::targets::canonical(dims);
    let mismatch = |input, expected: usize, found: usize| crate::Error::ShapeMismatch {
        op: OP,
        input,
        expected: format!("{expected} elements for {dims:?}"),
        found: vec![found],
    };
    if logits.len() != n * c * s {
        return Err(mismatch("logits", n * c * s, logits.len()));
    }
    let device = Device::flex().autodiff();
    let x = Tensor::<3>::from_data(TensorData::new(logits.to_vec(), [n, c, s]), &device);
    let index = |labels: Vec<i64>| -> Result<SegTargets> {
        if labels.len() != n * s {
            return Err(mismatch("targets", n * s, labels.len()));
        }
        Ok(SegTargets::Index(Tensor::<2, Int>::from_data(
            TensorData::new(labels, [n, s]),
            &device,
        )))
    };
    let targets = match targets {
        Targets::Dense(t) => {
            if t.len() != n * c * s {
                return Err(mismatch("targets", n * c * s, t.len()));
            }
            SegTargets::Dense(Tensor::<3>::from_data(
                TensorData::new(t.to_vec(), [n, c, s]),
                &device,
            ))
        }
        Targets::U8(t) => index(t.iter().map(|&l| i64::from(l)).collect())?,
        Targets::U16(t) => index(t.iter().map(|&l| i64::from(l)).collect())?,
        Targets::U32(t) => index(t.iter().map(|&l| i64::from(l)).collect())?,
        Targets::I64(t) => index(t.to_vec())?,
    };
    time_passes(imp, loss, x, targets, reps)
}

fn time_passes(
    imp: BenchImpl,
    loss: &dyn BurnLoss,
    logits: Tensor<3>,
    targets: SegTargets,
    reps: usize,
) -> Result<Timing> {
    let path = match imp {
        BenchImpl::BurnFused => ExecPath::Fused,
        BenchImpl::BurnComposed => ExecPath::Composed,
    };
    let mut last = None;
    let mut pass = |keep: bool| -> Result<f64> {
        let x = logits.clone().detach().require_grad();
        let start = Instant::now();
        let value = loss.forward_canonical(x.clone(), targets.clone(), path)?;
        let grads = value.backward();
        let grad = x.grad(&grads);
        // Reading one element forces the computation on backends that defer it.
        if let Some(g) = grad {
            let _ = g.slice([0..1, 0..1, 0..1]).into_data();
        }
        let ms = start.elapsed().as_secs_f64() * 1e3;
        if keep {
            last = Some(value);
        }
        Ok(ms)
    };
    pass(false)?;
    let reps = reps.max(1);
    let mut times = (0..reps)
        .map(|i| pass(i + 1 == reps))
        .collect::<Result<Vec<_>>>()?;
    times.sort_by(f64::total_cmp);
    let value = last.map_or(f64::NAN, |v| f64::from(v.into_scalar::<f32>()));
    Ok(Timing {
        median_ms: times[times.len() / 2],
        min_ms: times[0],
        value,
    })
}
