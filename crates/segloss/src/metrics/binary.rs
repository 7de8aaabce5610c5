//! Binary confusion counts: one foreground class against the background.

use super::confusion_matrix::shift_index;
use super::kernel::{self, ScoreKind, Tally};
use super::{
    Average, Averaged, Conventions, Counts, ImageCounts, Metric, PerImage, Real, Report,
    check_threshold,
};
use crate::error::{Error, Result};
use crate::label::Label;
use crate::shape::Shape;

const OP: &str = "binary confusion";

/// Settings of a [`BinaryConfusion`], validated by [`BinaryConfusionConfig::init`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `threshold` | `0.5` | positive iff probability `≥ threshold` (logits: `σ(x) ≥ threshold`) |
/// | `ignore_index` | none | truth pixels with this value count nowhere |
/// | `per_image` | [`PerImage::Off`] | keep per-image counts for image-wise averages |
///
/// # Examples
/// ```
/// use segloss::metrics::{BinaryConfusionConfig, PerImage};
/// let m = BinaryConfusionConfig::new()
///     .with_ignore_index(255)
///     .with_per_image(PerImage::Keep)
///     .init()
///     .unwrap();
/// assert_eq!(m.ignore_index(), Some(255));
/// assert!(BinaryConfusionConfig::new().with_threshold(1.5).init().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BinaryConfusionConfig {
    /// Probability threshold, in `(0, 1)`. Default `0.5`.
    pub threshold: f64,
    /// Truth label that is ignored. Default `None`.
    pub ignore_index: Option<i64>,
    /// Whether to keep per-image counts. Default [`PerImage::Off`].
    pub per_image: PerImage,
}

impl Default for BinaryConfusionConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            ignore_index: None,
            per_image: PerImage::Off,
        }
    }
}

impl BinaryConfusionConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the probability threshold.
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
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

    /// Validates the settings into an empty accumulator.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a threshold outside `(0, 1)`.
    pub fn init(self) -> Result<BinaryConfusion> {
        check_threshold(self.threshold)?;
        Ok(BinaryConfusion {
            images: (self.per_image == PerImage::Keep).then(|| ImageCounts::new(1)),
            config: self,
            counts: Counts::default(),
            ignored: 0,
        })
    }
}

/// Streaming binary confusion counts (`TP, FP, FN, TN` as `u64`), mergeable across batches,
/// threads and machines.
///
/// Truth labels are `0` (negative), `1` (positive) or the ignore label; predictions are
/// hard labels `0`/`1`, probabilities or logits. Pixels whose truth is the ignore label are
/// skipped whatever their prediction.
///
/// # Examples
/// ```
/// use segloss::metrics::{BinaryConfusion, Counts};
/// let truth = [1u8, 1, 0, 0, 255];
/// let pred = [1u8, 0, 1, 0, 1];
/// let mut m = BinaryConfusion::new();
/// m.update(&truth[..4], &pred[..4]).unwrap();
/// assert_eq!(m.counts(), Counts::new(1, 1, 1, 1)); // TP, FP, FN, TN
/// assert!(m.update(&truth, &pred).is_err()); // 255 is not a label without an ignore index
/// let mut ign = segloss::metrics::BinaryConfusionConfig::new().with_ignore_index(255).init().unwrap();
/// ign.update(&truth, &pred).unwrap();
/// assert_eq!((ign.counts(), ign.ignored()), (Counts::new(1, 1, 1, 1), 1));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BinaryConfusion {
    config: BinaryConfusionConfig,
    counts: Counts,
    ignored: u64,
    images: Option<ImageCounts>,
}

impl Default for BinaryConfusion {
    fn default() -> Self {
        Self::new()
    }
}

impl BinaryConfusion {
    /// An empty accumulator with the default settings ([`BinaryConfusionConfig`]).
    pub fn new() -> Self {
        Self {
            config: BinaryConfusionConfig::default(),
            counts: Counts::default(),
            ignored: 0,
            images: None,
        }
    }

    /// An accumulator holding `counts` (default settings), e.g. to score known counts.
    ///
    /// ```
    /// use segloss::metrics::{BinaryConfusion, Counts};
    /// let m = BinaryConfusion::from_counts(Counts::new(20, 5, 10, 65));
    /// assert_eq!(m.report(&Default::default()).unwrap().classes[0].scores.precision, Some(0.8));
    /// ```
    pub fn from_counts(counts: Counts) -> Self {
        Self {
            counts,
            ..Self::new()
        }
    }

    /// The settings.
    pub fn config(&self) -> &BinaryConfusionConfig {
        &self.config
    }

