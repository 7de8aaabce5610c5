//! Dice + focal as one burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::{
    Activation, BurnLoss, DiceLossConfig, FocalLossConfig, Reduction, TargetKind, impl_forward,
};
use crate::composed::ComposedPlan;
use crate::error::Result;
use crate::path::ExecPath;

/// Settings of [`DiceFocalLoss`]; `init()` validates them.
///
/// Defaults: sigmoid, no ignore label, [`DiceLossConfig::new`], [`FocalLossConfig::new`],
/// `lambda_dice = lambda_focal = 1`, `path = Auto`. The activation and ignore label set here
/// override the parts' (one activation for both parts: a softmax Dice with a sigmoid focal
/// term is a known trap).
#[derive(Config, Debug)]
pub struct DiceFocalLossConfig {
    /// Shared activation. Default sigmoid.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// Shared ignore label (softmax only). Default none.
    pub ignore_index: Option<i64>,
    /// The Dice part. Default [`DiceLossConfig::new`].
    #[config(default = "DiceLossConfig::new()")]
    pub dice: DiceLossConfig,
    /// The focal part. Default [`FocalLossConfig::new`].
    #[config(default = "FocalLossConfig::new()")]
    pub focal: FocalLossConfig,
    /// Weight of the Dice part, `≥ 0`. Default 1.
    #[config(default = 1.0)]
    pub lambda_dice: f64,
    /// Weight of the focal part, `≥ 0`. Default 1.
    #[config(default = 1.0)]
    pub lambda_focal: f64,
    /// Fused or composed implementation. Default auto.
    #[config(default = "ExecPath::Auto")]
    pub path: ExecPath,
}

impl DiceFocalLossConfig {
    /// The parts with the shared activation and ignore label applied.
    fn shared(&self) -> (DiceLossConfig, FocalLossConfig) {
        let ignore = match self.activation {
            Activation::Softmax => self.ignore_index,
            Activation::Sigmoid => None,
        };
        let mut dice = self.dice.clone();
        dice.activation = self.activation;
        dice.ignore_index = ignore;
        let mut focal = self.focal.clone();
        focal.activation = self.activation;
        focal.ignore_index = ignore;
        (dice, focal)
    }

    /// Validates the settings (the core's rules) into the loss.
    ///
    /// # Errors
    /// [`segloss::Error::InvalidParameter`] (wrapped) for a negative or non-finite `λ`, or
    /// any error of the parts.
    pub fn init(&self) -> Result<DiceFocalLoss> {
        let mut c = sl::DiceFocalConfig::new()
            .with_activation(self.activation.into())
            .with_dice(self.dice.core_config())
            .with_focal(self.focal.core_config())
            .with_lambda_dice(self.lambda_dice)
            .with_lambda_focal(self.lambda_focal);
        if let Some(i) = self.ignore_index {
            c = c.with_ignore_index(i);
        }
        Ok(DiceFocalLoss {
            core: c.init()?,
            config: self.clone(),
        })
    }
}

/// `λ_dice·Dice + λ_focal·Focal` with one shared activation; on the fused path one two-pass
/// core kernel computes both parts and their summed gradient. See
/// [`segloss::loss::DiceFocal`].
///
/// # Examples
/// ```
/// use burn::tensor::{Device, Tensor};
/// use segloss_burn::loss::{DiceFocalLossConfig, DiceLossConfig, FocalLossConfig};
/// let device = Device::flex();
/// let x = Tensor::<3>::from_floats([[[0.3f32, -1.0, 2.0, 0.1]]], &device);
/// let t = Tensor::<3>::from_floats([[[1.0f32, 0.0, 1.0, 0.0]]], &device);
/// let both: f32 = DiceFocalLossConfig::new().with_lambda_focal(2.0).init().unwrap()
///     .forward(x.clone(), t.clone()).unwrap().into_scalar();
/// let d: f32 = DiceLossConfig::new().init().unwrap().forward(x.clone(), t.clone()).unwrap().into_scalar();
/// let f: f32 = FocalLossConfig::new().init().unwrap().forward(x, t).unwrap().into_scalar();
/// assert!((both - (d + 2.0 * f)).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct DiceFocalLoss {
    core: sl::DiceFocal,
    config: DiceFocalLossConfig,
}

impl_forward!(DiceFocalLoss);

impl BurnLoss for DiceFocalLoss {
    fn name(&self) -> &'static str {
        "dice_focal"
    }

    fn target_kind(&self) -> TargetKind {
        self.config.activation.into()
    }

    fn core(&self) -> &dyn sl::Loss {
        &self.core
    }

    fn composed_plan(&self, classes: usize) -> Result<ComposedPlan> {
        let (dice, focal) = self.config.shared();
        Ok(ComposedPlan {
            softmax: self.config.activation == Activation::Softmax,
            pixel: focal.pixel_term(classes)?,
            pixel_weight: self.config.lambda_focal,
            pixel_sum: focal.reduction == Reduction::Sum,
            region: Some((dice.region_term(classes)?, self.config.lambda_dice)),
            ignore_index: dice.ignore_index,
        })
    }

    fn path(&self) -> ExecPath {
        self.config.path
    }
}
