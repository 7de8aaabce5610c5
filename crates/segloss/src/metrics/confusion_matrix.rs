//! The multi-class confusion matrix.

use super::binary::{image_size, incompatible_pub as incompatible};
use super::kernel;
use super::{
    Average, Averaged, Conventions, Counts, ImageCounts, Metric, Overall, PerImage, Real, Report,
};
use crate::error::{Error, Result};
use crate::label::Label;
use crate::shape::Shape;

const OP: &str = "confusion matrix";

/// Settings of a [`ConfusionMatrix`], validated by [`ConfusionMatrixConfig::init`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `classes` | required | `k`, the number of classes (`≥ 1`) |
/// | `ignore_index` | none | truth pixels with this value count nowhere |
/// | `per_image` | [`PerImage::Off`] | keep per-image per-class counts |
///
/// # Examples
/// ```
/// use segloss::metrics::ConfusionMatrixConfig;
/// let m = ConfusionMatrixConfig::new(6).with_ignore_index(255).init().unwrap();
/// assert_eq!(m.classes(), 6);
/// assert!(ConfusionMatrixConfig::new(0).init().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfusionMatrixConfig {
    /// Number of classes `k`.
    pub classes: usize,
    /// Truth label that is ignored. Default `None`.
    pub ignore_index: Option<i64>,
    /// Whether to keep per-image counts. Default [`PerImage::Off`].
    pub per_image: PerImage,
}

impl ConfusionMatrixConfig {
    /// `classes` classes, the other settings at their defaults.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            ignore_index: None,
            per_image: PerImage::Off,
        }
    }

    /// Sets the ignore label.
    pub fn with_ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = Some(ignore_index);
        self
    }

    /// Sets whether per-image counts are kept.
    pub fn with_per_image(mut self, per_image: PerImage) -> Self {
        self.per_image = per_image;
        self
    }

    /// Validates the settings into an empty matrix.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `classes` is 0 or above 65 536 (the matrix would not
    /// fit a sensible memory budget).
    pub fn init(self) -> Result<ConfusionMatrix> {
        if self.classes == 0 || self.classes > 1 << 16 {
            return Err(Error::InvalidParameter {
                name: "classes",
                value: self.classes.to_string(),
                rule: "must be between 1 and 65536",
            });
        }
        Ok(ConfusionMatrix {
            matrix: vec![0; self.classes * self.classes],
            images: (self.per_image == PerImage::Keep).then(|| ImageCounts::new(self.classes)),
            config: self,
            ignored: 0,
        })
    }
}

/// A streaming `k × k` confusion matrix of `u64` counts.
///
/// **Layout: rows are the truth, columns the prediction**: `get(i, j)` counts the pixels of
/// true class `i` predicted as class `j` (scikit-learn's `confusion_matrix(y_true, y_pred)`),
/// stored row-major. Class `i` is scored one against the rest ([`Counts`]).
///
/// Predictions come as hard labels or as the argmax over the channel axis of `N×C×spatial`
/// scores. Pixels whose truth is the ignore label are skipped whatever their prediction.
///
/// # Examples
/// ```
/// use segloss::metrics::{ConfusionMatrixConfig, Counts};
/// let mut m = ConfusionMatrixConfig::new(3).init().unwrap();
/// m.update(&[0u8, 1, 2, 2], &[0u8, 2, 2, 1]).unwrap();
/// assert_eq!(m.get(2, 1), 1); // truth 2 predicted 1
/// assert_eq!(m.matrix(), &[1, 0, 0, 0, 0, 1, 0, 1, 1]);
/// assert_eq!(m.class_counts()[2], Counts::new(1, 1, 1, 1));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfusionMatrix {
    config: ConfusionMatrixConfig,
    matrix: Vec<u64>,
    ignored: u64,
    images: Option<ImageCounts>,
}

impl ConfusionMatrix {
    /// An empty matrix of `classes` classes with default settings.
    ///
    /// # Errors
    /// As [`ConfusionMatrixConfig::init`].
    pub fn new(classes: usize) -> Result<Self> {
        ConfusionMatrixConfig::new(classes).init()
    }

    /// A matrix holding known counts (`matrix` row-major, rows = truth), default settings.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a bad `classes`; [`Error::SizeMismatch`] if
    /// `matrix.len() ≠ classes²`.
    ///
    /// ```
    /// use segloss::metrics::ConfusionMatrix;
    /// let m = ConfusionMatrix::from_matrix(2, vec![65, 5, 10, 20]).unwrap();
    /// assert_eq!(m.class_counts()[1].tp, 20);
    /// ```
    pub fn from_matrix(classes: usize, matrix: Vec<u64>) -> Result<Self> {
        let mut m = Self::new(classes)?;
        kernel::check_same_len(OP, "matrix", matrix.len(), "classes²", classes * classes)?;
        m.matrix = matrix;
        Ok(m)
    }

