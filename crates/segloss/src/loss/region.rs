//! The overlap (Dice-type) objective shared by Dice, Tversky and generalized Dice: from the
//! per-`(image, class)` sums `I = Σ p t`, `P = Σ p` (or `Σ p²`) and `T = Σ t` (or `Σ t²`)
//! to the loss and the coefficients `∂L/∂I`, `∂L/∂P` from which the kernels build the
//! gradient (`∂L/∂p = ∂L/∂I · t + ∂L/∂P · (1 or 2p)`).
//!
//! All of it runs in `f64` on arrays of `N·C` entries; nothing here is per pixel.

use super::reduction::Reduction;

/// Which overlap sums form one Dice-type term.
///
/// # Examples
/// ```
/// use segloss::loss::Scope;
/// assert_eq!(Scope::default(), Scope::PerImage);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// One term per image and class, the sums running over the image's pixels; the loss
    /// averages the `N·C` terms (MONAI `batch=False`).
    #[default]
    PerImage,
    /// One term per class, the sums running over every pixel of the batch; the loss
    /// averages the `C` terms (MONAI `batch=True`, smp's `dims=(0, 2)`).
    Batch,
}

/// Whether channel 0 (the background) takes part in a Dice-type loss.
///
/// # Examples
/// ```
/// use segloss::loss::Background;
/// assert_eq!(Background::default(), Background::Include);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Background {
    /// Every channel forms terms.
    #[default]
    Include,
    /// Channel 0 forms no term and gets no Dice-type gradient (it still shapes the softmax
    /// of the other channels). Ignored when `C = 1`, as in MONAI.
    Exclude,
}

/// What a term whose target is empty (`Σ t = 0`) contributes.
///
/// # Examples
/// ```
/// use segloss::loss::EmptyTarget;
/// assert_eq!(EmptyTarget::default(), EmptyTarget::Score);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmptyTarget {
    /// The formula as written, with its smoothing terms (MONAI): predicting nothing scores
    /// `smooth_nr / smooth_dr`, predicting anything is penalised.
    #[default]
    Score,
    /// The term is 0 and has no gradient but still counts in the mean (smp: "Dice loss is
    /// undefined for empty classes").
    Zero,
}

/// The overlap score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ScoreKind {
    /// `(2I + s_nr) / (P + T + s_dr)`.
    Dice,
    /// MONAI's Jaccard: `(2I + s_nr) / (2(P + T − I) + s_dr)`.
    Jaccard,
    /// `(I + s_nr) / (I + α(P − I) + β(T − I) + s_dr)`: α weighs false positives, β false
    /// negatives.
    Tversky { alpha: f64, beta: f64 },
    /// Sudre et al.'s generalized Dice over the classes of one group, with weights from `T`.
    Generalized(GeneralizedWeight),
}

/// Class weights of the generalized Dice loss, computed from the target volume `T_c` of
/// each class in each term group.
///
/// # Examples
/// ```
/// use segloss::loss::GeneralizedWeight;
/// assert_eq!(GeneralizedWeight::default(), GeneralizedWeight::Square);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeneralizedWeight {
    /// `w_c = 1 / T_c²` (Sudre et al. 2017).
    #[default]
    Square,
    /// `w_c = 1 / T_c`.
    Simple,
    /// `w_c = 1`.
    Uniform,
}

/// How a term's score `s` becomes its loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Transform {
    /// `1 − s`.
    OneMinus,
    /// `−ln max(s, eps)`.
    NegLog,
    /// `max(1 − s, 0)^γ` (focal Tversky).
    Power(f64),
}

/// A complete Dice-type objective.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegionSpec {
    pub score: ScoreKind,
    pub transform: Transform,
    pub squared: bool,
    pub smooth_nr: f64,
    pub smooth_dr: f64,
    pub eps: f64,
    pub scope: Scope,
    pub background: Background,
    pub class_weights: Option<Vec<f64>>,
    pub empty: EmptyTarget,
    pub reduction: Reduction,
}

impl RegionSpec {
    /// `(L, dL/ds)` of the transform.
    fn transform(&self, s: f64) -> (f64, f64) {
        match self.transform {
            Transform::OneMinus => (1.0 - s, -1.0),
            Transform::NegLog => {
                if s > self.eps {
                    (-s.ln(), -1.0 / s)
                } else {
                    (-self.eps.ln(), 0.0)
                }
            }
            Transform::Power(g) => {
                let base = 1.0 - s;
                if base > 0.0 {
                    (base.powf(g), -g * base.powf(g - 1.0))
                } else if g == 1.0 {
                    (0.0, -1.0)
                } else {
                    // At a perfect score the derivative is 0 (γ > 1) or unbounded (γ < 1);
                    // 0 is the documented subgradient.
                    (0.0, 0.0)
                }
            }
        }
    }

