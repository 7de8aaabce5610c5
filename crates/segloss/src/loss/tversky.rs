//! Tversky and focal Tversky losses.

use super::kernel::driver::{self, PixelSpec, Plan};
use super::region::{
    RegionOptions, RegionSpec, ScoreKind, Transform, class_weight_setter, region_setters,
};
use super::{Loss, Targets, params};
use crate::error::Result;
use crate::shape::Shape;

const OP: &str = "tversky loss";

/// Settings of [`Tversky`]; validated by [`TverskyConfig::init`].
///
/// Defaults: `alpha = beta = 0.5` (the Dice score), `gamma = 1` (plain Tversky), and the
/// Dice-type defaults of [`crate::loss::DiceConfig`] (sigmoid, `smooth_nr = smooth_dr =
/// 1e-5`, `eps = 1e-7`, per image, background included, `Mean`).
#[derive(Debug, Clone, PartialEq)]
pub struct TverskyConfig {
    pub(crate) region: RegionOptions,
    alpha: f64,
    beta: f64,
    gamma: f64,
}

impl Default for TverskyConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TverskyConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            region: RegionOptions::default(),
            alpha: 0.5,
            beta: 0.5,
            gamma: 1.0,
        }
    }

    region_setters!();
    class_weight_setter!();

    /// `α ≥ 0`, the weight of false positives `Σ p (1 − t)`.
    pub fn with_alpha(mut self, a: f64) -> Self {
        self.alpha = a;
        self
    }

    /// `β ≥ 0`, the weight of false negatives `Σ (1 − p) t`.
    pub fn with_beta(mut self, b: f64) -> Self {
        self.beta = b;
        self
    }

    /// `γ > 0` of the focal Tversky loss `(1 − TI)^γ` per term; `γ = 1` is plain Tversky.
    pub fn with_gamma(mut self, g: f64) -> Self {
        self.gamma = g;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a negative or non-finite `alpha`, `beta`, a
    /// `gamma ≤ 0`, or an invalid shared setting (see [`crate::loss::DiceConfig::init`]).
    pub fn init(&self) -> Result<Tversky> {
        self.region.check()?;
        params::non_negative("alpha", self.alpha)?;
        params::non_negative("beta", self.beta)?;
        params::positive("gamma", self.gamma)?;
        let transform = if self.gamma == 1.0 {
            Transform::OneMinus
        } else {
            Transform::Power(self.gamma)
        };
        Ok(Tversky {
            spec: self.region.spec(
                ScoreKind::Tversky {
                    alpha: self.alpha,
                    beta: self.beta,
                },
                transform,
                false,
            ),
            region: self.region.clone(),
            class_vectors: self.region.class_vectors(),
            none: PixelSpec::None,
        })
    }
}

/// Tversky loss (Salehi et al. 2017) and focal Tversky loss (Abraham & Khan 2019) from
/// logits. Per term, with `I = Σ p t`, `FP = Σ p (1 − t)`, `FN = Σ (1 − p) t`:
///
/// `TI = (I + s_nr) / max(I + α·FP + β·FN + s_dr, eps)`, loss `(1 − TI)^γ`,
///
/// averaged over the terms like [`crate::loss::Dice`]. `α` weighs false positives and `β`
/// false negatives (MONAI's and smp's convention); `β > α` favours recall. `α = β = ½` is
/// Dice with the smoothing terms doubled. Abraham & Khan write the exponent as `1/γ`; smp
/// applies `γ` after averaging the terms (the same for one term). At `TI = 1` with `γ < 1`
/// the gradient is taken as 0.
///
/// # Examples
/// ```
/// use segloss::Shape;
/// use segloss::loss::{DiceConfig, Loss, Targets, TverskyConfig};
/// let shape = Shape::new(&[1, 1, 3]).unwrap();
/// let (x, t) = ([2.0f32, -1.0, 0.5], [1.0f32, 0.0, 1.0]);
/// let tv = TverskyConfig::new().with_smooth(0.0).init().unwrap();
/// let dice = DiceConfig::new().with_smooth(0.0).init().unwrap();
/// let a = tv.forward(&x, Targets::Dense(&t), &shape, None).unwrap();
/// let b = dice.forward(&x, Targets::Dense(&t), &shape, None).unwrap();
/// assert!((a - b).abs() < 1e-7);
/// ```
#[derive(Debug, Clone)]
pub struct Tversky {
    spec: RegionSpec,
    region: RegionOptions,
    class_vectors: Vec<(&'static str, usize)>,
    none: PixelSpec,
}

impl Loss for Tversky {
    fn name(&self) -> &'static str {
        "tversky"
    }

    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        grad: Option<&mut [f32]>,
    ) -> Result<f64> {
        let plan = Plan {
            op: OP,
            activation: self.region.activation,
            pixel: &self.none,
            pixel_weight: 0.0,
            pixel_reduction: self.region.reduction,
            region: Some((&self.spec, 1.0)),
            ignore: self.region.ignore_index,
            class_vectors: &self.class_vectors,
        };
        driver::run(&plan, logits, targets, shape, grad)
    }
}
