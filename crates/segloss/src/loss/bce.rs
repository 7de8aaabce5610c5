//! Binary cross-entropy with logits.

use super::kernel::driver::{self, PixelSpec, Plan};
use super::kernel::sigmoid::BceTerm;
use super::{Activation, Loss, Reduction, Targets, params};
use crate::error::Result;
use crate::shape::Shape;

const OP: &str = "bce loss";

/// Settings of [`Bce`]; validated by [`BceConfig::init`].
///
/// Defaults: `pos_weight = 1` (all channels), `label_smoothing = 0`,
/// `reduction = Mean`.
#[derive(Debug, Clone, PartialEq)]
pub struct BceConfig {
    pos_weight: Vec<f32>,
    label_smoothing: f32,
    reduction: Reduction,
}

impl Default for BceConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl BceConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            pos_weight: vec![1.0],
            label_smoothing: 0.0,
            reduction: Reduction::Mean,
        }
    }

    /// Weight `w₊` of the positive term for every channel (PyTorch's scalar `pos_weight`).
    pub fn with_pos_weight(mut self, w: f32) -> Self {
        self.pos_weight = vec![w];
        self
    }

    /// One positive weight per channel (PyTorch's `pos_weight` of shape `[C]`); the length
    /// is checked against `C` at each call.
    pub fn with_class_pos_weights(mut self, w: Vec<f32>) -> Self {
        self.pos_weight = w;
        self
    }

    /// Label smoothing `ε ∈ [0, 1]`: targets become `t(1 − ε) + ε/2` (Keras' convention;
    /// PyTorch's BCE has no smoothing).
    pub fn with_label_smoothing(mut self, eps: f32) -> Self {
        self.label_smoothing = eps;
        self
    }

    /// How the element losses are reduced.
    pub fn with_reduction(mut self, r: Reduction) -> Self {
        self.reduction = r;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a `pos_weight` that is empty, negative,
    /// non-finite or all zero, or a smoothing outside `[0, 1]`.
    pub fn init(&self) -> Result<Bce> {
        params::weights("pos_weight", &self.pos_weight)?;
        params::unit("label_smoothing", self.label_smoothing as f64)?;
        Ok(Bce {
            spec: PixelSpec::Bce(BceTerm {
                pos_weight: self.pos_weight.clone(),
                smoothing: self.label_smoothing,
            }),
            class_vectors: vec![("number of pos_weight values", self.pos_weight.len())],
            reduction: self.reduction,
        })
    }
}

/// Binary cross-entropy from logits, element-wise over `N×C×S` with dense targets:
///
/// `ℓ = w₊ t · softplus(−x) + (1 − t) · softplus(x)`, i.e. `−w₊ t ln σ(x) − (1 − t) ln(1 − σ(x))`,
///
/// computed as `softplus(±x) = max(±x, 0) + ln(1 + e^{−|x|})`, exact for `|x|` up to
/// `f32::MAX` (never `ln σ(x)`, which overflows). Gradient: `∂ℓ/∂x = (1 − t) σ(x) − w₊ t σ(−x)`.
/// `Mean` divides by `N·C·S`. Sums are accumulated in `f64`.
///
/// # Examples
/// ```
/// use segloss::Shape;
/// use segloss::loss::{BceConfig, Loss, Targets};
/// let bce = BceConfig::new().init().unwrap();
/// let shape = Shape::new(&[1, 1, 2]).unwrap();
/// let mut grad = [0.0f32; 2];
/// // The notes' worked numbers: a building pixel at q = 0.45 costs −ln 0.45,
/// // a background pixel at q = 0.7 costs −ln 0.3.
/// let logit = |q: f32| (q / (1.0 - q)).ln();
/// let loss = bce
///     .forward(&[logit(0.45), logit(0.7)], Targets::Dense(&[1.0, 0.0]), &shape, Some(&mut grad))
///     .unwrap();
/// assert!((loss - (0.7985 + 1.2040) / 2.0).abs() < 1e-4);
/// assert!((grad[0] - (0.45 - 1.0) / 2.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct Bce {
    spec: PixelSpec,
    class_vectors: Vec<(&'static str, usize)>,
    reduction: Reduction,
}

impl Bce {
    pub(crate) fn parts(&self) -> (&PixelSpec, Reduction, &[(&'static str, usize)]) {
        (&self.spec, self.reduction, &self.class_vectors)
    }

    fn plan(&self) -> Plan<'_> {
        Plan {
            op: OP,
            activation: Activation::Sigmoid,
            pixel: &self.spec,
            pixel_weight: 1.0,
            pixel_reduction: self.reduction,
            region: None,
            ignore: None,
            class_vectors: &self.class_vectors,
        }
    }

    /// The unreduced loss (PyTorch's `reduction='none'`): writes `ℓ` of every element into
    /// `out` (`N·C·S` values).
    ///
    /// # Errors
    /// As [`Loss::forward`], and [`crate::Error::LengthMismatch`] if `out` does not have
    /// `N·C·S` elements. On error `out` is untouched.
    pub fn map(
        &self,
        logits: &[f32],
        targets: &[f32],
        shape: &Shape,
        out: &mut [f32],
    ) -> Result<()> {
        driver::map(&self.plan(), logits, Targets::Dense(targets), shape, out)
    }
}

impl Loss for Bce {
    fn name(&self) -> &'static str {
        "bce"
    }

    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        grad: Option<&mut [f32]>,
    ) -> Result<f64> {
        driver::run(&self.plan(), logits, targets, shape, grad)
    }
}
