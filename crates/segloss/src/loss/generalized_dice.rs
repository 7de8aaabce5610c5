//! Generalized Dice loss (Sudre et al. 2017).

use super::kernel::driver::{self, PixelSpec, Plan};
use super::region::{
    GeneralizedWeight, RegionOptions, RegionSpec, ScoreKind, Transform, region_setters,
};
use super::{Loss, Targets};
use crate::error::Result;
use crate::shape::Shape;

const OP: &str = "generalized dice loss";

/// Settings of [`GeneralizedDice`]; validated by [`GeneralizedDiceConfig::init`].
///
/// Defaults: [`GeneralizedWeight::Square`] and the Dice-type defaults of
/// [`crate::loss::DiceConfig`] (sigmoid, `smooth_nr = smooth_dr = 1e-5`, `eps = 1e-7`, per
/// image, background included, `Mean`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GeneralizedDiceConfig {
    pub(crate) region: RegionOptions,
    weight: GeneralizedWeight,
}

impl GeneralizedDiceConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    region_setters!();

    /// How class weights follow from the target volumes.
    pub fn with_weight(mut self, w: GeneralizedWeight) -> Self {
        self.weight = w;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// As [`crate::loss::DiceConfig::init`].
    pub fn init(&self) -> Result<GeneralizedDice> {
        self.region.check()?;
        Ok(GeneralizedDice {
            spec: self.region.spec(
                ScoreKind::Generalized(self.weight),
                Transform::OneMinus,
                false,
            ),
            region: self.region.clone(),
            none: PixelSpec::None,
        })
    }
}

/// Generalized Dice loss from logits. Per group (an image, or the batch), over its classes
/// `c` with `I_c = Σ p t`, `P_c = Σ p`, `T_c = Σ t`:
///
/// `L = 1 − (2 Σ_c w_c I_c + s_nr) / (Σ_c w_c (P_c + T_c) + s_dr)`, `w_c = 1/T_c²`
/// (or `1/T_c`, or 1),
///
/// averaged over the groups. The weights depend on the targets only (no gradient flows
/// through them). As in MONAI, a class absent from the group's target (infinite weight)
/// takes the group's largest finite weight; if all are absent the weights are 0 and
/// `L = 1 − s_nr/s_dr`.
///
/// # Examples
/// ```
/// use segloss::Shape;
/// use segloss::loss::{GeneralizedDiceConfig, Loss, Targets};
/// let gdl = GeneralizedDiceConfig::new().init().unwrap();
/// let shape = Shape::new(&[1, 1, 4]).unwrap();
/// let t = [1.0f32, 0.0, 0.0, 0.0];
/// let good = gdl.forward(&[30.0, -30.0, -30.0, -30.0], Targets::Dense(&t), &shape, None).unwrap();
/// assert!(good < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct GeneralizedDice {
    spec: RegionSpec,
    region: RegionOptions,
    none: PixelSpec,
}

impl Loss for GeneralizedDice {
    fn name(&self) -> &'static str {
        "generalized_dice"
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
            class_vectors: &[],
        };
        driver::run(&plan, logits, targets, shape, grad)
    }
}
