//! The settings every Dice-type burn loss shares: declared once ([`region_config!`]), and
//! turned into the core's and the composed path's form.

use super::{Activation, Background, EmptyTarget, Reduction, Scope};
use crate::composed::{ComposedPlan, PixelTerm, RegionScore, RegionTerm, ScoreTransform};

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

/// The plan of a loss that is one region term of weight 1 (no pixel term).
pub(crate) fn region_plan(
    activation: Activation,
    region: RegionTerm,
    ignore_index: Option<i64>,
) -> ComposedPlan {
    ComposedPlan {
        softmax: activation == Activation::Softmax,
        pixel: PixelTerm::None,
        pixel_weight: 0.0,
        pixel_sum: false,
        region: Some((region, 1.0)),
        ignore_index,
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

/// The shared settings of a burn config as [`RegionFields`]; the second form gives the
/// class weights explicitly (generalized Dice has no `class_weights` field).
macro_rules! region_fields {
    ($s:expr) => {
        $crate::loss::region::region_fields!($s, $s.class_weights.as_deref())
    };
    ($s:expr, $class_weights:expr) => {
        $crate::loss::region::RegionFields {
            smooth_nr: $s.smooth_nr,
            smooth_dr: $s.smooth_dr,
            eps: $s.eps,
            scope: $s.scope,
            background: $s.background,
            class_weights: $class_weights,
            empty_target: $s.empty_target,
            reduction: $s.reduction,
        }
    };
}
pub(crate) use region_fields;

/// Declares a Dice-type burn config (`#[derive(Config)]` goes on the invocation): the
/// caller's own fields first, then the settings every Dice-type loss shares, each with its
/// documented default (MONAI's `DiceLoss`). Class weights are the caller's field, since
/// generalized Dice takes its weights from the targets.
///
/// The caller's fields are passed on as raw tokens, each ending in a comma: burn's derive
/// recognises an optional field by its literal `Option<…>` type, which a `$t:ty` fragment
/// would hide (the field would become a required argument of `new`).
///
/// The invoking module imports `Activation`, `Background`, `EmptyTarget`, `Reduction`,
/// `Scope` and `ExecPath`: the defaults are written with those short names so that the
/// generated `new`/`with_*` docs read as before.
macro_rules! region_config {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($own_fields:tt)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($own_fields)*
            /// Sigmoid (dense targets) or softmax (class indices). Default sigmoid.
            #[config(default = "Activation::Sigmoid")]
            pub activation: Activation,
            /// Numerator smoothing `s_nr ≥ 0`. Default 1e-5.
            #[config(default = 1e-5)]
            pub smooth_nr: f64,
            /// Denominator smoothing `s_dr ≥ 0`. Default 1e-5.
            #[config(default = 1e-5)]
            pub smooth_dr: f64,
            /// Floor of the denominator (and of the score for log-Dice), `> 0`. Default 1e-7.
            #[config(default = 1e-7)]
            pub eps: f64,
            /// Per image and class, or per class over the batch. Default per image.
            #[config(default = "Scope::PerImage")]
            pub scope: Scope,
            /// Whether channel 0 forms terms. Default include.
            #[config(default = "Background::Include")]
            pub background: Background,
            /// Ignore label (softmax only). Default none.
            pub ignore_index: Option<i64>,
            /// What a term with an empty target contributes. Default the formula (MONAI).
            #[config(default = "EmptyTarget::Score")]
            pub empty_target: EmptyTarget,
            /// Mean or sum of the terms. Default mean.
            #[config(default = "Reduction::Mean")]
            pub reduction: Reduction,
            /// Fused or composed implementation. Default auto.
            #[config(default = "ExecPath::Auto")]
            pub path: ExecPath,
        }
    };
}
pub(crate) use region_config;

/// Writes `forward` and [`super::BurnLoss`] for a Dice-type loss (`$name` is its
/// [`super::BurnLoss::name`]): a struct `{ core, config }` whose config, declared with
/// [`region_config!`], has a `region_term(classes)` method. The composed plan is that one
/// region term, weight 1.
macro_rules! impl_region_loss {
    ($ty:ty, $name:literal) => {
        $crate::loss::impl_forward!($ty);

        impl $crate::loss::BurnLoss for $ty {
            fn name(&self) -> &'static str {
                $name
            }

            fn target_kind(&self) -> $crate::loss::TargetKind {
                self.config.activation.into()
            }

            fn core(&self) -> &dyn segloss::loss::Loss {
                &self.core
            }

            fn composed_plan(
                &self,
                classes: usize,
            ) -> $crate::error::Result<$crate::composed::ComposedPlan> {
                Ok($crate::loss::region::region_plan(
                    self.config.activation,
                    self.config.region_term(classes)?,
                    self.config.ignore_index,
                ))
            }

            fn path(&self) -> $crate::path::ExecPath {
                self.config.path
            }
        }
    };
}
pub(crate) use impl_region_loss;
