//! The composed path: each loss built from burn tensor ops, for every backend.
//!
//! A loss is described by a [`ComposedPlan`] (the same description the core kernels run:
//! an activation, a pixel term, an optional Dice-type region term, their weights and
//! reductions) and evaluated on the canonical layout: logits `[N, C, S]`, float targets
//! `[N, C, S]` or class indices `[N, S]` (see [`crate::SegTargets`]). burn's autodiff
//! differentiates these ops, so this path needs no custom backward and runs on any burn device
//! and float type.
//!
//! Numerics:
//! - log-probabilities come from `log_sigmoid` / `log_softmax`, never `log(sigmoid(x))`,
//!   so a logit of ±1e4 gives a finite loss and gradient;
//! - the focal factor `q^γ` is `exp(γ·ln q)` with `ln q` a log-sum-exp of log-sigmoids,
//!   exact in log space;
//! - sums over many elements go through a blocked (multi-level) summation whose rounding
//!   error grows with `log_256(n)` rather than `n`: a plain f32 sum of 2 M elements on some
//!   backends was seen 2e-4 off.

mod pixel;
mod plan;
mod prob;
mod region;
mod sums;

pub use plan::{
    ComposedPlan, GeneralizedWeighting, PixelTerm, RegionScore, RegionTerm, ScoreTransform,
};
