//! Soft Dice loss (and its Jaccard and log forms) as a burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::region::{apply_region, impl_region_loss, region_config, region_fields};
use super::{
    Activation, Background, Denominator, DiceForm, EmptyTarget, Penalty, Reduction, Scope,
};
use crate::composed::{RegionScore, RegionTerm, ScoreTransform};
use crate::error::Result;
use crate::path::ExecPath;

const OP: &str = "dice loss";

region_config! {
    /// Settings of [`DiceLoss`]; `init()` validates them.
    ///
    /// Defaults (MONAI's `DiceLoss`): sigmoid, `smooth_nr = smooth_dr = 1e-5`, `eps = 1e-7`,
    /// per image, background included, no class weights, no ignore label, empty targets scored
    /// by the formula, linear denominator, Dice form, `1 − s`, mean, `path = Auto`. The notes'
    /// formula is `.with_smooth_nr(1e-8).with_smooth_dr(1e-8).with_scope(Scope::Batch)`.
    #[derive(Config, Debug)]
    pub struct DiceLossConfig {
        /// Per-class weights of the terms (the mean divides by their sum). Default none.
        pub class_weights: Option<Vec<f32>>,
        /// `Σp + Σt` or `Σp² + Σt²`. Default linear.
        #[config(default = "Denominator::Linear")]
        pub denominator: Denominator,
        /// Dice or Jaccard. Default Dice.
        #[config(default = "DiceForm::Dice")]
        pub form: DiceForm,
        /// `1 − s` or `−ln s`. Default `1 − s`.
        #[config(default = "Penalty::OneMinus")]
        pub penalty: Penalty,
        // `region_config!` (region.rs) adds the settings every Dice-type loss shares:
        // activation, smoothing, eps, scope, background, ignore label, empty target,
        // reduction and path.
    }
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

impl_region_loss!(DiceLoss, "dice");
