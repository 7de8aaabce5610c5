//! Focal loss (Lin et al. 2017), sigmoid and softmax forms.

use super::kernel::driver::{self, PixelSpec, Plan, check_class_len};
use super::kernel::sigmoid::FocalTerm;
use super::kernel::softmax::SoftmaxPixel;
use super::{Activation, Loss, Reduction, Targets, params};
use crate::error::{Error, Result};
use crate::shape::Shape;

const OP: &str = "focal loss";

/// The class-balance factor `α` of the focal loss.
///
/// # Examples
/// ```
/// use segloss::loss::FocalAlpha;
/// assert_eq!(FocalAlpha::default(), FocalAlpha::Balanced(0.25));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum FocalAlpha {
    /// No balancing: `α_t = 1`.
    None,
    /// Lin et al. 2017 and every major library. Sigmoid: positives weighted `α`, negatives
    /// `1 − α` (torchvision's `alpha`). Softmax: class 0 (background) weighted `1 − α`,
    /// every other class `α` (MONAI's `alpha` with `use_softmax=True`).
    Balanced(f32),
    /// One `α_c` per channel. Sigmoid: positives of channel `c` weighted `α_c`, negatives
    /// `1 − α_c`. Softmax: pixels of class `c` weighted `α_c`.
    PerClass(Vec<f32>),
    /// The source notes' variant, sigmoid only: `α` on *both* terms,
    /// `−α (1−q)^γ ln q` (positive) and `−α q^γ ln(1−q)` (negative). Not Lin et al.'s
    /// loss; offered only to reproduce the notes.
    NotesVariant(f32),
}

impl Default for FocalAlpha {
    fn default() -> Self {
        FocalAlpha::Balanced(0.25)
    }
}

/// Settings of [`Focal`]; validated by [`FocalConfig::init`].
///
/// Defaults (the paper's): `gamma = 2`, `alpha = Balanced(0.25)`, `activation = Sigmoid`,
/// no class weights, no ignore label, `reduction = Mean`.
#[derive(Debug, Clone, PartialEq)]
pub struct FocalConfig {
    gamma: f32,
    alpha: FocalAlpha,
    activation: Activation,
    class_weights: Option<Vec<f32>>,
    ignore_index: Option<i64>,
    reduction: Reduction,
}

