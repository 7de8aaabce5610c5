//! Elementary functions used by the loss kernels.
//!
//! These are the only transcendental functions the kernels call, so that making them fast
//! (branch-free polynomial approximations that the compiler vectorises inside the
//! multiversioned kernel loops) speeds up every loss at once. Each function documents its
//! accuracy; the tests compare them with `f64` evaluations of the same function.
//!
//! The current bodies call `std` (correctly rounded or nearly so, but not vectorisable).

/// `e^x`.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    x.exp()
}

/// Natural logarithm, `ln x` for `x > 0`.
#[inline(always)]
pub(crate) fn ln(x: f32) -> f32 {
    x.ln()
}

/// `ln(1 + x)`, accurate for small `x`.
#[inline(always)]
pub(crate) fn ln_1p(x: f32) -> f32 {
    x.ln_1p()
}

/// `softplus(x) = ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^{-|x|})`, which neither
/// overflows for large `x` nor loses the tail for very negative `x`.
/// Note `-softplus(-x) = ln σ(x)` and `-softplus(x) = ln(1 - σ(x))`.
#[inline(always)]
pub(crate) fn softplus(x: f32) -> f32 {
    x.max(0.0) + ln_1p(exp(-x.abs()))
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^{-x})`, computed from `e^{-|x|}` so it never
/// overflows: `σ(x) = 1/(1+e)` for `x ≥ 0` and `e/(1+e)` otherwise, with `e = e^{-|x|}`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    let e = exp(-x.abs());
    let r = 1.0 / (1.0 + e);
    if x >= 0.0 { r } else { e * r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_at_extremes() {
        for &x in &[-1e4f32, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4] {
            let xd = x as f64;
            let sp = if xd > 0.0 {
                xd + (-xd).exp().ln_1p()
            } else {
                xd.exp().ln_1p()
            };
            assert!(
                (softplus(x) as f64 - sp).abs() <= 1e-6 * sp.max(1e-30),
                "softplus({x})"
            );
            let sg = 1.0 / (1.0 + (-xd).exp());
            assert!(
                (sigmoid(x) as f64 - sg).abs() <= 1e-6 * sg.max(1e-30),
                "sigmoid({x})"
            );
        }
    }
}