    /// `(L, ∂L/∂I, ∂L/∂P)` of one Dice / Jaccard / Tversky term.
    fn term(&self, i: f64, p: f64, t: f64) -> (f64, f64, f64) {
        if self.empty == EmptyTarget::Zero && t <= 0.0 {
            return (0.0, 0.0, 0.0);
        }
        let (snr, sdr) = (self.smooth_nr, self.smooth_dr);
        let (num, den, dnum_di, dden_di, dden_dp) = match self.score {
            ScoreKind::Dice | ScoreKind::Generalized(_) => {
                (2.0 * i + snr, p + t + sdr, 2.0, 0.0, 1.0)
            }
            ScoreKind::Jaccard => (2.0 * i + snr, 2.0 * (p + t - i) + sdr, 2.0, -2.0, 2.0),
            ScoreKind::Tversky { alpha, beta } => (
                i + snr,
                i + alpha * (p - i) + beta * (t - i) + sdr,
                1.0,
                1.0 - alpha - beta,
                alpha,
            ),
        };
        let (den, live) = if den < self.eps {
            (self.eps, 0.0)
        } else {
            (den, 1.0)
        };
        let s = num / den;
        let ds_di = dnum_di / den - live * num * dden_di / (den * den);
        let ds_dp = -live * num * dden_dp / (den * den);
        let (l, dl) = self.transform(s);
        (l, dl * ds_di, dl * ds_dp)
    }

    fn included(&self, c: usize, classes: usize) -> bool {
        !(c == 0 && classes > 1 && self.background == Background::Exclude)
    }

    /// Evaluates the objective from `sums[n·C + c] = [I, P, T]`, scaled by `weight`, and
    /// writes `weight·[∂L/∂I, ∂L/∂P]` for every `(n, c)` into `coef`.
    ///
    /// Computed group by group ([`RegionSpec::group`]) and scaled by the data-independent
    /// [`RegionSpec::scale`], so that [`RegionSpec::evaluate_image`] gives the same bits for
    /// one image of a per-image objective.
    pub(crate) fn evaluate(
        &self,
        batch: usize,
        classes: usize,
        sums: &[[f64; 3]],
        weight: f64,
        coef: &mut [[f32; 2]],
    ) -> f64 {
        // Term groups: per image, or one for the whole batch.
        let groups = match self.scope {
            Scope::PerImage => batch,
            Scope::Batch => 1,
        };
        let per_group = batch / groups;
        let scale = self.scale(batch, classes, weight);
        let mut gcoef = vec![[0f64; 2]; classes];
        let mut total = 0f64;
        for g in 0..groups {
            let rows = &sums[g * per_group * classes..(g + 1) * per_group * classes];
            total += self.group(classes, rows, &mut gcoef);
            for n in g * per_group..(g + 1) * per_group {
                put_coef(&gcoef, scale, &mut coef[n * classes..(n + 1) * classes]);
            }
        }
        total * scale
    }

    /// One image of a per-image objective: from the image's `sums[c] = [I, P, T]`, writes
    /// its `C` coefficients into `coef` and returns its loss before scaling, such that the
    /// images' losses summed in order and multiplied by [`RegionSpec::scale`] give
    /// [`RegionSpec::evaluate`]'s value, and the coefficients are the same bits.
    pub(crate) fn evaluate_image(
        &self,
        classes: usize,
        sums: &[[f64; 3]],
        scale: f64,
        coef: &mut [[f32; 2]],
    ) -> f64 {
        debug_assert_eq!(self.scope, Scope::PerImage);
        let mut gcoef = vec![[0f64; 2]; classes];
        let total = self.group(classes, sums, &mut gcoef);
        put_coef(&gcoef, scale, coef);
        total
    }

