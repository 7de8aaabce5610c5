//! Generalized Dice loss (Sudre et al. 2017) as a burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::region::{apply_region, impl_region_loss, region_config, region_fields};
use super::{Activation, Background, EmptyTarget, GeneralizedWeight, Reduction, Scope};
use crate::composed::{GeneralizedWeighting, RegionScore, RegionTerm, ScoreTransform};
use crate::error::Result;
use crate::path::ExecPath;

const OP: &str = "generalized dice loss";

region_config! {
    /// Settings of [`GeneralizedDiceLoss`]; `init()` validates them.
    ///
    /// Defaults: `weight = Square` (`w_c = 1/T_c²`) and the Dice-type defaults of
    /// [`super::DiceLossConfig`] (no class weights: the weights come from the targets).
    #[derive(Config, Debug)]
    pub struct GeneralizedDiceLossConfig {
        /// How class weights follow from the target volumes. Default `Square`.
        #[config(default = "GeneralizedWeight::Square")]
        pub weight: GeneralizedWeight,
        // `region_config!` (region.rs) adds the settings every Dice-type loss shares:
        // activation, smoothing, eps, scope, background, ignore label, empty target,
        // reduction and path.
    }
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

    /// The composed region term for `classes` channels.
    fn region_term(&self, classes: usize) -> Result<RegionTerm> {
        let weighting = match self.weight {
            GeneralizedWeight::Square => GeneralizedWeighting::Square,
            GeneralizedWeight::Simple => GeneralizedWeighting::Simple,
            GeneralizedWeight::Uniform => GeneralizedWeighting::Uniform,
        };
        region_fields!(self, None).term(
            OP,
            RegionScore::Generalized(weighting),
            ScoreTransform::OneMinus,
            false,
            classes,
        )
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

impl_region_loss!(GeneralizedDiceLoss, "generalized_dice");
