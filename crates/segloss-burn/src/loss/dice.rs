//! Soft Dice loss (and its Jaccard and log forms) as a burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::region::{apply_region, region_fields};
use super::{
    Activation, Background, BurnLoss, Denominator, DiceForm, EmptyTarget, Penalty, Reduction,
    Scope, TargetKind, impl_forward,
};
use crate::composed::{ComposedPlan, PixelTerm, RegionScore, RegionTerm, ScoreTransform};
use crate::error::Result;
use crate::path::ExecPath;

const OP: &str = "dice loss";

/// Settings of [`DiceLoss`]; `init()` validates them.
///
/// Defaults (MONAI's `DiceLoss`): sigmoid, `smooth_nr = smooth_dr = 1e-5`, `eps = 1e-7`,
/// per image, background included, no class weights, no ignore label, empty targets scored
/// by the formula, linear denominator, Dice form, `1 − s`, mean, `path = Auto`. The notes'
/// formula is `.with_smooth_nr(1e-8).with_smooth_dr(1e-8).with_scope(Scope::Batch)`.
#[derive(Config, Debug)]
pub struct DiceLossConfig {
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
    /// Per-class weights of the terms (the mean divides by their sum). Default none.
    pub class_weights: Option<Vec<f32>>,
    /// Ignore label (softmax only). Default none.
    pub ignore_index: Option<i64>,
    /// What a term with an empty target contributes. Default the formula (MONAI).
    #[config(default = "EmptyTarget::Score")]
    pub empty_target: EmptyTarget,
    /// Mean or sum of the terms. Default mean.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// `Σp + Σt` or `Σp² + Σt²`. Default linear.
    #[config(default = "Denominator::Linear")]
    pub denominator: Denominator,
    /// Dice or Jaccard. Default Dice.
    #[config(default = "DiceForm::Dice")]
    pub form: DiceForm,
    /// `1 − s` or `−ln s`. Default `1 − s`.
    #[config(default = "Penalty::OneMinus")]
    pub penalty: Penalty,
    /// Fused or composed implementation. Default auto.
    #[config(default = "ExecPath::Auto")]
    pub path: ExecPath,
}

impl DiceLossConfig {
    /// The core configuration with these settings.
    pub(crate) fn core_config(&self) -> sl::DiceConfig {
        let mut c = apply_region!(sl::DiceConfig::new(), self)
            .with_denominator(self.denominator.into())
            .with_form(self.form.into())
            .with_penalty(self.penalty.into());
        if let Some(w) = &self.class_weights {
            c = c.with_class_weights(w.clone());
        }
        c
    }

    /// Validates the settings (the core's rules) into the loss.
    ///
    /// # Errors
    /// [`segloss::Error::InvalidParameter`] (wrapped) for a negative or non-finite smoothing
    /// term, `eps ≤ 0`, invalid class weights, or an ignore label with sigmoid.
    pub fn init(&self) -> Result<DiceLoss> {
        Ok(DiceLoss {
            core: self.core_config().init()?,
            config: self.clone(),
        })
    }

    /// The composed region term for `classes` channels.
    pub(crate) fn region_term(&self, classes: usize) -> Result<RegionTerm> {
        let score = match self.form {
            DiceForm::Dice => RegionScore::Dice,
            DiceForm::Jaccard => RegionScore::Jaccard,
        };
        let transform = match self.penalty {
            Penalty::OneMinus => ScoreTransform::OneMinus,
            Penalty::NegLog => ScoreTransform::NegLog,
        };
        region_fields!(self).term(
            OP,
            score,
            transform,
            self.denominator == Denominator::Squared,
            classes,
        )
    }
}

/// Soft Dice loss from logits: per term (an image and class, or a class over the batch)
/// `s = (2Σpt + s_nr) / max(Σp + Σt + s_dr, eps)`, loss `1 − s`, averaged over the terms;
/// squared denominator, Jaccard and log forms as options. See [`segloss::loss::Dice`].
///
/// # Examples
/// ```
/// use burn::tensor::{Device, Tensor};
/// use segloss_burn::loss::DiceLossConfig;
/// let device = Device::flex();
/// let dice = DiceLossConfig::new().init().unwrap();
/// // p = 1/2 everywhere, two of four pixels positive: s = 2·1 / (2 + 2).
/// let x = Tensor::<3>::zeros([1, 1, 4], &device);
/// let t = Tensor::<3>::from_floats([[[1.0f32, 1.0, 0.0, 0.0]]], &device);
/// let v: f32 = dice.forward(x, t).unwrap().into_scalar();
/// assert!((v - 0.5).abs() < 1e-5);
/// ```
#[derive(Debug, Clone)]
pub struct DiceLoss {
    core: sl::Dice,
    config: DiceLossConfig,
}

impl_forward!(DiceLoss);

impl BurnLoss for DiceLoss {
    fn name(&self) -> &'static str {
        "dice"
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
            region: Some((self.config.region_term(classes)?, 1.0)),
            ignore_index: self.config.ignore_index,
        })
    }

    fn path(&self) -> ExecPath {
        self.config.path
    }
}