    /// The factor of every term: `weight` for a sum, `weight / Σ w` for a mean, where the
    /// sum runs over the terms (each class weight once per group; 1 per group for
    /// generalized Dice). Depends on the shape only, never on the data.
    pub(crate) fn scale(&self, batch: usize, classes: usize, weight: f64) -> f64 {
        let groups = match self.scope {
            Scope::PerImage => batch,
            Scope::Batch => 1,
        };
        let mut norm = 0f64;
        for _ in 0..groups {
            if let ScoreKind::Generalized(_) = self.score {
                norm += 1.0;
            } else {
                for c in (0..classes).filter(|&c| self.included(c, classes)) {
                    norm += self.class_weight(c);
                }
            }
        }
        match self.reduction {
            Reduction::Mean => {
                if norm > 0.0 {
                    weight / norm
                } else {
                    0.0
                }
            }
            Reduction::Sum => weight,
        }
    }

    fn class_weight(&self, c: usize) -> f64 {
        self.class_weights
            .as_ref()
            .map_or(1.0, |w| w[c.min(w.len() - 1)])
    }

    /// One term group, whose sums are `rows[k·C + c]` for its `k = 0, 1, …` images: its
    /// loss before scaling, and its coefficients before scaling into `gcoef[c]`.
    fn group(&self, classes: usize, rows: &[[f64; 3]], gcoef: &mut [[f64; 2]]) -> f64 {
        let sum_of = |c: usize| -> [f64; 3] {
            let mut acc = [0f64; 3];
            for s in rows.iter().skip(c).step_by(classes) {
                for k in 0..3 {
                    acc[k] += s[k];
                }
            }
            acc
        };
        gcoef.fill([0.0; 2]);
        let mut total = 0f64;
        if let ScoreKind::Generalized(wt) = self.score {
            let mut w = vec![0f64; classes];
            let mut wmax = 0f64;
            for (c, wc) in w.iter_mut().enumerate() {
                let t = sum_of(c)[2];
                let v = match wt {
                    GeneralizedWeight::Square => 1.0 / (t * t),
                    GeneralizedWeight::Simple => 1.0 / t,
                    GeneralizedWeight::Uniform => 1.0,
                };
                *wc = if v.is_finite() && self.included(c, classes) {
                    v
                } else {
                    0.0
                };
                wmax = wmax.max(*wc);
            }
            // MONAI: an empty class (infinite weight) takes the group's largest weight.
            for (c, wc) in w.iter_mut().enumerate() {
                let t = sum_of(c)[2];
                if self.included(c, classes) && wt != GeneralizedWeight::Uniform && t == 0.0 {
                    *wc = wmax;
                }
            }
            let (mut num, mut den) = (self.smooth_nr, self.smooth_dr);
            for (c, &wc) in w.iter().enumerate() {
                let [i, p, t] = sum_of(c);
                num += 2.0 * wc * i;
                den += wc * (p + t);
            }
            let (den, live) = if den < self.eps {
                (self.eps, 0.0)
            } else {
                (den, 1.0)
            };
            let (l, dl) = self.transform(num / den);
            total += l;
            for (gc, &wc) in gcoef.iter_mut().zip(&w) {
                *gc = [dl * 2.0 * wc / den, -dl * live * num * wc / (den * den)];
            }
        } else {
            for (c, gc) in gcoef.iter_mut().enumerate() {
                if !self.included(c, classes) {
                    continue;
                }
                let wc = self.class_weight(c);
                let [i, p, t] = sum_of(c);
                let (l, di, dp) = self.term(i, p, t);
                total += wc * l;
                *gc = [wc * di, wc * dp];
            }
        }
        total
    }
}

/// `coef[c] = scale·gcoef[c]`, rounded to `f32`.
fn put_coef(gcoef: &[[f64; 2]], scale: f64, coef: &mut [[f32; 2]]) {
    for (o, &[a, b]) in coef.iter_mut().zip(gcoef) {
        *o = [(scale * a) as f32, (scale * b) as f32];
    }
}

/// Settings shared by every Dice-type loss (see each config for the defaults it documents).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegionOptions {
    pub activation: super::Activation,
    pub smooth_nr: f64,
    pub smooth_dr: f64,
    pub eps: f64,
    pub scope: Scope,
    pub background: Background,
    pub class_weights: Option<Vec<f32>>,
    pub ignore_index: Option<i64>,
    pub empty: EmptyTarget,
    pub reduction: Reduction,
}

impl Default for RegionOptions {
    fn default() -> Self {
        Self {
            activation: super::Activation::Sigmoid,
            smooth_nr: 1e-5,
            smooth_dr: 1e-5,
            eps: 1e-7,
            scope: Scope::PerImage,
            background: Background::Include,
            class_weights: None,
            ignore_index: None,
            empty: EmptyTarget::Score,
            reduction: Reduction::Mean,
        }
    }
}