impl Default for FocalConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl FocalConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            gamma: 2.0,
            alpha: FocalAlpha::default(),
            activation: Activation::Sigmoid,
            class_weights: None,
            ignore_index: None,
            reduction: Reduction::Mean,
        }
    }

    /// Focusing exponent `γ ≥ 0`; `γ = 0` gives (α-balanced) cross-entropy.
    pub fn with_gamma(mut self, gamma: f32) -> Self {
        self.gamma = gamma;
        self
    }

    /// Class balance, see [`FocalAlpha`].
    pub fn with_alpha(mut self, alpha: FocalAlpha) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sigmoid (binary, multi-label; dense targets) or softmax (multi-class; index targets).
    pub fn with_activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }

    /// A weight per channel multiplying each element's (sigmoid) or pixel's (softmax, by its
    /// label) loss; the mean still divides by the element or pixel count.
    pub fn with_class_weights(mut self, w: Vec<f32>) -> Self {
        self.class_weights = Some(w);
        self
    }

    /// Softmax only: pixels with this label add nothing and get zero gradient, and the mean
    /// counts only the other pixels.
    pub fn with_ignore_index(mut self, i: i64) -> Self {
        self.ignore_index = Some(i);
        self
    }

    /// How the element (sigmoid) or pixel (softmax) losses are reduced.
    pub fn with_reduction(mut self, r: Reduction) -> Self {
        self.reduction = r;
        self
    }

    /// Imposes a combined loss's shared activation and ignore label.
    pub(crate) fn set_shared(mut self, a: Activation, ignore: Option<i64>) -> Self {
        self.activation = a;
        self.ignore_index = if a == Activation::Softmax {
            ignore
        } else {
            None
        };
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite `gamma`, an `alpha` outside
    /// `[0, 1]`, invalid class weights, per-class vectors of different lengths,
    /// [`FocalAlpha::NotesVariant`] with softmax, or an ignore label with sigmoid.
    pub fn init(&self) -> Result<Focal> {
        params::non_negative("gamma", self.gamma as f64)?;
        match &self.alpha {
            FocalAlpha::None => {}
            FocalAlpha::Balanced(a) | FocalAlpha::NotesVariant(a) => {
                params::unit("alpha", *a as f64)?
            }
            FocalAlpha::PerClass(v) => params::unit_vector("alpha", v)?,
        }
        if let Some(w) = &self.class_weights {
            params::weights("class_weights", w)?;
        }
        let alpha_len = match &self.alpha {
            FocalAlpha::PerClass(v) => v.len(),
            _ => 1,
        };
        let w_len = self.class_weights.as_ref().map_or(1, Vec::len);
        if alpha_len != 1 && w_len != 1 && alpha_len != w_len {
            return Err(Error::InvalidParameter {
                name: "class_weights",
                value: format!("{w_len} values"),
                rule: "must have as many entries as the per-class alpha",
            });
        }
        if self.activation == Activation::Softmax {
            if let FocalAlpha::NotesVariant(_) = self.alpha {
                return Err(Error::InvalidParameter {
                    name: "alpha",
                    value: format!("{:?}", self.alpha),
                    rule: "the notes' variant applies to the sigmoid focal loss only",
                });
            }
        } else if let Some(i) = self.ignore_index {
            return Err(Error::InvalidParameter {
                name: "ignore_index",
                value: i.to_string(),
                rule: "applies to softmax (class-index targets) only",
            });
        }
        let len = alpha_len.max(w_len);
        let sigmoid = (self.activation == Activation::Sigmoid).then(|| {
            let alpha = (0..len)
                .map(|c| {
                    let cw = self
                        .class_weights
                        .as_ref()
                        .map_or(1.0, |w| w[c.min(w.len() - 1)]);
                    let (ap, an) = match &self.alpha {
                        FocalAlpha::None => (1.0, 1.0),
                        FocalAlpha::Balanced(a) => (*a, 1.0 - *a),
                        FocalAlpha::NotesVariant(a) => (*a, *a),
                        FocalAlpha::PerClass(v) => (v[c], 1.0 - v[c]),
                    };
                    (ap * cw, an * cw)
                })
                .collect();
            PixelSpec::Focal(FocalTerm {
                gamma: self.gamma,
                alpha,
            })
        });
        Ok(Focal {
            config: self.clone(),
            sigmoid,
            class_vectors: vec![("number of focal alpha / class weight values", len)],
        })
    }
}