    /// The ignore label, if any.
    pub fn ignore_index(&self) -> Option<i64> {
        self.config.ignore_index
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Number of ignored pixels so far.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Per-image counts, if kept.
    pub fn images(&self) -> Option<&ImageCounts> {
        self.images.as_ref()
    }

    fn commit(&mut self, tallies: &[Tally]) {
        for t in tallies {
            self.counts.add(&t.counts);
            self.ignored += t.ignored;
        }
        if let Some(images) = &mut self.images {
            let per: Vec<Counts> = tallies.iter().map(|t| t.counts).collect();
            images.extend_unchecked(&per);
        }
    }

    /// Runs `count(offset, len)` on each of `images` images of `size` pixels when per-image
    /// counts are kept (on everything at once otherwise), then commits all or nothing.
    fn each_image(
        &mut self,
        images: usize,
        size: usize,
        mut count: impl FnMut(usize, usize) -> Result<Tally>,
    ) -> Result<()> {
        let tallies = if self.images.is_some() {
            (0..images)
                .map(|n| count(n * size, size))
                .collect::<Result<Vec<_>>>()?
        } else {
            vec![count(0, images * size)?]
        };
        self.commit(&tallies);
        Ok(())
    }

    /// Counts one image of hard labels: `truth` in `{0, 1, ignore}`, `pred` in `{0, 1}`.
    ///
    /// # Errors
    /// [`Error::SizeMismatch`] for different lengths; [`Error::LabelOutOfRange`] /
    /// [`Error::NegativeLabel`] for a label that is not 0, 1 (or, in truth, the ignore
    /// label). Nothing is counted on error.
    pub fn update<T: Label, P: Label>(&mut self, truth: &[T], pred: &[P]) -> Result<()> {
        let t = kernel::binary_labels(OP, truth, pred, self.config.ignore_index)?;
        self.commit(&[t]);
        Ok(())
    }

    /// Counts `images` equally sized images of hard labels laid end to end.
    ///
    /// # Errors
    /// As [`BinaryConfusion::update`], plus [`Error::InvalidShape`] if `images` is 0 or does
    /// not divide the length. Nothing is counted on error.
    ///
    /// ```
    /// use segloss::metrics::{Average, BinaryConfusionConfig, Metric, PerImage};
    /// let mut m = BinaryConfusionConfig::new().with_per_image(PerImage::Keep).init().unwrap();
    /// m.update_images(&[1u8, 0, 0, 0], &[1u8, 1, 0, 0], 2).unwrap();
    /// let iw = m.score(Metric::DICE, Average::ImageWise, &Default::default()).unwrap();
    /// assert_eq!(iw.value(), Some((2.0 / 3.0 + 1.0) / 2.0));
    /// ```
    pub fn update_images<T: Label, P: Label>(
        &mut self,
        truth: &[T],
        pred: &[P],
        images: usize,
    ) -> Result<()> {
        kernel::check_same_len(OP, "truth", truth.len(), "pred", pred.len())?;
        let size = image_size(truth.len(), images)?;
        let ig = self.config.ignore_index;
        self.each_image(images, size, |off, len| {
            let r = off..off + len;
            kernel::binary_labels(OP, &truth[r.clone()], &pred[r], ig)
                .map_err(|e| shift_index(e, off))
        })
    }

    /// Counts a batch of probabilities (`shape = N×1×spatial`, `truth` and `probs` both
    /// `shape.len()` long); positive iff `p ≥ threshold`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if `C ≠ 1`; [`Error::LengthMismatch`] for buffers that do
    /// not match `shape`; [`Error::NonFinite`] or [`Error::OutOfRange`] for a probability
    /// that is not in `[0, 1]` (checked everywhere, even at ignored pixels); label errors
    /// as [`BinaryConfusion::update`]. Nothing is counted on error.
    ///
    /// ```
    /// use segloss::{metrics::{BinaryConfusion, Counts}, Shape};
    /// let mut m = BinaryConfusion::new();
    /// let shape = Shape::new(&[1, 1, 4]).unwrap();
    /// m.update_probs(&[1u8, 1, 0, 0], &[0.9f32, 0.2, 0.5, 0.1], &shape).unwrap();
    /// assert_eq!(m.counts(), Counts::new(1, 1, 1, 1));
    /// ```
    pub fn update_probs<T: Label, R: Real>(
        &mut self,
        truth: &[T],
        probs: &[R],
        shape: &Shape,
    ) -> Result<()> {
        self.update_scores(truth, probs, shape, ScoreKind::Probability)
    }

    /// Counts a batch of logits (`shape = N×1×spatial`); positive iff `σ(x) ≥ threshold`.
    ///
    /// # Errors
    /// As [`BinaryConfusion::update_probs`], with [`Error::NonFinite`] for a non-finite
    /// logit. Nothing is counted on error.
    ///
    /// ```
    /// use segloss::{metrics::{BinaryConfusion, Counts}, Shape};
    /// let mut m = BinaryConfusion::new();
    /// let shape = Shape::new(&[2, 1, 2]).unwrap();
    /// m.update_logits(&[1u8, 0, 1, 0], &[3.0f32, -1.0, -0.5, 0.0], &shape).unwrap();
    /// assert_eq!(m.counts(), Counts::new(1, 1, 1, 1));
    /// ```
    pub fn update_logits<T: Label, R: Real>(
        &mut self,
        truth: &[T],
        logits: &[R],
        shape: &Shape,
    ) -> Result<()> {
        self.update_scores(truth, logits, shape, ScoreKind::Logit)
    }

    fn update_scores<T: Label, R: Real>(
        &mut self,
        truth: &[T],
        scores: &[R],
        shape: &Shape,
        kind: ScoreKind,
    ) -> Result<()> {
        if shape.channels() != 1 {
            return Err(Error::InvalidShape {
                op: OP,
                shape: shape.dims().to_vec(),
                reason: "binary scores need exactly one channel (C = 1)",
            });
        }
        shape.check_len(OP, "truth", truth.len())?;
        shape.check_len(OP, kind.input(), scores.len())?;
        let (th, ig) = (self.config.threshold, self.config.ignore_index);
        self.each_image(shape.batch(), shape.spatial_len(), |off, len| {
            let r = off..off + len;
            kernel::binary_scores(OP, &truth[r.clone()], &scores[r], kind, th, ig, off)
        })
    }

    /// Adds `other`'s counts (and images, after these) to these.
    ///
    /// # Errors
    /// [`Error::Incompatible`] if the settings differ (threshold, ignore label or per-image
    /// mode); nothing is merged then.
    ///
    /// ```
    /// use segloss::metrics::{BinaryConfusion, Counts};
    /// let mut a = BinaryConfusion::from_counts(Counts::new(1, 2, 3, 4));
    /// a.merge(&BinaryConfusion::from_counts(Counts::new(1, 1, 1, 1))).unwrap();
    /// assert_eq!(a.counts(), Counts::new(2, 3, 4, 5));
    /// ```
    pub fn merge(&mut self, other: &BinaryConfusion) -> Result<()> {
        let (a, b) = (&self.config, &other.config);
        if a.threshold != b.threshold {
            return Err(incompatible("threshold", a.threshold, b.threshold));
        }
        if a.ignore_index != b.ignore_index {
            return Err(incompatible("ignore index", a.ignore_index, b.ignore_index));
        }
        if a.per_image != b.per_image {
            return Err(incompatible("per-image mode", a.per_image, b.per_image));
        }
        if let (Some(mine), Some(theirs)) = (&self.images, &other.images) {
            theirs.check("merge")?;
            if mine.classes() != theirs.classes() {
                return Err(incompatible(
                    "classes per image",
                    mine.classes(),
                    theirs.classes(),
                ));
            }
        }
        self.counts.add(&other.counts);
        self.ignored += other.ignored;
        if let (Some(mine), Some(theirs)) = (&mut self.images, &other.images) {
            mine.merge(theirs)?;
        }
        Ok(())
    }

    /// Forgets every count, keeping the settings.
    pub fn reset(&mut self) {
        self.counts = Counts::default();
        self.ignored = 0;
        if let Some(images) = &mut self.images {
            images.clear();
        }
    }

    /// The `metric` under `average` (see [`Average`]; the one class is the positive class).
    ///
    /// # Errors
    /// As [`crate::metrics::average`].
    ///
    /// ```
    /// use segloss::metrics::{Average, BinaryConfusion, Counts, Metric};
    /// let m = BinaryConfusion::from_counts(Counts::new(20, 5, 10, 65));
    /// let f1 = m.score(Metric::F1, Average::Micro, &Default::default()).unwrap();
    /// assert_eq!(f1.value(), Some(40.0 / 55.0));
    /// ```
    pub fn score(&self, metric: Metric, average: Average, conv: &Conventions) -> Result<Averaged> {
        super::average(&[self.counts], self.images.as_ref(), metric, average, conv)
    }

    /// Every score of the positive class, and image-wise means if per-image counts are kept.
    ///
    /// # Errors
    /// None in practice (the report's metrics have no parameters); the `Result` keeps the
    /// signature uniform.
    pub fn report(&self, conv: &Conventions) -> Result<Report> {
        Report::from_classes(
            &[self.counts],
            &[1],
            self.images.as_ref(),
            self.ignored,
            super::Overall::from_counts(&self.counts, conv),
            conv,
        )
    }
}

/// Pixels per image, checking that `images` divides `len`.
pub(crate) fn image_size(len: usize, images: usize) -> Result<usize> {
    if images == 0 || !len.is_multiple_of(images) {
        return Err(Error::InvalidShape {
            op: "per-image update",
            shape: vec![images, len],
            reason: "the number of images must be at least 1 and divide the number of pixels",
        });
    }
    Ok(len / images)
}

fn incompatible<V: std::fmt::Debug>(what: &'static str, expected: V, found: V) -> Error {
    Error::Incompatible {
        op: "merge",
        what,
        expected: format!("{expected:?}"),
        found: format!("{found:?}"),
    }
}

pub(crate) fn incompatible_pub<V: std::fmt::Debug>(
    what: &'static str,
    expected: V,
    found: V,
) -> Error {
    incompatible(what, expected, found)
}
