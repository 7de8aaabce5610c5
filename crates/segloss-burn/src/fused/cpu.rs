//! The fused kernel on the Flex CPU backend: the core loss on the tensor's own memory.

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::tensor::{DType, TensorData};
use segloss::loss::Targets;

use super::{FusedCall, FusedLossBackend, FusedTargets};

/// A CPU backend whose float data the core kernels can read as `f32` slices.
///
/// [`CpuLossKernel::loss_and_grad`] is the single place where burn tensors become slices;
/// the backend extension ([`FusedLossBackend`]) and its autodiff wrapper both call it.
pub trait CpuLossKernel: burn::backend::Backend {
    /// Runs the core loss of `call` and returns the loss as a one-element tensor, and, if
    /// `want_grad`, `∂loss/∂logits` with the logits' shape.
    ///
    /// A rejected input gives a NaN loss and zero gradient, and leaves the error in `call`.
    fn loss_and_grad(
        logits: FloatTensor<Self>,
        targets: FusedTargets<Self>,
        call: &FusedCall<'_>,
        want_grad: bool,
    ) -> (FloatTensor<Self>, Option<FloatTensor<Self>>);

    /// `upstream · grad`, with `upstream` a one-element tensor (the backward of a fused loss).
    fn scale_grad(grad: FloatTensor<Self>, upstream: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// Index targets converted to a type the core accepts, borrowing where the dtype allows.
enum IndexData<'a> {
    Borrowed(Targets<'a>),
    I64(Vec<i64>),
}

impl CpuLossKernel for Flex {
    fn loss_and_grad(
        logits: FloatTensor<Self>,
        targets: FusedTargets<Self>,
        call: &FusedCall<'_>,
        want_grad: bool,
    ) -> (FloatTensor<Self>, Option<FloatTensor<Self>>) {
        let dims = logits.shape().to_vec();
        // `to_contiguous` copies only a strided view; a plain tensor is read in place.
        let logits = contiguous(logits);
        let logits_f32: &[f32] = logits.as_slice().unwrap_or(&[]);
        let (dense, index);
        let index_data;
        let targets = match targets {
            FusedTargets::Dense(t) => {
                dense = contiguous(t);
                Targets::Dense(dense.as_slice().unwrap_or(&[]))
            }
            FusedTargets::Index(t) => {
                index = contiguous(t);
                index_data = index_targets(&index);
                match &index_data {
                    IndexData::Borrowed(t) => *t,
                    IndexData::I64(v) => Targets::I64(v),
                }
            }
        };
        let fail = |error| {
            call.set_error(error);
            let grad = want_grad.then(|| f32_tensor(vec![0.0; dims.iter().product()], &dims));
            (f32_tensor(vec![f32::NAN], &[1]), grad)
        };
        let shape = match segloss::Shape::new(&dims) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let mut grad = if want_grad {
            vec![0.0f32; logits_f32.len()]
        } else {
            Vec::new()
        };
        let result = call.loss().forward(
            logits_f32,
            targets,
            &shape,
            want_grad.then_some(grad.as_mut_slice()),
        );
        match result {
            Ok(value) => (
                f32_tensor(vec![value as f32], &[1]),
                want_grad.then(|| f32_tensor(grad, &dims)),
            ),
            Err(e) => fail(e),
        }
    }

    fn scale_grad(grad: FloatTensor<Self>, upstream: FloatTensor<Self>) -> FloatTensor<Self> {
        match scalar_f32(&upstream) {
            // The usual case: the loss is the root of `backward()`; no pass over the data.
            Some(g) if g == 1.0 => grad,
            // The gradient is uniquely owned here (made by the forward), so this scales it in
            // place.
            Some(g) if grad.dtype() == DType::F32 => {
                let mut grad = contiguous(grad);
                for v in grad.storage_mut::<f32>() {
                    *v *= g;
                }
                grad
            }
            _ => {
                let ones = burn::tensor::Shape::from(vec![1usize; grad.rank()]);
                Flex::float_mul(grad, Flex::float_reshape(upstream, ones))
            }
        }
    }
}

/// The value of a one-element `f32` tensor.
fn scalar_f32(t: &FloatTensor<Flex>) -> Option<f32> {
    if t.dtype() != DType::F32 || t.shape().num_elements() != 1 {
        return None;
    }
    contiguous(t.clone())
        .as_slice::<f32>()
        .and_then(|s| s.first().copied())
}

/// The tensor itself if its elements are contiguous (read in place), else a contiguous copy.
fn contiguous(t: FloatTensor<Flex>) -> FloatTensor<Flex> {
    if t.is_contiguous() {
        t
    } else {
        t.to_contiguous()
    }
}

fn index_targets(t: &IntTensor<Flex>) -> IndexData<'_> {
    // Flex stores integers in the dtype they were created with; the core reads u8, u16, u32
    // and i64 directly, anything else is widened to i64 (one copy of the targets).
    let borrowed = match t.dtype() {
        DType::I64 => t.as_slice::<i64>().map(Targets::I64),
        DType::U8 => t.as_slice::<u8>().map(Targets::U8),
        DType::U16 => t.as_slice::<u16>().map(Targets::U16),
        DType::U32 => t.as_slice::<u32>().map(Targets::U32),
        _ => None,
    };
    match borrowed {
        Some(b) => IndexData::Borrowed(b),
        None => {
            let data = t.to_contiguous().into_data();
            let data = data.convert::<i64>();
            IndexData::I64(data.try_to_vec::<i64>().unwrap_or_default())
        }
    }
}

fn f32_tensor(values: Vec<f32>, dims: &[usize]) -> FloatTensor<Flex> {
    FloatTensor::<Flex>::from_data(TensorData::new(values, dims.to_vec()))
}

impl FusedLossBackend for Flex {
    fn fused_loss_dense(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        call: &FusedCall<'_>,
    ) -> FloatTensor<Self> {
        Self::loss_and_grad(logits, FusedTargets::Dense(targets), call, false).0
    }

    fn fused_loss_index(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        call: &FusedCall<'_>,
    ) -> FloatTensor<Self> {
        Self::loss_and_grad(logits, FusedTargets::Index(targets), call, false).0
    }
}
