//! Dice + cross-entropy and Dice + focal, fused into one two-pass kernel.

use super::kernel::driver::{self, PixelSpec, Plan};
use super::region::RegionSpec;
use super::{
    Activation, BceConfig, CrossEntropy, CrossEntropyConfig, DiceConfig, Focal, FocalConfig, Loss,
    Reduction, Targets, params,
};
use crate::error::Result;
use crate::shape::Shape;

/// Where a combined loss's pixel term comes from.
#[derive(Debug, Clone)]
enum PixelSource {
    Fixed(PixelSpec),
    Ce(CrossEntropy),
    Focal(Focal),
}

/// The shared engine of the combined losses.
#[derive(Debug, Clone)]
struct Combined {
    op: &'static str,
    activation: Activation,
    ignore: Option<i64>,
    dice: RegionSpec,
    lambda_dice: f64,
    pixel: PixelSource,
    lambda_pixel: f64,
    pixel_reduction: Reduction,
    class_vectors: Vec<(&'static str, usize)>,
}

impl Combined {
    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        grad: Option<&mut [f32]>,
    ) -> Result<f64> {
        let built;
        let pixel = match &self.pixel {
            PixelSource::Fixed(p) => p,
            PixelSource::Ce(ce) => {
                built = ce.spec(shape.channels())?;
                &built
            }
            PixelSource::Focal(f) => match f.sigmoid_spec() {
                Some(p) => p,
                None => {
                    built = f.softmax_spec(shape.channels())?;
                    &built
                }
            },
        };
        let plan = Plan {
            op: self.op,
            activation: self.activation,
            pixel,
            pixel_weight: self.lambda_pixel,
            pixel_reduction: self.pixel_reduction,
            region: Some((&self.dice, self.lambda_dice)),
            ignore: self.ignore,
            class_vectors: &self.class_vectors,
        };
        driver::run(&plan, logits, targets, shape, grad)
    }
}

fn shared_dice(dice: &DiceConfig, a: Activation, ignore: Option<i64>) -> DiceConfig {
    let mut d = dice.clone();
    d.region.activation = a;
    d.region.ignore_index = if a == Activation::Softmax {
        ignore
    } else {
        None
    };
    d
}

/// Settings of [`DiceCe`]; validated by [`DiceCeConfig::init`].
///
/// Defaults: sigmoid, no ignore label, [`DiceConfig::new`], [`BceConfig::new`],
/// [`CrossEntropyConfig::new`], `lambda_dice = lambda_ce = 1` (MONAI's `DiceCELoss`).
#[derive(Debug, Clone, PartialEq)]
pub struct DiceCeConfig {
    activation: Activation,
    ignore_index: Option<i64>,
    dice: DiceConfig,
    bce: BceConfig,
    ce: CrossEntropyConfig,
    lambda_dice: f64,
    lambda_ce: f64,
}

