//! Generalized Dice loss (Sudre et al. 2017) as a burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::region::{RegionFields, apply_region};
use super::{
    Activation, Background, BurnLoss, EmptyTarget, GeneralizedWeight, Reduction, Scope, TargetKind,
    impl_forward,
};
use crate::composed::{ComposedPlan, GeneralizedWeighting, PixelTerm, RegionScore, ScoreTransform};
use crate::error::Result;
use crate::path::ExecPath;

const OP: &str = "generalized dice loss";

/// Settings of [`GeneralizedDiceLoss`]; `init()` validates them.
///
/// Defaults: `weight = Square` (`w_c = 1/T_c²`) and the Dice-type defaults of
/// [`super::DiceLossConfig`] (no class weights: the weights come from the targets).
#[derive(Config, Debug)]
pub struct GeneralizedDiceLossConfig {
    /// How class weights follow from the target volumes. Default `Square`.
    #[config(default = "GeneralizedWeight::Square")]
    pub weight: GeneralizedWeight,
    /// Sigmoid (dense targets) or softmax (class indices). Default sigmoid.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// Numerator smoothing `s_nr ≥ 0`. Default 1e-5.
    #[config(default = 1e-5)]
    pub smooth_nr: f64,
    /// Denominator smoothing `s_dr ≥ 0`. Default 1e-5.
    #[config(default = 1e-5)]
    pub smooth_dr: f64,
    /// Floor of the denominator (and of the score for log-Dice), `> 0`. Default 1e-7.
    #[config(default = 1e-7)]
    pub eps: f64,
    /// Per image and class, or per class over the batch. Default per image.
    #[config(default = "Scope::PerImage")]
    pub scope: Scope,
    /// Whether channel 0 forms terms. Default include.
    #[config(default = "Background::Include")]
    pub background: Background,
    /// Ignore label (softmax only). Default none.
    pub ignore_index: Option<i64>,
    /// What a term with an empty target contributes. Default the formula (MONAI).
    #[config(default = "EmptyTarget::Score")]
    pub empty_target: EmptyTarget,
    /// Mean or sum of the terms. Default mean.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Fused or composed implementation. Default auto.
    #[config(default = "ExecPath::Auto")]
    pub path: ExecPath,
}

impl GeneralizedDiceLossConfig {
    /// Validates the settings (the core's rules) into the loss.
    ///
    /// # Errors
    /// As [`super::DiceLossConfig::init`].
    pub fn init(&self) -> Result<GeneralizedDiceLoss> {
        let c =
            apply_region!(sl::GeneralizedDiceConfig::new(), self).with_weight(self.weight.into());
        Ok(GeneralizedDiceLoss {
            core: c.init()?,
            config: self.clone(),
        })
    }

    fn fields(&self) -> RegionFields<'_> {
        RegionFields {
            smooth_nr: self.smooth_nr,
            smooth_dr: self.smooth_dr,
            eps: self.eps,
            scope: self.scope,
            background: self.background,
            class_weights: None,
            empty_target: self.empty_target,
            reduction: self.reduction,
        }
    }
}

/// Generalized Dice loss from logits: per group (an image, or the batch)
/// `L = 1 − (2 Σ_c w_c I_c + s_nr) / (Σ_c w_c (P_c + T_c) + s_dr)`, `w_c = 1/T_c²` (or
/// `1/T_c`, or 1), averaged over the groups; an absent class takes the group's largest
/// weight (MONAI). See [`segloss::loss::GeneralizedDice`].
///
/// # Examples
/// ```
/// use burn::tensor::{Device, Tensor};
/// use segloss_burn::loss::GeneralizedDiceLossConfig;
/// let device = Device::flex();
/// let gdl = GeneralizedDiceLossConfig::new().init().unwrap();
/// // A confident, correct prediction: loss near 0.
/// let x = Tensor::<3>::from_floats([[[20.0f32, 20.0, -20.0, -20.0]]], &device);
/// let t = Tensor::<3>::from_floats([[[1.0f32, 1.0, 0.0, 0.0]]], &device);
/// let v: f32 = gdl.forward(x, t).unwrap().into_scalar();
/// assert!(v < 1e-5);
/// ```
#[derive(Debug, Clone)]
pub struct GeneralizedDiceLoss {
    core: sl::GeneralizedDice,
    config: GeneralizedDiceLossConfig,
}

impl_forward!(GeneralizedDiceLoss);

impl BurnLoss for GeneralizedDiceLoss {
    fn name(&self) -> &'static str {
        "generalized_dice"
    }

    fn target_kind(&self) -> TargetKind {
        self.config.activation.into()
    }

    fn core(&self) -> &dyn sl::Loss {
        &self.core
    }

    fn composed_plan(&self, classes: usize) -> Result<ComposedPlan> {
        Ok(ComposedPlan {
            softmax: self.config.activation == Activation::Softmax,
            pixel: PixelTerm::None,
            pixel_weight: 0.0,
            pixel_sum: false,
            region: Some((
                self.config.fields().term(
                    OP,
                    RegionScore::Generalized(match self.config.weight {
                        GeneralizedWeight::Square => GeneralizedWeighting::Square,
                        GeneralizedWeight::Simple => GeneralizedWeighting::Simple,
                        GeneralizedWeight::Uniform => GeneralizedWeighting::Uniform,
                    }),
                    ScoreTransform::OneMinus,
                    false,
                    classes,
                )?,
                1.0,
            )),
            ignore_index: self.config.ignore_index,
        })
    }

    fn path(&self) -> ExecPath {
        self.config.path
    }
}
