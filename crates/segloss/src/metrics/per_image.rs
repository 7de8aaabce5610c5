//! Whether an accumulator keeps per-image counts.

/// Whether an accumulator keeps each image's per-class [`Counts`](crate::metrics::Counts)
/// besides the totals, so that [`Average::ImageWise`](crate::metrics::Average::ImageWise)
/// scores can be computed. Pixels are never kept: an image costs `4·classes` `u64`s.
///
/// # Examples
/// ```
/// use segloss::metrics::PerImage;
/// assert_eq!(PerImage::default(), PerImage::Off);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PerImage {
    /// Keep only the totals (default).
    #[default]
    Off,
    /// Keep each image's per-class counts too.
    Keep,
}
