//! Option enums of the burn loss configs, mirroring the core's (burn configs need
//! `#[derive(Config)]` types, which the core's plain enums are not).

use burn::config::Config;
use segloss::loss as sl;

/// Logits to probabilities: element-wise sigmoid (dense targets) or softmax over channels
/// (class-index targets). See [`segloss::loss::Activation`].
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `p = σ(x)`, binary and multi-label.
    Sigmoid,
    /// `p = softmax(x)` over the channel axis, multi-class.
    Softmax,
}

// `#[derive(Config)]` copies variant attributes into its serde mirror, so `#[default]`
// cannot be used.
#[allow(clippy::derivable_impls)]
impl Default for Activation {
    fn default() -> Self {
        Activation::Sigmoid
    }
}

impl From<Activation> for sl::Activation {
    fn from(a: Activation) -> Self {
        match a {
            Activation::Sigmoid => sl::Activation::Sigmoid,
            Activation::Softmax => sl::Activation::Softmax,
        }
    }
}

/// How pixel losses (or Dice-type terms) are reduced. See [`segloss::loss::Reduction`].
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// The mean over the elements that count.
    Mean,
    /// The plain sum.
    Sum,
}

// `#[derive(Config)]` copies variant attributes into its serde mirror, so `#[default]`
// cannot be used.
#[allow(clippy::derivable_impls)]
impl Default for Reduction {
    fn default() -> Self {
        Reduction::Mean
    }
}

impl From<Reduction> for sl::Reduction {
    fn from(r: Reduction) -> Self {
        match r {
            Reduction::Mean => sl::Reduction::Mean,
            Reduction::Sum => sl::Reduction::Sum,
        }
    }
}

/// The class-balance factor `α` of the focal loss. See [`segloss::loss::FocalAlpha`].
#[derive(Config, Debug, PartialEq)]
pub enum FocalAlpha {
    /// No balancing.
    None,
    /// Lin et al.: positives `α`, negatives `1 − α` (softmax: class 0 `1 − α`, others `α`).
    Balanced(f32),
    /// One `α_c` per channel.
    PerClass(Vec<f32>),
    /// The source notes' variant (sigmoid only): `α` on both terms.
    NotesVariant(f32),
}

// `#[derive(Config)]` copies variant attributes into its serde mirror, so `#[default]`
// cannot be used.
#[allow(clippy::derivable_impls)]
impl Default for FocalAlpha {
    fn default() -> Self {
        FocalAlpha::Balanced(0.25)
    }
}

impl From<&FocalAlpha> for sl::FocalAlpha {
    fn from(a: &FocalAlpha) -> Self {
        match a {
            FocalAlpha::None => sl::FocalAlpha::None,
            FocalAlpha::Balanced(v) => sl::FocalAlpha::Balanced(*v),
            FocalAlpha::PerClass(v) => sl::FocalAlpha::PerClass(v.clone()),
            FocalAlpha::NotesVariant(v) => sl::FocalAlpha::NotesVariant(*v),
        }
    }
}

/// Mirror of a core unit-variant enum: the burn `Config` enum, its default and the
/// conversion into the core type.
macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident => $core:ident { $($(#[$vdoc:meta])* $v:ident),+ $(,)? } default $d:ident) => {
        $(#[$doc])*
        #[derive(Config, Debug, Copy, PartialEq, Eq)]
        pub enum $name {
            $(
                $(#[$vdoc])*
                $v,
            )+
        }

        #[allow(clippy::derivable_impls)]
        impl Default for $name {
            fn default() -> Self {
                $name::$d
            }
        }

        impl From<$name> for sl::$core {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$v => sl::$core::$v,)+
                }
            }
        }
    };
}

mirror_enum!(
    /// Which sums form one Dice-type term. See [`segloss::loss::Scope`].
    Scope => Scope {
        /// One term per image and class (MONAI `batch=False`).
        PerImage,
        /// One term per class over the whole batch (MONAI `batch=True`).
        Batch,
    } default PerImage
);

mirror_enum!(
    /// Whether channel 0 takes part in a Dice-type loss. See [`segloss::loss::Background`].
    Background => Background {
        /// Every channel forms terms.
        Include,
        /// Channel 0 forms no term (when `C > 1`).
        Exclude,
    } default Include
);

mirror_enum!(
    /// What a term with an empty target contributes. See [`segloss::loss::EmptyTarget`].
    EmptyTarget => EmptyTarget {
        /// The formula with its smoothing terms (MONAI).
        Score,
        /// 0, without gradient, still counted in the mean (smp).
        Zero,
    } default Score
);

mirror_enum!(
    /// The Dice denominator. See [`segloss::loss::Denominator`].
    Denominator => Denominator {
        /// `Σp + Σt`.
        Linear,
        /// `Σp² + Σt²`.
        Squared,
    } default Linear
);

mirror_enum!(
    /// Dice or Jaccard score. See [`segloss::loss::DiceForm`].
    DiceForm => DiceForm {
        /// `(2I + s_nr) / (D + s_dr)`.
        Dice,
        /// `(2I + s_nr) / (2(D − I) + s_dr)`.
        Jaccard,
    } default Dice
);

mirror_enum!(
    /// Score to loss. See [`segloss::loss::Penalty`].
    Penalty => Penalty {
        /// `1 − s`.
        OneMinus,
        /// `−ln max(s, eps)`.
        NegLog,
    } default OneMinus
);

mirror_enum!(
    /// Class weights of generalized Dice. See [`segloss::loss::GeneralizedWeight`].
    GeneralizedWeight => GeneralizedWeight {
        /// `1/T_c²` (Sudre et al.).
        Square,
        /// `1/T_c`.
        Simple,
        /// `1`.
        Uniform,
    } default Square
);