    /// The settings.
    pub fn config(&self) -> &ConfusionMatrixConfig {
        &self.config
    }

    /// `k`, the number of classes.
    pub fn classes(&self) -> usize {
        self.config.classes
    }

    /// The ignore label, if any.
    pub fn ignore_index(&self) -> Option<i64> {
        self.config.ignore_index
    }

    /// The matrix, row-major, `k²` entries; rows = truth, columns = prediction.
    pub fn matrix(&self) -> &[u64] {
        &self.matrix
    }

    /// Pixels of true class `truth` predicted as `pred`.
    ///
    /// # Panics
    /// If either index is `≥ k`.
    pub fn get(&self, truth: usize, pred: usize) -> u64 {
        let k = self.classes();
        assert!(truth < k && pred < k, "class index out of range");
        self.matrix[truth * k + pred]
    }

    /// Number of ignored pixels so far.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Counted pixels so far (the sum of the matrix).
    pub fn total(&self) -> u64 {
        self.matrix.iter().sum()
    }

    /// Per-image per-class counts, if kept.
    pub fn images(&self) -> Option<&ImageCounts> {
        self.images.as_ref()
    }

    /// One-against-the-rest counts of every class (see [`Counts`]).
    pub fn class_counts(&self) -> Vec<Counts> {
        class_counts(&self.matrix, self.classes())
    }

    fn commit(&mut self, matrices: &[Vec<u64>], ignored: u64) {
        let k = self.classes();
        for m in matrices {
            for (a, b) in self.matrix.iter_mut().zip(m) {
                *a += b;
            }
            if let Some(images) = &mut self.images {
                images.extend_unchecked(&class_counts(m, k));
            }
        }
        self.ignored += ignored;
    }

    /// Counts one image of hard labels, `truth` and `pred` in `0..k` (truth may also be
    /// the ignore label).
    ///
    /// # Errors
    /// [`Error::SizeMismatch`] for different lengths; [`Error::LabelOutOfRange`] or
    /// [`Error::NegativeLabel`] for a label outside `0..k` (other than the ignore label in
    /// truth). Nothing is counted on error.
    pub fn update<T: Label, P: Label>(&mut self, truth: &[T], pred: &[P]) -> Result<()> {
        self.update_images(truth, pred, 1)
    }

    /// Counts `images` equally sized images of hard labels laid end to end.
    ///
    /// # Errors
    /// As [`ConfusionMatrix::update`], plus [`Error::InvalidShape`] if `images` is 0 or does
    /// not divide the length. Nothing is counted on error.
    pub fn update_images<T: Label, P: Label>(
        &mut self,
        truth: &[T],
        pred: &[P],
        images: usize,
    ) -> Result<()> {
        kernel::check_same_len(OP, "truth", truth.len(), "pred", pred.len())?;
        let size = image_size(truth.len(), images)?;
        let (k, ig) = (self.classes(), self.config.ignore_index);
        let parts = if self.images.is_some() { images } else { 1 };
        let step = if self.images.is_some() {
            size
        } else {
            truth.len()
        };
        let mut mats = Vec::with_capacity(parts);
        let mut ignored = 0;
        for n in 0..parts {
            let r = n * step..(n + 1) * step;
            let mut m = vec![0u64; k * k];
            ignored += kernel::matrix_labels(OP, &truth[r.clone()], &pred[r], k, ig, &mut m)
                .map_err(|e| shift_index(e, n * step))?;
            mats.push(m);
        }
        self.commit(&mats, ignored);
        Ok(())
    }

