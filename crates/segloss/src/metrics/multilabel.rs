//! Multi-label counts: `C` independent binary problems, one per channel.

use super::binary::incompatible_pub as incompatible;
use super::confusion_matrix::shift_index;
use super::kernel::{self, ScoreKind, Tally};
use super::{
    Average, Averaged, Conventions, Counts, ImageCounts, Metric, Overall, PerImage, Real, Report,
    check_threshold,
};
use crate::error::{Error, Result};
use crate::label::Label;
use crate::shape::Shape;

const OP: &str = "multi-label confusion";

/// Settings of a [`MultiLabelConfusion`], validated by [`MultiLabelConfusionConfig::init`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `classes` | required | `C`, the number of channels (`≥ 1`) |
/// | `threshold` | `0.5` | positive iff probability `≥ threshold` (logits: `σ(x) ≥ threshold`) |
/// | `ignore_index` | none | truth elements with this value count nowhere |
/// | `per_image` | [`PerImage::Off`] | keep per-image per-class counts |
///
/// ```
/// use segloss::metrics::MultiLabelConfusionConfig;
/// assert_eq!(MultiLabelConfusionConfig::new(3).init().unwrap().classes(), 3);
/// assert!(MultiLabelConfusionConfig::new(0).init().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MultiLabelConfusionConfig {
    /// Number of channels `C`.
    pub classes: usize,
    /// Probability threshold in `(0, 1)`. Default `0.5`.
    pub threshold: f64,
    /// Truth label that is ignored. Default `None`.
    pub ignore_index: Option<i64>,
    /// Whether to keep per-image counts. Default [`PerImage::Off`].
    pub per_image: PerImage,
}

impl MultiLabelConfusionConfig {
    /// `classes` channels, other settings at their defaults.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            threshold: 0.5,
            ignore_index: None,
            per_image: PerImage::Off,
        }
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
    /// [`Error::InvalidParameter`] for `classes = 0` or a threshold outside `(0, 1)`.
    pub fn init(self) -> Result<MultiLabelConfusion> {
        if self.classes == 0 {
            return Err(Error::InvalidParameter {
                name: "classes",
                value: "0".into(),
                rule: "must be at least 1",
            });
        }
        check_threshold(self.threshold)?;
        Ok(MultiLabelConfusion {
            counts: vec![Counts::default(); self.classes],
            images: (self.per_image == PerImage::Keep).then(|| ImageCounts::new(self.classes)),
            config: self,
            ignored: 0,
        })
    }
}

/// Streaming per-channel binary counts for multi-label segmentation (`N×C×spatial` truth
/// and predictions, each channel its own yes/no question).
///
/// # Examples
/// ```
/// use segloss::{metrics::{Counts, MultiLabelConfusionConfig}, Shape};
/// let mut m = MultiLabelConfusionConfig::new(2).init().unwrap();
/// let shape = Shape::new(&[1, 2, 2]).unwrap();
/// // channel 0: truth [1, 0], channel 1: truth [1, 1]
/// m.update_logits(&[1u8, 0, 1, 1], &[2.0f32, 1.0, -3.0, 0.5], &shape).unwrap();
/// assert_eq!(m.class_counts()[0], Counts::new(1, 1, 0, 0));
/// assert_eq!(m.class_counts()[1], Counts::new(1, 0, 1, 0));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MultiLabelConfusion {
    config: MultiLabelConfusionConfig,
    counts: Vec<Counts>,
    ignored: u64,
    images: Option<ImageCounts>,
}

impl MultiLabelConfusion {
    /// The settings.
    pub fn config(&self) -> &MultiLabelConfusionConfig {
        &self.config
    }

    /// `C`, the number of channels.
    pub fn classes(&self) -> usize {
        self.config.classes
    }

    /// Per-channel counts.
    pub fn class_counts(&self) -> &[Counts] {
        &self.counts
    }

    /// Number of ignored elements so far.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Per-image per-class counts, if kept.
    pub fn images(&self) -> Option<&ImageCounts> {
        self.images.as_ref()
    }

    /// Counts a batch of hard labels, `truth` and `pred` both `N×C×spatial`
    /// (`shape.len()` elements) with values 0 or 1 (truth may also be the ignore label).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for buffers that do not match `shape`,
    /// [`Error::Incompatible`] if `C` differs, label errors as
    /// [`super::BinaryConfusion::update`]. Nothing is counted on error.
    pub fn update<T: Label, P: Label>(
        &mut self,
        truth: &[T],
        pred: &[P],
        shape: &Shape,
    ) -> Result<()> {
        self.check_shape(shape)?;
        shape.check_len(OP, "truth", truth.len())?;
        shape.check_len(OP, "pred", pred.len())?;
        let ig = self.config.ignore_index;
        self.each_plane(shape, |off, len| {
            let r = off..off + len;
            kernel::binary_labels(OP, &truth[r.clone()], &pred[r], ig)
                .map_err(|e| shift_index(e, off))
        })
    }