/// Focal loss from logits: down-weights easy, well-classified elements so training focuses
/// on hard ones.
///
/// **Sigmoid** (dense targets `t ∈ [0, 1]`, element-wise over `N×C×S`), torchvision's
/// definition, which also covers soft targets:
///
/// `ℓ = α_t (1 − p_t)^γ BCE(x, t)`, with `p = σ(x)`, `p_t = p t + (1 − p)(1 − t)`,
/// `α_t = α t + (1 − α)(1 − t)`.
///
/// **Softmax** (class-index targets, per pixel over `N×S`): `ℓ = −α_y w_y (1 − p_y)^γ ln p_y`.
/// MONAI's `FocalLoss(use_softmax=True)` sums the same per-class terms over the one-hot
/// target and then averages over `N·C·S`, so it equals this loss divided by `C`.
///
/// The modulating factor is computed in log space (`(1 − p_t)^γ = exp(γ ln(1 − p_t))` with
/// `ln(1 − p_t)` exact, e.g. `−softplus(x)` for a positive), and its gradient in a form
/// bounded as `p_t → 1`, so `γ < 1` never yields NaN or infinity; integer `γ ≤ 4` uses
/// multiplications only. `Mean` divides by `N·C·S` (sigmoid) or by the number of
/// non-ignored pixels (softmax; 0 if every pixel is ignored). Sums are accumulated in `f64`.
///
/// # Examples
/// ```
/// use segloss::Shape;
/// use segloss::loss::{BceConfig, FocalAlpha, FocalConfig, Loss, Targets};
/// let shape = Shape::new(&[1, 1, 2]).unwrap();
/// let (x, t) = ([0.3f32, -1.2], [1.0f32, 0.0]);
/// // γ = 0 without α is plain BCE.
/// let focal = FocalConfig::new().with_gamma(0.0).with_alpha(FocalAlpha::None).init().unwrap();
/// let bce = BceConfig::new().init().unwrap();
/// let a = focal.forward(&x, Targets::Dense(&t), &shape, None).unwrap();
/// let b = bce.forward(&x, Targets::Dense(&t), &shape, None).unwrap();
/// assert!((a - b).abs() < 1e-7);
/// // The paper's defaults shrink the loss of these fairly easy elements a lot.
/// let paper = FocalConfig::new().init().unwrap();
/// assert!(paper.forward(&x, Targets::Dense(&t), &shape, None).unwrap() < 0.1 * b);
/// ```
#[derive(Debug, Clone)]
pub struct Focal {
    config: FocalConfig,
    sigmoid: Option<PixelSpec>,
    class_vectors: Vec<(&'static str, usize)>,
}

impl Focal {
    /// The pixel term; for softmax it depends on `C`.
    fn with_plan<R>(&self, classes: usize, f: impl FnOnce(&Plan<'_>) -> Result<R>) -> Result<R> {
        let built;
        let spec = match &self.sigmoid {
            Some(s) => s,
            None => {
                built = self.softmax_spec(classes)?;
                &built
            }
        };
        f(&Plan {
            op: OP,
            activation: self.config.activation,
            pixel: spec,
            pixel_weight: 1.0,
            pixel_reduction: self.config.reduction,
            region: None,
            ignore: self.config.ignore_index,
            class_vectors: &self.class_vectors,
        })
    }

    pub(crate) fn softmax_spec(&self, classes: usize) -> Result<PixelSpec> {
        let c = &self.config;
        check_class_len(
            OP,
            self.class_vectors[0].0,
            self.class_vectors[0].1,
            classes,
        )?;
        let weights = (0..classes)
            .map(|k| {
                let a = match &c.alpha {
                    FocalAlpha::None | FocalAlpha::NotesVariant(_) => 1.0,
                    FocalAlpha::Balanced(a) => {
                        if k == 0 {
                            1.0 - *a
                        } else {
                            *a
                        }
                    }
                    FocalAlpha::PerClass(v) => v[k.min(v.len() - 1)],
                };
                let w = c
                    .class_weights
                    .as_ref()
                    .map_or(1.0, |w| w[k.min(w.len() - 1)]);
                a * w
            })
            .collect();
        Ok(PixelSpec::Softmax(SoftmaxPixel::Focal {
            gamma: c.gamma,
            weights,
        }))
    }

    pub(crate) fn sigmoid_spec(&self) -> Option<&PixelSpec> {
        self.sigmoid.as_ref()
    }

    pub(crate) fn class_vectors(&self) -> &[(&'static str, usize)] {
        &self.class_vectors
    }

    pub(crate) fn reduction(&self) -> Reduction {
        self.config.reduction
    }

    /// The unreduced loss: sigmoid writes `ℓ` of every element (`N·C·S` values), softmax
    /// the loss of every pixel (`N·S` values, 0 for ignored pixels).
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

impl Loss for Focal {
    fn name(&self) -> &'static str {
        "focal"
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
