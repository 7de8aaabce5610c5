//! The `N×C×spatial` shape of a batch of images or volumes.

use crate::error::{Error, Result};

/// The shape of a batch in `N×C×spatial` layout (row-major, like PyTorch's `NCHW`/`NCDHW`).
///
/// Element `(n, c, s)` of a flat buffer lives at index `(n·C + c)·S + s`, where `S` is the
/// product of the spatial dimensions. Index targets for multi-class losses have shape
/// `N×spatial` (no channel axis) and element `(n, s)` lives at `n·S + s`.
///
/// # Examples
/// ```
/// use segloss::Shape;
/// let s = Shape::new(&[8, 3, 64, 64]).unwrap();
/// assert_eq!((s.batch(), s.channels(), s.spatial_len()), (8, 3, 4096));
/// assert_eq!(s.len(), 8 * 3 * 4096);
/// assert_eq!(s.index_len(), 8 * 4096);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Shape {
    dims: Vec<usize>,
    spatial_len: usize,
    len: usize,
}

impl Shape {
    /// Checks and wraps `dims = [N, C, D1, D2, ...]`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if there are fewer than three dimensions (at least one
    /// spatial axis), any dimension is zero, or the element count overflows `usize`.
    pub fn new(dims: &[usize]) -> Result<Self> {
        let bad = |reason| Error::InvalidShape {
            op: "shape",
            shape: dims.to_vec(),
            reason,
        };
        if dims.len() < 3 {
            return Err(bad("expected N, C and at least one spatial dimension"));
        }
        if dims.contains(&0) {
            return Err(bad("every dimension must be at least 1"));
        }
        let product = |ds: &[usize]| ds.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let overflow = || bad("element count overflows usize");
        let spatial_len = product(&dims[2..]).ok_or_else(overflow)?;
        let len = product(dims).ok_or_else(overflow)?;
        Ok(Self {
            dims: dims.to_vec(),
            spatial_len,
            len,
        })
    }

    /// All dimensions, `[N, C, D1, ...]`.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// `N`, the number of images in the batch.
    pub fn batch(&self) -> usize {
        self.dims[0]
    }

    /// `C`, the number of channels (classes).
    pub fn channels(&self) -> usize {
        self.dims[1]
    }

    /// The spatial dimensions `[D1, D2, ...]`.
    pub fn spatial(&self) -> &[usize] {
        &self.dims[2..]
    }

    /// `S`, the number of spatial elements of one image (product of the spatial dimensions).
    pub fn spatial_len(&self) -> usize {
        self.spatial_len
    }

    /// `N·C·S`, the number of elements of a logits buffer.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a valid shape has at least one element.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `N·S`, the number of elements of an index-target buffer (no channel axis).
    pub fn index_len(&self) -> usize {
        self.dims[0] * self.spatial_len
    }

    /// Checks that `buf_len` equals [`Shape::len`].
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] naming `op` and `input` otherwise.
    pub fn check_len(&self, op: &'static str, input: &'static str, buf_len: usize) -> Result<()> {
        self.check(op, input, self.len, buf_len)
    }

    /// Checks that `buf_len` equals [`Shape::index_len`].
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] naming `op` and `input` otherwise.
    pub fn check_index_len(
        &self,
        op: &'static str,
        input: &'static str,
        buf_len: usize,
    ) -> Result<()> {
        self.check(op, input, self.index_len(), buf_len)
    }

    fn check(
        &self,
        op: &'static str,
        input: &'static str,
        expected: usize,
        found: usize,
    ) -> Result<()> {
        if expected == found {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                op,
                input,
                expected,
                found,
                shape: self.dims.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_shapes() {
        assert!(Shape::new(&[2, 3]).is_err());
        assert!(Shape::new(&[2, 0, 4]).is_err());
        assert!(Shape::new(&[usize::MAX, 2, 2]).is_err());
        let s = Shape::new(&[1, 4, 3, 4, 5]).unwrap();
        assert_eq!(s.spatial(), &[3, 4, 5]);
        assert_eq!(s.len(), 240);
        let e = s.check_len("ce", "logits", 239).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ce: logits has 239 elements, expected 240 (shape [1, 4, 3, 4, 5])"
        );
    }
}
