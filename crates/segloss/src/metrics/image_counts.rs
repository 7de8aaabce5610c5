//! Per-image, per-class counts kept for image-wise averaging.

use super::Counts;
use crate::error::{Error, Result};

/// Each image's per-class [`Counts`], in the order the images were counted.
///
/// Stored flat: image `i`'s counts are `classes` consecutive entries. Merging two
/// accumulators appends the other's images after this one's.
///
/// # Examples
/// ```
/// use segloss::metrics::{Counts, ImageCounts};
/// let mut ic = ImageCounts::new(1);
/// ic.push(&[Counts::new(1, 0, 0, 3)]).unwrap();
/// ic.push(&[Counts::new(0, 0, 0, 4)]).unwrap();
/// assert_eq!(ic.len(), 2);
/// assert_eq!(ic.image(1), &[Counts::new(0, 0, 0, 4)]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImageCounts {
    classes: usize,
    counts: Vec<Counts>,
}

impl ImageCounts {
    /// No images, `classes` classes per image.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            counts: Vec::new(),
        }
    }

    /// Classes per image.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.counts.len().checked_div(self.classes).unwrap_or(0)
    }

    /// Whether no image has been counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Image `i`'s per-class counts.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn image(&self, i: usize) -> &[Counts] {
        &self.counts[i * self.classes..(i + 1) * self.classes]
    }

    /// Iterates over the images' per-class counts.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[Counts]> + '_ {
        self.counts.chunks_exact(self.classes.max(1))
    }

    /// Appends one image.
    ///
    /// # Errors
    /// [`Error::SizeMismatch`] if `counts.len()` is not the number of classes.
    pub fn push(&mut self, counts: &[Counts]) -> Result<()> {
        if counts.len() != self.classes {
            return Err(Error::SizeMismatch {
                op: "image counts",
                lhs: "classes per image",
                lhs_len: self.classes,
                rhs: "pushed counts",
                rhs_len: counts.len(),
            });
        }
        self.counts.extend_from_slice(counts);
        Ok(())
    }

    /// Appends `other`'s images after these.
    ///
    /// # Errors
    /// [`Error::Incompatible`] if the numbers of classes differ.
    pub fn merge(&mut self, other: &ImageCounts) -> Result<()> {
        if other.classes != self.classes {
            return Err(Error::Incompatible {
                op: "merge",
                what: "classes per image",
                expected: self.classes.to_string(),
                found: other.classes.to_string(),
            });
        }
        self.counts.extend_from_slice(&other.counts);
        Ok(())
    }

    /// Forgets every image.
    pub fn clear(&mut self) {
        self.counts.clear();
    }

    /// Checks internal consistency (used after deserialising).
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        if self.classes == 0 || !self.counts.len().is_multiple_of(self.classes) {
            return Err(Error::Incompatible {
                op,
                what: "per-image counts",
                expected: format!("a multiple of {} entries", self.classes),
                found: self.counts.len().to_string(),
            });
        }
        Ok(())
    }

    /// Appends images without checking their length (the kernels produce exact chunks).
    pub(crate) fn extend_unchecked(&mut self, counts: &[Counts]) {
        debug_assert_eq!(counts.len() % self.classes.max(1), 0);
        self.counts.extend_from_slice(counts);
    }
}