    /// Counts a batch: the prediction of pixel `(n, s)` is the argmax over `c` of
    /// `scores[(n·C + c)·S + s]` (probabilities or logits alike; ties go to the lowest
    /// class), `truth` has `shape.index_len()` labels, `C` must equal `k`.
    ///
    /// # Errors
    /// [`Error::Incompatible`] if `C ≠ k`; [`Error::LengthMismatch`] for buffers that do not
    /// match `shape`; [`Error::NonFinite`] for a non-finite score; label errors as
    /// [`ConfusionMatrix::update`]. Nothing is counted on error.
    ///
    /// ```
    /// use segloss::{metrics::ConfusionMatrix, Shape};
    /// let mut m = ConfusionMatrix::new(3).unwrap();
    /// let shape = Shape::new(&[1, 3, 2]).unwrap(); // one image, 3 classes, 2 pixels
    /// // channel-major: class 0 scores, class 1 scores, class 2 scores
    /// let logits = [0.1f32, 2.0, 0.5, 0.0, 3.0, -1.0];
    /// m.update_argmax(&[2u8, 0], &logits, &shape).unwrap();
    /// assert_eq!((m.get(2, 2), m.get(0, 0)), (1, 1));
    /// ```
    pub fn update_argmax<T: Label, R: Real>(
        &mut self,
        truth: &[T],
        scores: &[R],
        shape: &Shape,
    ) -> Result<()> {
        let k = self.classes();
        if shape.channels() != k {
            return Err(Error::Incompatible {
                op: OP,
                what: "number of channels",
                expected: k.to_string(),
                found: shape.channels().to_string(),
            });
        }
        shape.check_index_len(OP, "truth", truth.len())?;
        shape.check_len(OP, "scores", scores.len())?;
        let s = shape.spatial_len();
        let ig = self.config.ignore_index;
        let keep = self.images.is_some();
        let mut mats: Vec<Vec<u64>> = Vec::new();
        let mut ignored = 0;
        let mut m = vec![0u64; k * k];
        for n in 0..shape.batch() {
            let t = &truth[n * s..(n + 1) * s];
            let sc = &scores[n * k * s..(n + 1) * k * s];
            ignored += kernel::argmax_matrix(OP, t, sc, k, ig, n * s, n * k * s, &mut m)?;
            if keep {
                mats.push(std::mem::replace(&mut m, vec![0u64; k * k]));
            }
        }
        if !keep {
            mats.push(m);
        }
        self.commit(&mats, ignored);
        Ok(())
    }

    /// Adds `other`'s counts (and images, after these) to these.
    ///
    /// # Errors
    /// [`Error::Incompatible`] if the settings differ (number of classes, ignore label,
    /// per-image mode) or `other` is inconsistent; nothing is merged then.
    ///
    /// ```
    /// use segloss::metrics::ConfusionMatrix;
    /// let mut a = ConfusionMatrix::from_matrix(2, vec![1, 2, 3, 4]).unwrap();
    /// a.merge(&ConfusionMatrix::from_matrix(2, vec![1, 1, 1, 1]).unwrap()).unwrap();
    /// assert_eq!(a.matrix(), &[2, 3, 4, 5]);
    /// assert!(a.merge(&ConfusionMatrix::new(3).unwrap()).is_err());
    /// ```
    pub fn merge(&mut self, other: &ConfusionMatrix) -> Result<()> {
        let (a, b) = (&self.config, &other.config);
        if a.classes != b.classes {
            return Err(incompatible("number of classes", a.classes, b.classes));
        }
        if a.ignore_index != b.ignore_index {
            return Err(incompatible("ignore index", a.ignore_index, b.ignore_index));
        }
        if a.per_image != b.per_image {
            return Err(incompatible("per-image mode", a.per_image, b.per_image));
        }
        other.check()?;
        for (x, y) in self.matrix.iter_mut().zip(&other.matrix) {
            *x += y;
        }
        self.ignored += other.ignored;
        if let (Some(mine), Some(theirs)) = (&mut self.images, &other.images) {
            mine.merge(theirs)?;
        }
        Ok(())
    }

    /// Checks internal consistency, e.g. of a deserialised state.
    ///
    /// # Errors
    /// [`Error::Incompatible`] if the matrix is not `k²` long, the per-image mode and the
    /// stored images disagree, or the images have a different number of classes.
    pub fn check(&self) -> Result<()> {
        let k = self.classes();
        if self.matrix.len() != k * k {
            return Err(Error::Incompatible {
                op: "confusion matrix state",
                what: "matrix length",
                expected: (k * k).to_string(),
                found: self.matrix.len().to_string(),
            });
        }
        match (&self.images, self.config.per_image) {
            (Some(im), PerImage::Keep) if im.classes() == k => im.check("confusion matrix state"),
            (None, PerImage::Off) => Ok(()),
            _ => Err(Error::Incompatible {
                op: "confusion matrix state",
                what: "per-image counts",
                expected: format!("{:?} with {k} classes", self.config.per_image),
                found: format!("{:?}", self.images.as_ref().map(ImageCounts::classes)),
            }),
        }
    }

    /// Forgets every count, keeping the settings.
    pub fn reset(&mut self) {
        self.matrix.fill(0);
        self.ignored = 0;
        if let Some(images) = &mut self.images {
            images.clear();
        }
    }