impl Default for DiceCeConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl DiceCeConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            activation: Activation::Sigmoid,
            ignore_index: None,
            dice: DiceConfig::new(),
            bce: BceConfig::new(),
            ce: CrossEntropyConfig::new(),
            lambda_dice: 1.0,
            lambda_ce: 1.0,
        }
    }

    /// The one activation of both parts: sigmoid pairs Dice with BCE (dense targets),
    /// softmax pairs it with cross-entropy (index targets). Overrides the parts' settings.
    pub fn with_activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }

    /// Softmax only: the ignore label of both parts. Overrides the parts' settings.
    pub fn with_ignore_index(mut self, i: i64) -> Self {
        self.ignore_index = Some(i);
        self
    }

    /// The Dice part (its activation and ignore label are replaced by the shared ones).
    pub fn with_dice(mut self, d: DiceConfig) -> Self {
        self.dice = d;
        self
    }

    /// The BCE part, used with sigmoid.
    pub fn with_bce(mut self, b: BceConfig) -> Self {
        self.bce = b;
        self
    }

    /// The cross-entropy part, used with softmax (its ignore label is replaced).
    pub fn with_ce(mut self, c: CrossEntropyConfig) -> Self {
        self.ce = c;
        self
    }

    /// Weight `λ_dice ≥ 0` of the Dice part.
    pub fn with_lambda_dice(mut self, l: f64) -> Self {
        self.lambda_dice = l;
        self
    }

    /// Weight `λ_ce ≥ 0` of the cross-entropy part.
    pub fn with_lambda_ce(mut self, l: f64) -> Self {
        self.lambda_ce = l;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a negative or non-finite `λ`, or any error of
    /// the parts' `init()`.
    pub fn init(&self) -> Result<DiceCe> {
        params::non_negative("lambda_dice", self.lambda_dice)?;
        params::non_negative("lambda_ce", self.lambda_ce)?;
        let dice = shared_dice(&self.dice, self.activation, self.ignore_index);
        let d = dice.init()?;
        let mut class_vectors = dice.region.class_vectors();
        let (pixel, pixel_reduction) = match self.activation {
            Activation::Sigmoid => {
                let b = self.bce.init()?;
                let (spec, red, cv) = b.parts();
                class_vectors.extend_from_slice(cv);
                (PixelSource::Fixed(spec.clone()), red)
            }
            Activation::Softmax => {
                let ce = self.ce.clone().set_ignore(self.ignore_index).init()?;
                class_vectors.extend_from_slice(ce.class_vectors());
                let red = ce.reduction();
                (PixelSource::Ce(ce), red)
            }
        };
        drop(d);
        Ok(DiceCe(Combined {
            op: "dice + cross-entropy loss",
            activation: self.activation,
            ignore: dice.region.ignore_index,
            dice: dice.spec(),
            lambda_dice: self.lambda_dice,
            pixel,
            lambda_pixel: self.lambda_ce,
            pixel_reduction,
            class_vectors,
        }))
    }
}

/// `λ_dice · Dice + λ_ce · CE`: soft Dice plus binary cross-entropy (sigmoid) or softmax
/// cross-entropy, with one shared activation, in one fused two-pass kernel (the first pass
/// accumulates the Dice sums and the cross-entropy, the second writes the summed gradient).
///
/// Each part is exactly the standalone loss ([`crate::loss::Dice`], [`crate::loss::Bce`] /
/// [`crate::loss::CrossEntropy`]). MONAI's `DiceCELoss(sigmoid=True)` with one channel is
/// this loss with the defaults.
///
/// # Examples
/// ```
/// use segloss::Shape;
/// use segloss::loss::{BceConfig, DiceCeConfig, DiceConfig, Loss, Targets};
/// let shape = Shape::new(&[1, 1, 3]).unwrap();
/// let (x, t) = ([1.5f32, -0.5, 0.2], [1.0f32, 0.0, 1.0]);
/// let both = DiceCeConfig::new().with_lambda_ce(0.5).init().unwrap();
/// let d = DiceConfig::new().init().unwrap().forward(&x, Targets::Dense(&t), &shape, None).unwrap();
/// let b = BceConfig::new().init().unwrap().forward(&x, Targets::Dense(&t), &shape, None).unwrap();
/// let v = both.forward(&x, Targets::Dense(&t), &shape, None).unwrap();
/// assert!((v - (d + 0.5 * b)).abs() < 1e-7);
/// ```
#[derive(Debug, Clone)]
pub struct DiceCe(Combined);

impl Loss for DiceCe {
    fn name(&self) -> &'static str {
        "dice_ce"
    }

    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        grad: Option<&mut [f32]>,
    ) -> Result<f64> {
        self.0.forward(logits, targets, shape, grad)
    }
}

/// Settings of [`DiceFocal`]; validated by [`DiceFocalConfig::init`].
///
/// Defaults: sigmoid, no ignore label, [`DiceConfig::new`], [`FocalConfig::new`],
/// `lambda_dice = lambda_focal = 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiceFocalConfig {
    activation: Activation,
    ignore_index: Option<i64>,
    dice: DiceConfig,
    focal: FocalConfig,
    lambda_dice: f64,
    lambda_focal: f64,
}

