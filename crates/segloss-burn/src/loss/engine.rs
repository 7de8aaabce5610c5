//! The one place where a loss call picks its path and runs it.

use burn::backend::Dispatch;
use burn::tensor::Tensor;
use segloss::loss::Loss;

use crate::error::{Error, Result};
use crate::fused::{FusedCall, FusedLossBackend, fused_supported};
use crate::path::ExecPath;
use crate::targets::{IntoTargets, SegTargets, canonical, check_logits};

/// Checks and reshapes the inputs to the canonical layout: logits `[N, C, S]` and targets.
pub(crate) fn canonical_inputs<const D: usize>(
    op: &'static str,
    logits: Tensor<D>,
    targets: impl IntoTargets,
) -> Result<(Tensor<3>, SegTargets, Vec<usize>)> {
    let dims = logits.dims().to_vec();
    check_logits(op, &dims)?;
    let targets = targets.into_targets(op, &dims)?;
    let [n, c, s] = canonical(&dims);
    Ok((logits.reshape([n, c, s]), targets, dims))
}

/// Whether `path` resolves to the fused kernel for these logits.
///
/// # Errors
/// [`Error::FusedUnavailable`] if [`ExecPath::Fused`] is asked for where it cannot run.
pub(crate) fn use_fused(op: &'static str, path: ExecPath, logits: &Tensor<3>) -> Result<bool> {
    let device = logits.device();
    let dtype = logits.dtype();
    let supported = fused_supported(&device, dtype);
    match path {
        ExecPath::Auto => Ok(supported),
        ExecPath::Composed => Ok(false),
        ExecPath::Fused if supported => Ok(true),
        ExecPath::Fused => Err(Error::FusedUnavailable {
            op,
            found: format!("{dtype:?} on {device:?}"),
        }),
    }
}

/// Runs the core loss through the backend extension; the result tracks the fused gradient.
///
/// # Errors
/// The core's error if it rejects the input.
pub(crate) fn run_fused(
    core: &dyn Loss,
    logits: Tensor<3>,
    targets: SegTargets,
) -> Result<Tensor<1>> {
    let call = FusedCall::new(core);
    let out = match targets {
        SegTargets::Dense(t) => <Dispatch as FusedLossBackend>::fused_loss_dense(
            logits.into_dispatch(),
            t.into_dispatch(),
            &call,
        ),
        SegTargets::Index(t) => <Dispatch as FusedLossBackend>::fused_loss_index(
            logits.into_dispatch(),
            t.into_dispatch(),
            &call,
        ),
    };
    match call.take_error() {
        Some(e) => Err(e.into()),
        None => Ok(Tensor::from_dispatch(out)),
    }
}

/// The body of [`crate::loss::BurnLoss::forward_canonical`].
pub(crate) fn forward_canonical<L: crate::loss::BurnLoss + ?Sized>(
    loss: &L,
    logits: Tensor<3>,
    targets: SegTargets,
    path: ExecPath,
) -> Result<Tensor<1>> {
    if use_fused(loss.name(), path, &logits)? {
        run_fused(loss.core(), logits, targets)
    } else {
        let classes = logits.dims()[1];
        loss.composed_plan(classes)?
            .evaluate(loss.name(), logits, targets)
    }
}
