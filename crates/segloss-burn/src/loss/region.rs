//! The settings every Dice-type burn loss shares, turned into the core's and the composed
//! path's form.

use super::{Background, EmptyTarget, Reduction, Scope};
use crate::composed::{RegionScore, RegionTerm, ScoreTransform};

/// Borrowed view of the shared Dice-type settings of a burn config.
pub(crate) struct RegionFields<'a> {
    pub smooth_nr: f64,
    pub smooth_dr: f64,
    pub eps: f64,
    pub scope: Scope,
    pub background: Background,
    pub class_weights: Option<&'a [f32]>,
    pub empty_target: EmptyTarget,
    pub reduction: Reduction,
}

impl RegionFields<'_> {
    /// The composed region term for `classes` channels.
    pub(crate) fn term(
        &self,
        op: &'static str,
        score: RegionScore,
        transform: ScoreTransform,
        squared: bool,
        classes: usize,
    ) -> crate::Result<RegionTerm> {
        let class_weights = match self.class_weights {
            Some(w) => Some(super::class_vec(
                op,
                "number of class weights",
                Some(w),
                classes,
            )?),
            None => None,
        };
        Ok(RegionTerm {
            score,
            transform,
            squared,
            smooth_nr: self.smooth_nr,
            smooth_dr: self.smooth_dr,
            eps: self.eps,
            batch: self.scope == Scope::Batch,
            exclude_background: self.background == Background::Exclude,
            class_weights,
            empty_is_zero: self.empty_target == EmptyTarget::Zero,
            sum: self.reduction == Reduction::Sum,
        })
    }
}

/// Applies the shared settings of a burn config (`$s`) to a core Dice-type config (`$c`,
/// any of `DiceConfig`, `TverskyConfig`, `GeneralizedDiceConfig`: they share the setters).
/// Class weights are not applied here: generalized Dice has none.
macro_rules! apply_region {
    ($c:expr, $s:expr) => {{
        let s = &$s;
        let mut c = $c
            .with_activation(s.activation.into())
            .with_smooth_nr(s.smooth_nr)
            .with_smooth_dr(s.smooth_dr)
            .with_eps(s.eps)
            .with_scope(s.scope.into())
            .with_background(s.background.into())
            .with_empty_target(s.empty_target.into())
            .with_reduction(s.reduction.into());
        if let Some(i) = s.ignore_index {
            c = c.with_ignore_index(i);
        }
        c
    }};
}
pub(crate) use apply_region;

/// The shared settings of a burn config as [`RegionFields`].
macro_rules! region_fields {
    ($s:expr) => {
        $crate::loss::region::RegionFields {
            smooth_nr: $s.smooth_nr,
            smooth_dr: $s.smooth_dr,
            eps: $s.eps,
            scope: $s.scope,
            background: $s.background,
            class_weights: $s.class_weights.as_deref(),
            empty_target: $s.empty_target,
            reduction: $s.reduction,
        }
    };
}
pub(crate) use region_fields;
