//! Soft Dice loss (and its Jaccard and log forms).

use super::kernel::driver::{self, PixelSpec, Plan};
use super::region::{
    RegionOptions, RegionSpec, ScoreKind, Transform, class_weight_setter, region_setters,
};
use super::{Loss, Targets};
use crate::error::Result;
use crate::shape::Shape;

const OP: &str = "dice loss";

/// The denominator of the Dice score.
///
/// # Examples
/// ```
/// use segloss::loss::Denominator;
/// assert_eq!(Denominator::default(), Denominator::Linear);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Denominator {
    /// `Σ p + Σ t` (the notes' formula).
    #[default]
    Linear,
    /// `Σ p² + Σ t²` (Milletari et al.'s V-Net; MONAI `squared_pred=True`).
    Squared,
}

/// Dice or Jaccard (IoU) score.
///
/// # Examples
/// ```
/// use segloss::loss::DiceForm;
/// assert_eq!(DiceForm::default(), DiceForm::Dice);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiceForm {
    /// `s = (2 Σ p t + s_nr) / (D + s_dr)`, `D` the [`Denominator`].
    #[default]
    Dice,
    /// MONAI's Jaccard: `s = (2 Σ p t + s_nr) / (2 (D − Σ p t) + s_dr)`, i.e.
    /// `|X ∩ Y| / |X ∪ Y|` for `s = 0`.
    Jaccard,
}

/// How a score `s` becomes a loss.
///
/// # Examples
/// ```
/// use segloss::loss::Penalty;
/// assert_eq!(Penalty::default(), Penalty::OneMinus);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Penalty {
    /// `1 − s`.
    #[default]
    OneMinus,
    /// Log-Dice, `−ln max(s, eps)` (smp's `log_loss=True`).
    NegLog,
}

/// Settings of [`Dice`]; validated by [`DiceConfig::init`].
///
/// Defaults: sigmoid, `smooth_nr = smooth_dr = 1e-5` (MONAI's), `eps = 1e-7`,
/// [`Denominator::Linear`], [`DiceForm::Dice`], [`Penalty::OneMinus`],
/// [`crate::loss::Scope::PerImage`], background included, no class weights, no ignore
/// label, [`crate::loss::EmptyTarget::Score`], `Mean`. The notes' exact formula is
/// `DiceConfig::new().with_smooth(1e-8).with_scope(Scope::Batch)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiceConfig {
    pub(crate) region: RegionOptions,
    denominator: Denominator,
    form: DiceForm,
    penalty: Penalty,
}

impl DiceConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    region_setters!();
    class_weight_setter!();

    /// `Σ p + Σ t` or `Σ p² + Σ t²`.
    pub fn with_denominator(mut self, d: Denominator) -> Self {
        self.denominator = d;
        self
    }

    /// Dice or Jaccard score.
    pub fn with_form(mut self, f: DiceForm) -> Self {
        self.form = f;
        self
    }

    /// `1 − s` or `−ln s`.
    pub fn with_penalty(mut self, p: Penalty) -> Self {
        self.penalty = p;
        self
    }

    pub(crate) fn spec(&self) -> RegionSpec {
        let score = match self.form {
            DiceForm::Dice => ScoreKind::Dice,
            DiceForm::Jaccard => ScoreKind::Jaccard,
        };
        let transform = match self.penalty {
            Penalty::OneMinus => Transform::OneMinus,
            Penalty::NegLog => Transform::NegLog,
        };
        self.region
            .spec(score, transform, self.denominator == Denominator::Squared)
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a negative or non-finite smoothing term, an
    /// `eps ≤ 0`, invalid class weights, or an ignore label with sigmoid.
    pub fn init(&self) -> Result<Dice> {
        self.region.check()?;
        Ok(Dice {
            spec: self.spec(),
            region: self.region.clone(),
            class_vectors: self.region.class_vectors(),
            none: PixelSpec::None,
        })
    }
}

/// Soft Dice loss from logits.
///
/// Per term (an `(image, class)` pair, or a class over the batch, see
/// [`crate::loss::Scope`]), with `p` the sigmoid or softmax probabilities and `t` the
/// targets (one-hot of the labels for softmax), sums over the term's pixels:
///
/// `s = (2 Σ p t + s_nr) / max(Σ p + Σ t + s_dr, eps)`, loss `1 − s`,
///
/// with the squared denominator, Jaccard and log forms as options. The loss is the
/// (class-weighted) mean of the terms. Two passes: the first accumulates `Σ p t`, `Σ p`,
/// `Σ t` per term in `f64`, the second writes the exact gradient
/// `∂L/∂p = ∂L/∂(Σpt)·t + ∂L/∂(Σp)·(1 or 2p)` through the activation.
///
/// Library conventions: MONAI `DiceLoss` is this loss with its defaults (MONAI's `batch`
/// is [`crate::loss::Scope::Batch`]); smp's `DiceLoss` is `Scope::Batch`, `smooth = 0`,
/// `eps = 1e-7` and [`crate::loss::EmptyTarget::Zero`].
///
/// # Examples
/// ```
/// use segloss::Shape;
/// use segloss::loss::{DiceConfig, Loss, Targets};
/// let dice = DiceConfig::new().init().unwrap();
/// let shape = Shape::new(&[1, 1, 4]).unwrap();
/// let t = [1.0f32, 1.0, 0.0, 0.0];
/// // A confident, correct prediction drives the loss to 0.
/// let good = dice.forward(&[20.0, 20.0, -20.0, -20.0], Targets::Dense(&t), &shape, None).unwrap();
/// assert!(good < 1e-6);
/// // Predicting 1/2 everywhere: s = (2·1) / (2 + 2).
/// let half = dice.forward(&[0.0; 4], Targets::Dense(&t), &shape, None).unwrap();
/// assert!((half - 0.5).abs() < 1e-5);
/// ```
#[derive(Debug, Clone)]
pub struct Dice {
    spec: RegionSpec,
    region: RegionOptions,
    class_vectors: Vec<(&'static str, usize)>,
    none: PixelSpec,
}

impl Loss for Dice {
    fn name(&self) -> &'static str {
        "dice"
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
