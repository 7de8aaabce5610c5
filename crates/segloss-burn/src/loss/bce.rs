//! Binary cross-entropy with logits as a burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::{
    Activation, BurnLoss, Reduction, TargetKind, class_vec, impl_forward, impl_forward_elementwise,
    pixel_plan,
};
use crate::composed::{ComposedPlan, PixelTerm};
use crate::error::Result;
use crate::path::ExecPath;

/// Settings of [`BceLoss`]; `init()` validates them.
///
/// Defaults (PyTorch's `binary_cross_entropy_with_logits`): `pos_weight = [1]`,
/// `label_smoothing = 0`, `reduction = Mean`, `path = Auto`.
#[derive(Config, Debug)]
pub struct BceLossConfig {
    /// Weight `w` of positive targets, one value or one per channel. Default `[1.0]`.
    #[config(default = "vec![1.0]")]
    pub pos_weight: Vec<f32>,
    /// Label smoothing `ε ∈ [0, 1]`: `t ← t(1 − ε) + ε/2`. Default 0.
    #[config(default = 0.0)]
    pub label_smoothing: f32,
    /// Mean over `N·C·S` elements, or sum. Default mean.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Fused or composed implementation. Default auto.
    #[config(default = "ExecPath::Auto")]
    pub path: ExecPath,
}

impl BceLossConfig {
    /// Validates the settings (the core's rules) into the loss.
    ///
    /// # Errors
    /// [`segloss::Error::InvalidParameter`] (wrapped) for a negative, non-finite or all-zero
    /// `pos_weight` or a smoothing outside `[0, 1]`.
    pub fn init(&self) -> Result<BceLoss> {
        let core = sl::BceConfig::new()
            .with_class_pos_weights(self.pos_weight.clone())
            .with_label_smoothing(self.label_smoothing)
            .with_reduction(self.reduction.into())
            .init()?;
        Ok(BceLoss {
            core,
            config: self.clone(),
        })
    }
}

/// Binary cross-entropy with logits, `ℓ = −[w·t·ln σ(x) + (1 − t)·ln σ(−x)]`, for binary and
/// multi-label segmentation (dense targets in `[0, 1]`, soft labels allowed).
///
/// Computed in softplus / log-sigmoid form on both paths; see [`segloss::loss::Bce`].
///
/// # Examples
/// ```
/// use burn::tensor::{Device, Tensor};
/// use segloss_burn::loss::BceLossConfig;
/// let device = Device::flex();
/// let loss = BceLossConfig::new().init().unwrap();
/// let x = Tensor::<3>::from_floats([[[0.0f32, 0.0]]], &device);
/// let t = Tensor::<3>::from_floats([[[1.0f32, 0.0]]], &device);
/// let v: f32 = loss.forward(x, t).unwrap().into_scalar();
/// assert!((v - std::f32::consts::LN_2).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct BceLoss {
    core: sl::Bce,
    config: BceLossConfig,
}

impl_forward!(BceLoss);
impl_forward_elementwise!(BceLoss);

impl BurnLoss for BceLoss {
    fn name(&self) -> &'static str {
        "bce"
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Dense
    }

    fn core(&self) -> &dyn sl::Loss {
        &self.core
    }

    fn composed_plan(&self, classes: usize) -> Result<ComposedPlan> {
        let pos_weight = class_vec(
            "bce loss",
            "number of pos_weight values",
            Some(self.config.pos_weight.as_slice()),
            classes,
        )?;
        Ok(pixel_plan(
            Activation::Sigmoid,
            PixelTerm::Bce {
                pos_weight,
                smoothing: f64::from(self.config.label_smoothing),
            },
            self.config.reduction,
            None,
        ))
    }

    fn path(&self) -> ExecPath {
        self.config.path
    }
}
