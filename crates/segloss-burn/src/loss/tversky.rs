//! Tversky and focal Tversky losses as burn losses.

use burn::config::Config;
use segloss::loss as sl;

use super::region::{apply_region, impl_region_loss, region_config, region_fields};
use super::{Activation, Background, EmptyTarget, Reduction, Scope};
use crate::composed::{RegionScore, RegionTerm, ScoreTransform};
use crate::error::Result;
use crate::path::ExecPath;

const OP: &str = "tversky loss";

region_config! {
    /// Settings of [`TverskyLoss`]; `init()` validates them.
    ///
    /// Defaults: `alpha = beta = 0.5` (the Dice score), `gamma = 1` (plain Tversky), and the
    /// Dice-type defaults of [`super::DiceLossConfig`].
    #[derive(Config, Debug)]
    pub struct TverskyLossConfig {
        /// Weight `α ≥ 0` of false positives `Σp(1 − t)`. Default 0.5.
        #[config(default = 0.5)]
        pub alpha: f64,
        /// Weight `β ≥ 0` of false negatives `Σ(1 − p)t`. Default 0.5.
        #[config(default = 0.5)]
        pub beta: f64,
        /// Exponent `γ > 0` of the focal Tversky loss `(1 − TI)^γ`; 1 is plain Tversky. Default 1.
        #[config(default = 1.0)]
        pub gamma: f64,
        /// Per-class weights of the terms (the mean divides by their sum). Default none.
        pub class_weights: Option<Vec<f32>>,
        // `region_config!` (region.rs) adds the settings every Dice-type loss shares:
        // activation, smoothing, eps, scope, background, ignore label, empty target,
        // reduction and path.
    }
}

impl TverskyLossConfig {
    /// Validates the settings (the core's rules) into the loss.
    ///
    /// # Errors
    /// [`segloss::Error::InvalidParameter`] (wrapped) for a negative `alpha` or `beta`,
    /// `gamma ≤ 0`, or an invalid shared setting (as [`super::DiceLossConfig::init`]).
    pub fn init(&self) -> Result<TverskyLoss> {
        let mut c = apply_region!(sl::TverskyConfig::new(), self)
            .with_alpha(self.alpha)
            .with_beta(self.beta)
            .with_gamma(self.gamma);
        if let Some(w) = &self.class_weights {
            c = c.with_class_weights(w.clone());
        }
        Ok(TverskyLoss {
            core: c.init()?,
            config: self.clone(),
        })
    }

    /// The composed region term for `classes` channels.
    fn region_term(&self, classes: usize) -> Result<RegionTerm> {
        let transform = if self.gamma == 1.0 {
            ScoreTransform::OneMinus
        } else {
            ScoreTransform::Power(self.gamma)
        };
        region_fields!(self).term(
            OP,
            RegionScore::Tversky {
                alpha: self.alpha,
                beta: self.beta,
            },
            transform,
            false,
            classes,
        )
    }
}

/// Tversky loss from logits: per term `TI = (I + s_nr) / max(I + α·FP + β·FN + s_dr, eps)`
/// with `I = Σpt`, `FP = Σp − I`, `FN = Σt − I`; loss `1 − TI`, or `(1 − TI)^γ` (focal
/// Tversky), averaged over the terms. `α = β = ½` is the Dice loss. See
/// [`segloss::loss::Tversky`].
///
/// # Examples
/// ```
/// use burn::tensor::{Device, Tensor};
/// use segloss_burn::loss::{DiceLossConfig, TverskyLossConfig};
/// let device = Device::flex();
/// let x = Tensor::<3>::from_floats([[[0.3f32, -1.0, 2.0, 0.1]]], &device);
/// let t = Tensor::<3>::from_floats([[[1.0f32, 0.0, 1.0, 0.0]]], &device);
/// let tv: f32 = TverskyLossConfig::new().init().unwrap().forward(x.clone(), t.clone()).unwrap().into_scalar();
/// let dice: f32 = DiceLossConfig::new().init().unwrap().forward(x, t).unwrap().into_scalar();
/// assert!((tv - dice).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct TverskyLoss {
    core: sl::Tversky,
    config: TverskyLossConfig,
}

impl_region_loss!(TverskyLoss, "tversky");