impl Default for DiceFocalConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl DiceFocalConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            activation: Activation::Sigmoid,
            ignore_index: None,
            dice: DiceConfig::new(),
            focal: FocalConfig::new(),
            lambda_dice: 1.0,
            lambda_focal: 1.0,
        }
    }

    /// The one activation of both parts (sigmoid: dense targets; softmax: index targets).
    /// Overrides the parts' settings.
    pub fn with_activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }

    /// Softmax only: the ignore label of both parts. Overrides the parts' settings.
    pub fn with_ignore_index(mut self, i: i64) -> Self {
        self.ignore_index = Some(i);
        self
    }

    /// The Dice part (its activation and ignore label are replaced by the shared ones).
    pub fn with_dice(mut self, d: DiceConfig) -> Self {
        self.dice = d;
        self
    }

    /// The focal part (its activation and ignore label are replaced by the shared ones).
    pub fn with_focal(mut self, f: FocalConfig) -> Self {
        self.focal = f;
        self
    }

    /// Weight `λ_dice ≥ 0` of the Dice part.
    pub fn with_lambda_dice(mut self, l: f64) -> Self {
        self.lambda_dice = l;
        self
    }

    /// Weight `λ_focal ≥ 0` of the focal part.
    pub fn with_lambda_focal(mut self, l: f64) -> Self {
        self.lambda_focal = l;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a negative or non-finite `λ`, or any error of
    /// the parts' `init()`.
    pub fn init(&self) -> Result<DiceFocal> {
        params::non_negative("lambda_dice", self.lambda_dice)?;
        params::non_negative("lambda_focal", self.lambda_focal)?;
        let dice = shared_dice(&self.dice, self.activation, self.ignore_index);
        dice.init()?;
        let focal = self
            .focal
            .clone()
            .set_shared(self.activation, self.ignore_index)
            .init()?;
        let mut class_vectors = dice.region.class_vectors();
        class_vectors.extend_from_slice(focal.class_vectors());
        let pixel_reduction = focal.reduction();
        Ok(DiceFocal(Combined {
            op: "dice + focal loss",
            activation: self.activation,
            ignore: dice.region.ignore_index,
            dice: dice.spec(),
            lambda_dice: self.lambda_dice,
            pixel: PixelSource::Focal(focal),
            lambda_pixel: self.lambda_focal,
            pixel_reduction,
            class_vectors,
        }))
    }
}

/// `λ_dice · Dice + λ_focal · Focal` with one shared activation, in one fused two-pass
/// kernel. Each part is exactly the standalone loss ([`crate::loss::Dice`],
/// [`crate::loss::Focal`]).
///
/// MONAI's `DiceFocalLoss(sigmoid=True, gamma, alpha, lambda_dice, lambda_focal)` is this
/// loss with `FocalAlpha::Balanced(alpha)`. MONAI's `softmax=True` pairs the softmax Dice
/// with a *sigmoid* focal term on one-hot targets, the mixed-activation trap this type
/// avoids; here softmax means the softmax focal loss of [`crate::loss::Focal`].
///
/// # Examples
/// ```
/// use segloss::Shape;
/// use segloss::loss::{Activation, DiceFocalConfig, Loss, Targets};
/// let shape = Shape::new(&[1, 3, 2]).unwrap();
/// let x = [2.0f32, -1.0, 0.0, 3.0, -2.0, 0.5];
/// let loss = DiceFocalConfig::new().with_activation(Activation::Softmax).init().unwrap();
/// let mut grad = [0.0f32; 6];
/// let v = loss.forward(&x, Targets::U8(&[0, 1]), &shape, Some(&mut grad)).unwrap();
/// assert!(v.is_finite() && v > 0.0);
/// // Softmax gradients sum to zero over the channels of each pixel.
/// assert!((grad[0] + grad[2] + grad[4]).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct DiceFocal(Combined);

impl Loss for DiceFocal {
    fn name(&self) -> &'static str {
        "dice_focal"
    }

    fn forward(
        &self,
        logits: &[f32],
        targets: Targets<'_>,
        shape: &Shape,
        grad: Option<&mut [f32]>,
    ) -> Result<f64> {
        self.0.forward(logits, targets, shape, grad)
    }
}
