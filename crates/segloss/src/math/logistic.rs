//! The logistic family: `σ(x)`, `softplus(x) = ln(1 + e^x)` and `ln σ(x)`.
//!
//! All three start from `e = e^{-|x|} ∈ [0, 1]` and `1/(1 + e)`, written identically, so a
//! loop that needs both `σ(x)` and `softplus(x)` (every sigmoid loss and its gradient) computes
//! one `exp` and one division per element after inlining and common-subexpression elimination.

use super::exp::exp_minus;
use super::log::ln_1p_unit;

/// `softplus(x) = ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^{-|x|})`, which neither
/// overflows for large `x` nor loses the tail for very negative `x`.
/// Note `-softplus(-x) = ln σ(x)` and `-softplus(x) = ln(1 - σ(x))`.
///
/// Accuracy: at most 2 ulp from the exact value for every finite `x` (dense sweep in
/// `math::accuracy_tests`); `softplus(x) = x` exactly for `x ≥ 17.4` (where `e^{-x}` is
/// below half an ulp of `x`) and `= e^x` for `x ≤ -17`, down to the `f32` underflow at
/// `x ≈ -103.97`.
///
/// Special values: `softplus(+∞) = +∞`, `softplus(-∞) = 0`, NaN gives NaN. Branch-free.
#[inline(always)]
pub(crate) fn softplus(x: f32) -> f32 {
    let e = exp_minus(x.abs());
    let pos = if x > 0.0 { x } else { 0.0 };
    pos + ln_1p_unit(e)
}

/// `ln σ(x) = -softplus(-x)`, the log-probability of the positive class; always `≤ 0`.
///
/// Accuracy: that of [`softplus`] (at most 2 ulp). `log_sigmoid(-∞) = -∞`,
/// `log_sigmoid(+∞) = 0`, NaN gives NaN. Branch-free.
#[inline(always)]
pub(crate) fn log_sigmoid(x: f32) -> f32 {
    -softplus(-x)
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^{-x})`, computed from `e = e^{-|x|}` so it never
/// overflows: `σ(x) = 1/(1+e)` for `x ≥ 0` and `e/(1+e)` otherwise.
///
/// Accuracy: at most 3 ulp from the exact value for every finite `x` (exhaustive test in
/// `math::accuracy_tests`), including the far negative tail where `σ(x) ≈ e^x` is subnormal;
/// for `x ≥ 0` at most 2 ulp. (`e/(1+e)` as one division would save about an ulp for
/// `x < 0`, but `e·(1/(1+e))` shares its division with [`softplus`].)
///
/// Special values: `σ(+∞) = 1`, `σ(-∞) = 0`, NaN gives NaN. Branch-free.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    sigmoid_pair(x).0
}

/// `(σ(x), σ(-x), e^{-|x|}, σ(|x|))` from one `exp` and one division, bit for bit
/// `(sigmoid(x), sigmoid(-x), …)`.
///
/// With `e = e^{-|x|}` and `r = 1/(1 + e) = σ(|x|)`, `σ(x)` is `r` for `x ≥ 0` and `e·r`
/// otherwise, and `σ(-x)` is the other one: both are chosen on the one mask `x ≥ 0`.
/// `sigmoid(-x)` alone chooses on `x ≤ 0`, a second compare in vector code; the two masks
/// differ only at `x = ±0`, where `e = 1` exactly and `e·r = r` (checked by
/// `math::accuracy_tests`).
#[inline(always)]
pub(crate) fn sigmoid_pair(x: f32) -> (f32, f32, f32, f32) {
    let e = exp_minus(x.abs());
    let r = 1.0 / (1.0 + e);
    let er = e * r;
    let pos = x >= 0.0;
    (if pos { r } else { er }, if pos { er } else { r }, e, r)
}