    /// Multi-class scores of the whole matrix: accuracy `trace / n`, balanced accuracy
    /// (mean recall over classes with support) and MCC, Gorodkin's R_K:
    /// `(c·n − Σ t_k p_k) / √((n² − Σ p_k²)(n² − Σ t_k²))` with `c` the trace, `t_k` row and
    /// `p_k` column sums (computed exactly in `u128`, then in `f64`). A vanishing MCC
    /// denominator gives the `0/0` value if the prediction is perfect, else 0.
    ///
    /// ```
    /// use segloss::metrics::ConfusionMatrix;
    /// let m = ConfusionMatrix::from_matrix(2, vec![65, 5, 10, 20]).unwrap();
    /// let o = m.overall(&Default::default());
    /// assert!((o.mcc.unwrap() - 0.629940788348712).abs() < 1e-12);
    /// ```
    pub fn overall(&self, conv: &Conventions) -> Overall {
        let zd = conv.zero_division;
        let k = self.classes();
        let n: u64 = self.total();
        let trace: u64 = (0..k).map(|i| self.matrix[i * k + i]).sum();
        let rows: Vec<u64> = (0..k)
            .map(|i| self.matrix[i * k..(i + 1) * k].iter().sum())
            .collect();
        let cols: Vec<u64> = (0..k)
            .map(|j| (0..k).map(|i| self.matrix[i * k + j]).sum())
            .collect();
        let accuracy = zd.ratio(trace as f64, n as f64);
        let (rsum, rn) = (0..k)
            .filter(|&i| rows[i] > 0)
            .fold((0.0f64, 0u64), |(s, c), i| {
                (s + self.matrix[i * k + i] as f64 / rows[i] as f64, c + 1)
            });
        let balanced_accuracy = if rn == 0 {
            zd.value()
        } else {
            Some(rsum / rn as f64)
        };
        let n2 = (n as u128) * (n as u128);
        let tp_dot: u128 = rows
            .iter()
            .zip(&cols)
            .map(|(&t, &p)| t as u128 * p as u128)
            .sum();
        let pp: u128 = cols.iter().map(|&p| p as u128 * p as u128).sum();
        let tt: u128 = rows.iter().map(|&t| t as u128 * t as u128).sum();
        let cov_tp = (trace as u128 * n as u128) as f64 - tp_dot as f64;
        let (cov_pp, cov_tt) = ((n2 - pp) as f64, (n2 - tt) as f64);
        let mcc = if cov_pp == 0.0 || cov_tt == 0.0 {
            if trace == n { zd.value() } else { Some(0.0) }
        } else {
            Some(cov_tp / (cov_tt * cov_pp).sqrt())
        };
        Overall {
            accuracy,
            balanced_accuracy,
            mcc,
        }
    }

    /// The `metric` under `average` over the classes' one-against-the-rest counts.
    ///
    /// # Errors
    /// As [`crate::metrics::average`].
    ///
    /// ```
    /// use segloss::metrics::{Average, ConfusionMatrix, Conventions, Metric};
    /// let m = ConfusionMatrix::from_matrix(2, vec![65, 5, 10, 20]).unwrap();
    /// let iou = m.score(Metric::Iou, Average::PerClass, &Conventions::default()).unwrap();
    /// assert_eq!(iou.per_class().unwrap()[1], Some(20.0 / 35.0));
    /// ```
    pub fn score(&self, metric: Metric, average: Average, conv: &Conventions) -> Result<Averaged> {
        super::average(
            &self.class_counts(),
            self.images.as_ref(),
            metric,
            average,
            conv,
        )
    }

    /// Every score: per class, averages, image-wise (if kept) and overall.
    ///
    /// # Errors
    /// None in practice; the `Result` keeps the signature uniform.
    pub fn report(&self, conv: &Conventions) -> Result<Report> {
        let ids: Vec<usize> = (0..self.classes()).collect();
        Report::from_classes(
            &self.class_counts(),
            &ids,
            self.images.as_ref(),
            self.ignored,
            self.overall(conv),
            conv,
        )
    }
}

/// One-against-the-rest counts of a row-major `k × k` matrix.
pub(crate) fn class_counts(m: &[u64], k: usize) -> Vec<Counts> {
    let n: u64 = m.iter().sum();
    (0..k)
        .map(|i| {
            let tp = m[i * k + i];
            let row: u64 = m[i * k..(i + 1) * k].iter().sum();
            let col: u64 = (0..k).map(|r| m[r * k + i]).sum();
            Counts::new(tp, col - tp, row - tp, n - row - col + tp)
        })
        .collect()
}

/// Adds `offset` to the index of a label error found in a sub-slice.
pub(crate) fn shift_index(e: Error, offset: usize) -> Error {
    match e {
        Error::LabelOutOfRange {
            op,
            input,
            index,
            value,
            classes,
            ignore_index,
        } => Error::LabelOutOfRange {
            op,
            input,
            index: index + offset,
            value,
            classes,
            ignore_index,
        },
        Error::NegativeLabel {
            op,
            input,
            index,
            value,
            classes,
            ignore_index,
        } => Error::NegativeLabel {
            op,
            input,
            index: index + offset,
            value,
            classes,
            ignore_index,
        },
        other => other,
    }
}
