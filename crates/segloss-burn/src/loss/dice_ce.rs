//! Dice + cross-entropy as one burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::{
    Activation, BceLossConfig, BurnLoss, CrossEntropyLossConfig, DiceLossConfig, TargetKind,
    impl_forward,
};
use crate::composed::ComposedPlan;
use crate::error::Result;
use crate::path::ExecPath;

/// Settings of [`DiceCeLoss`]; `init()` validates them.
///
/// Defaults (MONAI's `DiceCELoss`): sigmoid, no ignore label, [`DiceLossConfig::new`],
/// [`BceLossConfig::new`] (sigmoid part), [`CrossEntropyLossConfig::new`] (softmax part),
/// `lambda_dice = lambda_ce = 1`, `path = Auto`. The activation and ignore label set here
/// override the parts'.
#[derive(Config, Debug)]
pub struct DiceCeLossConfig {
    /// Shared activation: sigmoid pairs Dice with BCE, softmax with cross-entropy. Default
    /// sigmoid.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// Shared ignore label (softmax only). Default none.
    pub ignore_index: Option<i64>,
    /// The Dice part. Default [`DiceLossConfig::new`].
    #[config(default = "DiceLossConfig::new()")]
    pub dice: DiceLossConfig,
    /// The BCE part (sigmoid). Default [`BceLossConfig::new`].
    #[config(default = "BceLossConfig::new()")]
    pub bce: BceLossConfig,
    /// The cross-entropy part (softmax). Default [`CrossEntropyLossConfig::new`].
    #[config(default = "CrossEntropyLossConfig::new()")]
    pub ce: CrossEntropyLossConfig,
    /// Weight of the Dice part, `≥ 0`. Default 1.
    #[config(default = 1.0)]
    pub lambda_dice: f64,
    /// Weight of the cross-entropy part, `≥ 0`. Default 1.
    #[config(default = 1.0)]
    pub lambda_ce: f64,
    /// Fused or composed implementation. Default auto.
    #[config(default = "ExecPath::Auto")]
    pub path: ExecPath,
}

impl DiceCeLossConfig {
    /// Validates the settings (the core's rules) into the loss.
    ///
    /// # Errors
    /// [`segloss::Error::InvalidParameter`] (wrapped) for a negative or non-finite `λ`, or
    /// any error of the parts.
    pub fn init(&self) -> Result<DiceCeLoss> {
        let mut bce = sl::BceConfig::new()
            .with_class_pos_weights(self.bce.pos_weight.clone())
            .with_label_smoothing(self.bce.label_smoothing)
            .with_reduction(self.bce.reduction.into());
        if self.activation == Activation::Softmax {
            bce = sl::BceConfig::new();
        }
        let mut ce = sl::CrossEntropyConfig::new()
            .with_label_smoothing(self.ce.label_smoothing)
            .with_reduction(self.ce.reduction.into());
        if let Some(w) = &self.ce.class_weights {
            ce = ce.with_class_weights(w.clone());
        }
        let mut c = sl::DiceCeConfig::new()
            .with_activation(self.activation.into())
            .with_dice(self.dice.core_config())
            .with_bce(bce)
            .with_ce(ce)
            .with_lambda_dice(self.lambda_dice)
            .with_lambda_ce(self.lambda_ce);
        if let Some(i) = self.ignore_index {
            c = c.with_ignore_index(i);
        }
        Ok(DiceCeLoss {
            core: c.init()?,
            config: self.clone(),
        })
    }
}

/// `λ_dice·Dice + λ_ce·CE`: soft Dice plus BCE (sigmoid) or softmax cross-entropy, one shared
/// activation; on the fused path one two-pass core kernel. See [`segloss::loss::DiceCe`].
///
/// # Examples
/// ```
/// use burn::tensor::{Device, Tensor};
/// use segloss_burn::loss::{BceLossConfig, DiceCeLossConfig, DiceLossConfig};
/// let device = Device::flex();
/// let x = Tensor::<3>::from_floats([[[1.5f32, -0.5, 0.2]]], &device);
/// let t = Tensor::<3>::from_floats([[[1.0f32, 0.0, 1.0]]], &device);
/// let both: f32 = DiceCeLossConfig::new().with_lambda_ce(0.5).init().unwrap()
///     .forward(x.clone(), t.clone()).unwrap().into_scalar();
/// let d: f32 = DiceLossConfig::new().init().unwrap().forward(x.clone(), t.clone()).unwrap().into_scalar();
/// let b: f32 = BceLossConfig::new().init().unwrap().forward(x, t).unwrap().into_scalar();
/// assert!((both - (d + 0.5 * b)).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct DiceCeLoss {
    core: sl::DiceCe,
    config: DiceCeLossConfig,
}

impl_forward!(DiceCeLoss);

impl BurnLoss for DiceCeLoss {
    fn name(&self) -> &'static str {
        "dice_ce"
    }

    fn target_kind(&self) -> TargetKind {
        self.config.activation.into()
    }

    fn core(&self) -> &dyn sl::Loss {
        &self.core
    }

    fn composed_plan(&self, classes: usize) -> Result<ComposedPlan> {
        let ignore = match self.config.activation {
            Activation::Softmax => self.config.ignore_index,
            Activation::Sigmoid => None,
        };
        let mut dice = self.config.dice.clone();
        dice.activation = self.config.activation;
        dice.ignore_index = ignore;
        let (pixel, pixel_sum) = match self.config.activation {
            Activation::Sigmoid => {
                let b = BceLossConfig {
                    path: ExecPath::Composed,
                    ..self.config.bce.clone()
                }
                .init()?;
                let plan = b.composed_plan(classes)?;
                (plan.pixel, plan.pixel_sum)
            }
            Activation::Softmax => {
                let ce = CrossEntropyLossConfig {
                    ignore_index: ignore,
                    ..self.config.ce.clone()
                }
                .init()?;
                let plan = ce.composed_plan(classes)?;
                (plan.pixel, plan.pixel_sum)
            }
        };
        Ok(ComposedPlan {
            softmax: self.config.activation == Activation::Softmax,
            pixel,
            pixel_weight: self.config.lambda_ce,
            pixel_sum,
            region: Some((dice.region_term(classes)?, self.config.lambda_dice)),
            ignore_index: ignore,
        })
    }

    fn path(&self) -> ExecPath {
        self.config.path
    }
}
