//! Focal loss (Lin et al. 2017), sigmoid and softmax forms, as a burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::{
    Activation, BurnLoss, FocalAlpha, Reduction, TargetKind, class_vec, impl_forward,
    impl_forward_elementwise, pixel_plan,
};
use crate::composed::{ComposedPlan, PixelTerm};
use crate::error::Result;
use crate::path::ExecPath;

const OP: &str = "focal loss";

/// Settings of [`FocalLoss`]; `init()` validates them.
///
/// Defaults (the paper's): `gamma = 2`, `alpha = Balanced(0.25)`, `activation = Sigmoid`, no
/// class weights, no ignore label, `reduction = Mean`, `path = Auto`.
#[derive(Config, Debug)]
pub struct FocalLossConfig {
    /// Focusing exponent `γ ≥ 0`. Default 2.
    #[config(default = 2.0)]
    pub gamma: f32,
    /// Class balance `α`. Default `Balanced(0.25)`: positives `α`, negatives `1 − α`.
    #[config(default = "FocalAlpha::Balanced(0.25)")]
    pub alpha: FocalAlpha,
    /// Sigmoid (dense targets) or softmax (class indices). Default sigmoid.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// Extra per-class weights, multiplied into `α`. Default none.
    pub class_weights: Option<Vec<f32>>,
    /// Ignore label (softmax only). Default none.
    pub ignore_index: Option<i64>,
    /// Mean (over `N·C·S` for sigmoid, over counted pixels for softmax) or sum. Default mean.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Fused or composed implementation. Default auto.
    #[config(default = "ExecPath::Auto")]
    pub path: ExecPath,
}

impl FocalLossConfig {
    /// The core configuration with these settings.
    pub(crate) fn core_config(&self) -> sl::FocalConfig {
        let mut c = sl::FocalConfig::new()
            .with_gamma(self.gamma)
            .with_alpha((&self.alpha).into())
            .with_activation(self.activation.into())
            .with_reduction(self.reduction.into());
        if let Some(w) = &self.class_weights {
            c = c.with_class_weights(w.clone());
        }
        if let Some(i) = self.ignore_index {
            c = c.with_ignore_index(i);
        }
        c
    }

    /// Validates the settings (the core's rules) into the loss.
    ///
    /// # Errors
    /// [`segloss::Error::InvalidParameter`] (wrapped) for a negative or non-finite `gamma`,
    /// an `alpha` outside `[0, 1]`, invalid class weights, the notes' variant with softmax,
    /// or an ignore label with sigmoid.
    pub fn init(&self) -> Result<FocalLoss> {
        Ok(FocalLoss {
            core: self.core_config().init()?,
            config: self.clone(),
        })
    }

    /// The composed pixel term for `classes` channels.
    pub(crate) fn pixel_term(&self, classes: usize) -> Result<PixelTerm> {
        let weights = class_vec(
            OP,
            "number of focal alpha / class weight values",
            self.class_weights.as_deref(),
            classes,
        )?;
        let gamma = f64::from(self.gamma);
        match self.activation {
            Activation::Sigmoid => {
                let alpha = match &self.alpha {
                    FocalAlpha::None => vec![(1.0, 1.0); classes],
                    // `1 − α` in f32, as the core computes it.
                    FocalAlpha::Balanced(a) => vec![(f64::from(*a), f64::from(1.0 - *a)); classes],
                    FocalAlpha::NotesVariant(a) => vec![(f64::from(*a), f64::from(*a)); classes],
                    FocalAlpha::PerClass(v) => {
                        let v = class_vec(
                            OP,
                            "number of focal alpha values",
                            Some(v.as_slice()),
                            classes,
                        )?;
                        v.iter().map(|&a| (a, f64::from(1.0 - a as f32))).collect()
                    }
                };
                let alpha = alpha
                    .into_iter()
                    .zip(&weights)
                    .map(|((p, n), &w)| (f64::from((p * w) as f32), f64::from((n * w) as f32)))
                    .collect();
                Ok(PixelTerm::SigmoidFocal { gamma, alpha })
            }
            Activation::Softmax => {
                let alpha: Vec<f64> = match &self.alpha {
                    FocalAlpha::None | FocalAlpha::NotesVariant(_) => vec![1.0; classes],
                    FocalAlpha::Balanced(a) => (0..classes)
                        .map(|k| {
                            if k == 0 {
                                f64::from(1.0 - *a)
                            } else {
                                f64::from(*a)
                            }
                        })
                        .collect(),
                    FocalAlpha::PerClass(v) => class_vec(
                        OP,
                        "number of focal alpha values",
                        Some(v.as_slice()),
                        classes,
                    )?,
                };
                let weights = alpha
                    .iter()
                    .zip(&weights)
                    .map(|(&a, &w)| f64::from((a * w) as f32))
                    .collect();
                Ok(PixelTerm::SoftmaxFocal { gamma, weights })
            }
        }
    }
}

/// Focal loss from logits: down-weights easy, well-classified elements so training focuses on
/// hard ones.
///
/// - **Sigmoid** (dense targets): `ℓ = α_t (1 − p_t)^γ BCE(x, t)`, torchvision's definition
///   (soft targets included), negatives weighted `1 − α` (Lin et al.).
/// - **Softmax** (class indices): `ℓ = −α_y w_y (1 − p_y)^γ ln p_y`.
///
/// The modulating factor is computed in log space on both paths; see
/// [`segloss::loss::Focal`] for the conventions.
///
/// # Examples
/// ```
/// use burn::tensor::{Device, Tensor};
/// use segloss_burn::loss::{FocalAlpha, FocalLossConfig};
/// let device = Device::flex();
/// // γ = 0 and no α: plain BCE, ln 2 at logit 0.
/// let loss = FocalLossConfig::new()
///     .with_gamma(0.0)
///     .with_alpha(FocalAlpha::None)
///     .init()
///     .unwrap();
/// let x = Tensor::<3>::from_floats([[[0.0f32, 0.0]]], &device);
/// let t = Tensor::<3>::from_floats([[[1.0f32, 0.0]]], &device);
/// let v: f32 = loss.forward(x, t).unwrap().into_scalar();
/// assert!((v - std::f32::consts::LN_2).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct FocalLoss {
    core: sl::Focal,
    config: FocalLossConfig,
}

impl_forward!(FocalLoss);
impl_forward_elementwise!(FocalLoss);

impl BurnLoss for FocalLoss {
    fn name(&self) -> &'static str {
        "focal"
    }

    fn target_kind(&self) -> TargetKind {
        self.config.activation.into()
    }

    fn core(&self) -> &dyn sl::Loss {
        &self.core
    }

    fn composed_plan(&self, classes: usize) -> Result<ComposedPlan> {
        Ok(pixel_plan(
            self.config.activation,
            self.config.pixel_term(classes)?,
            self.config.reduction,
            self.config.ignore_index,
        ))
    }

    fn path(&self) -> ExecPath {
        self.config.path
    }
}
