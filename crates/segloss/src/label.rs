//! Integer class labels of any width.

/// A hard class label: the element type of index targets and label masks.
///
/// Implemented for `bool` (`false` = 0, `true` = 1), the unsigned integers and the signed
/// integers PyTorch-style code produces (`i32`, `i64`). A negative label has no class:
/// [`Label::to_class`] returns `None` for it, and APIs report it as out of range unless it is
/// the ignore label.
///
/// # Examples
/// ```
/// use segloss::Label;
/// assert_eq!(7u8.to_class(), Some(7));
/// assert_eq!(true.to_class(), Some(1));
/// assert_eq!((-100i64).to_class(), None);
/// assert_eq!((-100i64).to_i64(), -100);
/// ```
pub trait Label: Copy + Send + Sync + 'static {
    /// The label as a class index, or `None` if it is negative.
    fn to_class(self) -> Option<u64>;
    /// The label as a signed integer, for comparison with an `i64` ignore label.
    /// `u64` labels above `i64::MAX` saturate.
    fn to_i64(self) -> i64;
}

macro_rules! unsigned_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline(always)]
            fn to_class(self) -> Option<u64> {
                Some(self as u64)
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }
    )*};
}
unsigned_label!(u8, u16, u32, u64, usize);

macro_rules! signed_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline(always)]
            fn to_class(self) -> Option<u64> {
                u64::try_from(self).ok()
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
        }
    )*};
}
signed_label!(i8, i16, i32, i64);

impl Label for bool {
    #[inline(always)]
    fn to_class(self) -> Option<u64> {
        Some(self as u64)
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
}
