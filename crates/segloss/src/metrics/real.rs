//! Floating-point element types accepted for probabilities and logits.

/// A floating-point score: a probability or a logit. Implemented for `f32` and `f64`.
///
/// ```
/// use segloss::metrics::Real;
/// assert_eq!(0.25f32.to_f64(), 0.25);
/// ```
pub trait Real: Copy + Send + Sync + PartialOrd + 'static + private::Sealed {
    /// The value as `f64` (exact).
    fn to_f64(self) -> f64;
    /// Whether the value is neither NaN nor infinite.
    fn is_finite_value(self) -> bool;
}

impl Real for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn is_finite_value(self) -> bool {
        self.is_finite()
    }
}

impl Real for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn is_finite_value(self) -> bool {
        self.is_finite()
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}
