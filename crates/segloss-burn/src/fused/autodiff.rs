//! The fused kernel under autodiff: the gradient of the forward pass becomes the backward.

use burn::backend::Backend;
use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::{FloatTensor, IntTensor};

use super::cpu::CpuLossKernel;
use super::{FusedCall, FusedLossBackend, FusedTargets};

/// Custom backward of a fused loss.
///
/// Its state is `∂L/∂x`, computed by the forward pass. With upstream gradient `g` (a
/// one-element tensor; `1` when the loss is the root of `backward()`) it registers
/// `g·∂L/∂x` for the logits.
#[derive(Debug)]
pub struct FusedLossBackward;

impl<B: Backend + CpuLossKernel> Backward<B, 1> for FusedLossBackward {
    type State = FloatTensor<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let upstream = grads.consume::<B>(&ops.node);
        let [parent] = ops.parents;
        if let Some(node) = parent {
            grads.register::<B>(node.id, B::scale_grad(ops.state, upstream));
        }
    }
}

fn tracked<B: Backend + CpuLossKernel, C: CheckpointStrategy>(
    logits: FloatTensor<Autodiff<B, C>>,
    targets: FusedTargets<B>,
    call: &FusedCall<'_>,
) -> FloatTensor<Autodiff<B, C>> {
    let (primitive, guard) = logits.into_parts();
    match FusedLossBackward
        .prepare::<C>([guard])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (loss, grad) = B::loss_and_grad(primitive, targets, call, true);
            let grad =
                grad.unwrap_or_else(|| unreachable!("loss_and_grad returns a gradient when asked"));
            prep.finish(grad, loss)
        }
        OpsKind::UnTracked(prep) => {
            let (loss, _) = B::loss_and_grad(primitive, targets, call, false);
            prep.finish(loss)
        }
    }
}

impl<B: Backend + CpuLossKernel, C: CheckpointStrategy> FusedLossBackend for Autodiff<B, C> {
    fn fused_loss_dense(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        call: &FusedCall<'_>,
    ) -> FloatTensor<Self> {
        let targets = FusedTargets::Dense(targets.into_primitive());
        tracked::<B, C>(logits, targets, call)
    }

    fn fused_loss_index(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        call: &FusedCall<'_>,
    ) -> FloatTensor<Self> {
        tracked::<B, C>(logits, FusedTargets::Index(targets), call)
    }
}