impl RegionOptions {
    /// Checks the shared settings.
    pub(crate) fn check(&self) -> crate::Result<()> {
        use super::params;
        params::non_negative("smooth_nr", self.smooth_nr)?;
        params::non_negative("smooth_dr", self.smooth_dr)?;
        params::positive("eps", self.eps)?;
        if let Some(w) = &self.class_weights {
            params::weights("class_weights", w)?;
        }
        if let (super::Activation::Sigmoid, Some(i)) = (self.activation, self.ignore_index) {
            return Err(crate::Error::InvalidParameter {
                name: "ignore_index",
                value: i.to_string(),
                rule: "applies to softmax (class-index targets) only",
            });
        }
        Ok(())
    }

    /// The objective with these settings.
    pub(crate) fn spec(&self, score: ScoreKind, transform: Transform, squared: bool) -> RegionSpec {
        RegionSpec {
            score,
            transform,
            squared,
            smooth_nr: self.smooth_nr,
            smooth_dr: self.smooth_dr,
            eps: self.eps,
            scope: self.scope,
            background: self.background,
            class_weights: self
                .class_weights
                .as_ref()
                .map(|w| w.iter().map(|&v| v as f64).collect()),
            empty: self.empty,
            reduction: self.reduction,
        }
    }

    /// Per-class vectors to check against `C`.
    pub(crate) fn class_vectors(&self) -> Vec<(&'static str, usize)> {
        self.class_weights
            .as_ref()
            .map(|w| vec![("number of class weights", w.len())])
            .unwrap_or_default()
    }
}

/// Setters for the settings every Dice-type config shares (field `region`).
macro_rules! region_setters {
    () => {
        /// Sigmoid (dense targets, each channel its own binary problem) or softmax
        /// (class-index targets, one-hot inside the kernel).
        pub fn with_activation(mut self, a: crate::loss::Activation) -> Self {
            self.region.activation = a;
            self
        }

        /// `s_nr ≥ 0`, added to the numerator.
        pub fn with_smooth_nr(mut self, v: f64) -> Self {
            self.region.smooth_nr = v;
            self
        }

        /// `s_dr ≥ 0`, added to the denominator.
        pub fn with_smooth_dr(mut self, v: f64) -> Self {
            self.region.smooth_dr = v;
            self
        }

        /// Sets `s_nr = s_dr = ε`, the notes' formula (`ε = 1e-8` there).
        pub fn with_smooth(mut self, v: f64) -> Self {
            self.region.smooth_nr = v;
            self.region.smooth_dr = v;
            self
        }

        /// Floor `eps > 0` of the denominator (and of the score under a log), as smp's
        /// `clamp_min(eps)`; where it binds, that sum gets no gradient.
        pub fn with_eps(mut self, v: f64) -> Self {
            self.region.eps = v;
            self
        }

        /// Terms per image or over the whole batch, see [`crate::loss::Scope`].
        pub fn with_scope(mut self, s: crate::loss::Scope) -> Self {
            self.region.scope = s;
            self
        }

        /// Whether channel 0 forms terms, see [`crate::loss::Background`].
        pub fn with_background(mut self, b: crate::loss::Background) -> Self {
            self.region.background = b;
            self
        }

        /// Softmax only: pixels with this label are left out of every sum (as if absent)
        /// and get zero gradient.
        pub fn with_ignore_index(mut self, i: i64) -> Self {
            self.region.ignore_index = Some(i);
            self
        }

        /// What a term with an empty target contributes, see [`crate::loss::EmptyTarget`].
        pub fn with_empty_target(mut self, e: crate::loss::EmptyTarget) -> Self {
            self.region.empty = e;
            self
        }

        /// `Mean` (the class-weighted mean of the terms) or `Sum` of the terms.
        pub fn with_reduction(mut self, r: crate::loss::Reduction) -> Self {
            self.region.reduction = r;
            self
        }
    };
}

/// The class-weight setter of Dice and Tversky.
macro_rules! class_weight_setter {
    () => {
        /// A weight `w_c ≥ 0` per class: the loss is `Σ w_c L_term / Σ w_c` over the terms
        /// (`Mean`) or `Σ w_c L_term` (`Sum`). MONAI multiplies without normalising: its value
        /// is this one times `Σ w / (number of terms)`.
        pub fn with_class_weights(mut self, w: Vec<f32>) -> Self {
            self.region.class_weights = Some(w);
            self
        }
    };
}

pub(crate) use class_weight_setter;
pub(crate) use region_setters;