    /// Counts a batch of probabilities (`N×C×spatial`); positive iff `p ≥ threshold`.
    ///
    /// # Errors
    /// As [`MultiLabelConfusion::update`], plus [`Error::NonFinite`] / [`Error::OutOfRange`]
    /// for a probability outside `[0, 1]`. Nothing is counted on error.
    pub fn update_probs<T: Label, R: Real>(
        &mut self,
        truth: &[T],
        probs: &[R],
        shape: &Shape,
    ) -> Result<()> {
        self.update_scores(truth, probs, shape, ScoreKind::Probability)
    }

    /// Counts a batch of logits (`N×C×spatial`); positive iff `σ(x) ≥ threshold`.
    ///
    /// # Errors
    /// As [`MultiLabelConfusion::update`], plus [`Error::NonFinite`] for a non-finite logit.
    /// Nothing is counted on error.
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
        self.check_shape(shape)?;
        shape.check_len(OP, "truth", truth.len())?;
        shape.check_len(OP, kind.input(), scores.len())?;
        let (th, ig) = (self.config.threshold, self.config.ignore_index);
        self.each_plane(shape, |off, len| {
            let r = off..off + len;
            kernel::binary_scores(OP, &truth[r.clone()], &scores[r], kind, th, ig, off)
        })
    }

    fn check_shape(&self, shape: &Shape) -> Result<()> {
        if shape.channels() != self.classes() {
            return Err(Error::Incompatible {
                op: OP,
                what: "number of channels",
                expected: self.classes().to_string(),
                found: shape.channels().to_string(),
            });
        }
        Ok(())
    }

    /// Runs `count(offset, len)` on every `(n, c)` plane, then commits all or nothing.
    fn each_plane(
        &mut self,
        shape: &Shape,
        mut count: impl FnMut(usize, usize) -> Result<Tally>,
    ) -> Result<()> {
        let (c, s) = (shape.channels(), shape.spatial_len());
        let mut tallies = Vec::with_capacity(shape.batch() * c);
        for n in 0..shape.batch() {
            for ch in 0..c {
                tallies.push(count((n * c + ch) * s, s)?);
            }
        }
        for (i, t) in tallies.iter().enumerate() {
            self.counts[i % c].add(&t.counts);
            self.ignored += t.ignored;
        }
        if let Some(images) = &mut self.images {
            let per: Vec<Counts> = tallies.iter().map(|t| t.counts).collect();
            images.extend_unchecked(&per);
        }
        Ok(())
    }

    /// Adds `other`'s counts (and images, after these) to these.
    ///
    /// # Errors
    /// [`Error::Incompatible`] if the settings differ; nothing is merged then.
    pub fn merge(&mut self, other: &MultiLabelConfusion) -> Result<()> {
        let (a, b) = (&self.config, &other.config);
        if a.classes != b.classes || other.counts.len() != a.classes {
            return Err(incompatible(
                "number of classes",
                a.classes,
                other.counts.len(),
            ));
        }
        if a.threshold != b.threshold {
            return Err(incompatible("threshold", a.threshold, b.threshold));
        }
        if a.ignore_index != b.ignore_index {
            return Err(incompatible("ignore index", a.ignore_index, b.ignore_index));
        }
        if a.per_image != b.per_image {
            return Err(incompatible("per-image mode", a.per_image, b.per_image));
        }
        if let Some(theirs) = &other.images {
            theirs.check("merge")?;
        }
        for (x, y) in self.counts.iter_mut().zip(&other.counts) {
            x.add(y);
        }
        self.ignored += other.ignored;
        if let (Some(mine), Some(theirs)) = (&mut self.images, &other.images) {
            mine.merge(theirs)?;
        }
        Ok(())
    }

    /// Forgets every count, keeping the settings.
    pub fn reset(&mut self) {
        self.counts.fill(Counts::default());
        self.ignored = 0;
        if let Some(images) = &mut self.images {
            images.clear();
        }
    }

    /// The `metric` under `average` over the channels.
    ///
    /// # Errors
    /// As [`crate::metrics::average`].
    pub fn score(&self, metric: Metric, average: Average, conv: &Conventions) -> Result<Averaged> {
        super::average(&self.counts, self.images.as_ref(), metric, average, conv)
    }

    /// Every score; `overall` holds the scores of the summed (micro) counts.
    ///
    /// # Errors
    /// None in practice; the `Result` keeps the signature uniform.
    pub fn report(&self, conv: &Conventions) -> Result<Report> {
        let ids: Vec<usize> = (0..self.classes()).collect();
        let sum: Counts = self.counts.iter().copied().sum();
        Report::from_classes(
            &self.counts,
            &ids,
            self.images.as_ref(),
            self.ignored,
            Overall::from_counts(&sum, conv),
            conv,
        )
    }
}
