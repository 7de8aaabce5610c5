//! Softmax cross-entropy as a burn loss.

use burn::config::Config;
use segloss::loss as sl;

use super::{
    Activation, BurnLoss, Reduction, TargetKind, class_vec, impl_forward, impl_forward_elementwise,
    pixel_plan,
};
use crate::composed::{ComposedPlan, PixelTerm};
use crate::error::Result;
use crate::path::ExecPath;

/// Settings of [`CrossEntropyLoss`]; `init()` validates them.
///
/// Defaults (PyTorch's `F.cross_entropy`): no class weights, no ignore label,
/// `label_smoothing = 0`, `reduction = Mean`, `path = Auto`.
#[derive(Config, Debug)]
pub struct CrossEntropyLossConfig {
    /// One weight `w_c ≥ 0` per class. Default none (all 1).
    pub class_weights: Option<Vec<f32>>,
    /// Pixels with this label add nothing and are left out of the mean. Default none.
    pub ignore_index: Option<i64>,
    /// Label smoothing `ε ∈ [0, 1]` (PyTorch's convention). Default 0.
    #[config(default = 0.0)]
    pub label_smoothing: f32,
    /// PyTorch's weighted mean `Σℓ / Σw_y`, or the sum. Default mean.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// Fused or composed implementation. Default auto.
    #[config(default = "ExecPath::Auto")]
    pub path: ExecPath,
}

impl CrossEntropyLossConfig {
    /// Validates the settings (the core's rules) into the loss.
    ///
    /// # Errors
    /// [`segloss::Error::InvalidParameter`] (wrapped) for invalid class weights or a
    /// smoothing outside `[0, 1]`.
    pub fn init(&self) -> Result<CrossEntropyLoss> {
        let mut c = sl::CrossEntropyConfig::new()
            .with_label_smoothing(self.label_smoothing)
            .with_reduction(self.reduction.into());
        if let Some(w) = &self.class_weights {
            c = c.with_class_weights(w.clone());
        }
        if let Some(i) = self.ignore_index {
            c = c.with_ignore_index(i);
        }
        Ok(CrossEntropyLoss {
            core: c.init()?,
            config: self.clone(),
        })
    }
}

/// Softmax cross-entropy over the channel axis with class-index targets, PyTorch's
/// conventions (class weights, ignore label, label smoothing); see
/// [`segloss::loss::CrossEntropy`]. If every pixel is ignored the loss is 0 with zero gradient.
///
/// # Examples
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use segloss_burn::loss::CrossEntropyLossConfig;
/// let device = Device::flex();
/// let loss = CrossEntropyLossConfig::new().with_ignore_index(Some(255)).init().unwrap();
/// // One image, 2 classes, 2 pixels; pixel 1 is ignored. Pixel 0: equal logits, ln 2.
/// let x = Tensor::<3>::from_floats([[[0.0f32, 5.0], [0.0, -3.0]]], &device);
/// let y = Tensor::<2, Int>::from_ints([[1, 255]], &device);
/// let v: f32 = loss.forward(x, y).unwrap().into_scalar();
/// assert!((v - std::f32::consts::LN_2).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct CrossEntropyLoss {
    core: sl::CrossEntropy,
    config: CrossEntropyLossConfig,
}

impl_forward!(CrossEntropyLoss);
impl_forward_elementwise!(CrossEntropyLoss);

impl BurnLoss for CrossEntropyLoss {
    fn name(&self) -> &'static str {
        "ce"
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Index
    }

    fn core(&self) -> &dyn sl::Loss {
        &self.core
    }

    fn composed_plan(&self, classes: usize) -> Result<ComposedPlan> {
        let weights = class_vec(
            "cross-entropy loss",
            "number of class weights",
            self.config.class_weights.as_deref(),
            classes,
        )?;
        Ok(pixel_plan(
            Activation::Softmax,
            PixelTerm::SoftmaxCe {
                weights,
                smoothing: f64::from(self.config.label_smoothing),
            },
            self.config.reduction,
            self.config.ignore_index,
        ))
    }

    fn path(&self) -> ExecPath {
        self.config.path
    }
}
