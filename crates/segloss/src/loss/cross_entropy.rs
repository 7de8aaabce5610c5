//! Softmax cross-entropy with class weights, an ignore label and label smoothing.

use super::kernel::driver::{self, PixelSpec, Plan, check_class_len};
use super::kernel::softmax::SoftmaxPixel;
use super::{Activation, Loss, Reduction, Targets, params};
use crate::error::Result;
use crate::shape::Shape;

const OP: &str = "cross-entropy loss";

/// Settings of [`CrossEntropy`]; validated by [`CrossEntropyConfig::init`].
///
/// Defaults (PyTorch's): no class weights, no ignore label, `label_smoothing = 0`,
/// `reduction = Mean`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrossEntropyConfig {
    class_weights: Option<Vec<f32>>,
    ignore_index: Option<i64>,
    label_smoothing: f32,
    reduction: Reduction,
}

impl CrossEntropyConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// One weight `w_c ≥ 0` per class (PyTorch's `weight`).
    pub fn with_class_weights(mut self, w: Vec<f32>) -> Self {
        self.class_weights = Some(w);
        self
    }

    /// Pixels with this label add nothing, get zero gradient and are left out of the mean
    /// (PyTorch's `ignore_index`; e.g. `255` or `-100`).
    pub fn with_ignore_index(mut self, i: i64) -> Self {
        self.ignore_index = Some(i);
        self
    }

    /// Label smoothing `ε ∈ [0, 1]`, PyTorch's convention: the target distribution is
    /// `(1 − ε)·onehot(y) + ε/C`, weighted as described on [`CrossEntropy`].
    pub fn with_label_smoothing(mut self, eps: f32) -> Self {
        self.label_smoothing = eps;
        self
    }

    /// How pixel losses are reduced.
    pub fn with_reduction(mut self, r: Reduction) -> Self {
        self.reduction = r;
        self
    }

    pub(crate) fn set_ignore(mut self, ignore: Option<i64>) -> Self {
        self.ignore_index = ignore;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for invalid class weights (empty, negative,
    /// non-finite, all zero) or a smoothing outside `[0, 1]`.
    pub fn init(&self) -> Result<CrossEntropy> {
        if let Some(w) = &self.class_weights {
            params::weights("class_weights", w)?;
        }
        params::unit("label_smoothing", self.label_smoothing as f64)?;
        Ok(CrossEntropy {
            config: self.clone(),
            class_vectors: vec![(
                "number of class weights",
                self.class_weights.as_ref().map_or(1, Vec::len),
            )],
        })
    }
}

/// Softmax cross-entropy over the channel axis, with class-index targets (`N×S`), following
/// PyTorch's `F.cross_entropy` exactly:
///
/// `ℓ_i = (1 − ε) w_{y_i} (−ln p_{i,y_i}) + (ε/C) Σ_c w_c (−ln p_{i,c})`,
///
/// `Mean` = `Σ_i ℓ_i / Σ_i w_{y_i}` over non-ignored pixels (PyTorch's weighted mean, also
/// for the smoothing term), `Sum` = `Σ_i ℓ_i`. Gradient: `∂ℓ_i/∂x_c = p_c Q_i − q_{i,c}`
/// with `q` the weighted smoothed target and `Q = Σ_c q_{i,c}`. `ln p` is computed as
/// `x − max − ln Σ e^{x − max}`, stable for any finite logits. If every pixel is ignored
/// the loss is 0 with zero gradient (PyTorch returns NaN). Sums are accumulated in `f64`.
///
/// # Examples
/// ```
/// use segloss::Shape;
/// use segloss::loss::{CrossEntropyConfig, Loss, Targets};
/// let ce = CrossEntropyConfig::new().with_ignore_index(255).init().unwrap();
/// let shape = Shape::new(&[1, 2, 2]).unwrap();
/// // Pixel 0 has label 1 at equal logits (ln 2); pixel 1 is ignored.
/// let mut grad = [0.0f32; 4];
/// let loss = ce
///     .forward(&[0.0, 5.0, 0.0, -3.0], Targets::U8(&[1, 255]), &shape, Some(&mut grad))
///     .unwrap();
/// assert!((loss - 2f64.ln()).abs() < 1e-6);
/// assert_eq!(grad, [0.5, 0.0, -0.5, 0.0]);
/// ```
#[derive(Debug, Clone)]
pub struct CrossEntropy {
    config: CrossEntropyConfig,
    class_vectors: Vec<(&'static str, usize)>,
}

impl CrossEntropy {
    pub(crate) fn spec(&self, classes: usize) -> Result<PixelSpec> {
        let (what, len) = self.class_vectors[0];
        check_class_len(OP, what, len, classes)?;
        let weights: Vec<f32> = (0..classes)
            .map(|c| {
                self.config
                    .class_weights
                    .as_ref()
                    .map_or(1.0, |w| w[c.min(w.len() - 1)])
            })
            .collect();
        let wsum = weights.iter().sum();
        Ok(PixelSpec::Softmax(SoftmaxPixel::Ce {
            weights,
            wsum,
            smoothing: self.config.label_smoothing,
        }))
    }

    pub(crate) fn class_vectors(&self) -> &[(&'static str, usize)] {
        &self.class_vectors
    }

    pub(crate) fn reduction(&self) -> Reduction {
        self.config.reduction
    }

    fn with_plan<R>(&self, classes: usize, f: impl FnOnce(&Plan<'_>) -> Result<R>) -> Result<R> {
        let spec = self.spec(classes)?;
        f(&Plan {
            op: OP,
            activation: Activation::Softmax,
            pixel: &spec,
            pixel_weight: 1.0,
            pixel_reduction: self.config.reduction,
            region: None,
            ignore: self.config.ignore_index,
            class_vectors: &self.class_vectors,
        })
    }

    /// The unreduced loss (PyTorch's `reduction='none'`): writes `ℓ_i` of every pixel into
    /// `out` (`N·S` values, 0 for ignored pixels).
    ///
    /// # Errors
    /// As [`Loss::forward`], and [`crate::Error::LengthMismatch`] for an `out` of the wrong
    /// length. On error `out` is untouched.
    pub fn map(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        out: &mut [f32],
    ) -> Result<()> {
        self.with_plan(shape.channels(), |p| {
            driver::map(p, logits, targets, shape, out)
        })
    }
}

impl Loss for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross_entropy"
    }

    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        grad: Option<&mut [f32]>,
    ) -> Result<f64> {
        self.with_plan(shape.channels(), |p| {
            driver::run(p, logits, targets, shape, grad)
        })
    }
}
