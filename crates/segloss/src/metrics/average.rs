//! How per-class scores are combined into one number.

use super::{AbsentClasses, Conventions, Counts, ImageCounts, Metric};
use crate::error::{Error, Result};

/// How per-class scores are combined.
///
/// | variant | result |
/// |---|---|
/// | [`Average::Micro`] | sum the classes' counts, then score once |
/// | [`Average::Macro`] | unweighted mean of the classes' scores |
/// | [`Average::Weighted`] | mean of the classes' scores weighted by support `TP + FN` |
/// | [`Average::PerClass`] | no averaging: one score per class |
/// | [`Average::ImageWise`] | score each image (macro over its classes), then mean over images |
///
/// Rules, all documented conventions ([`Conventions`]):
/// - scores left undefined by [`crate::metrics::ZeroDivision::Skip`] are left out of every mean;
/// - macro and image-wise means skip classes absent from truth and prediction
///   ([`AbsentClasses::Skip`], the default) unless every class is absent, in which case the
///   mean is the `0/0` value (an empty image predicted empty scores Dice 1);
/// - weighted means leave out classes with zero support (their weight is 0);
/// - image-wise means leave out images with no counted pixel (all ignored). Image-wise
///   scores need per-image counts ([`crate::metrics::PerImage::Keep`]).
///
/// For a binary problem the only class is the positive class, so micro, macro and
/// weighted agree. With one-vs-rest counts of a multi-class matrix, micro precision, recall
/// and F1 all equal the overall accuracy (as in scikit-learn).
///
/// Sums over classes and images are accumulated in `f64`.
///
/// # Examples
/// ```
/// use segloss::metrics::{average, Average, Conventions, Counts, Metric};
/// let classes = [Counts::new(8, 2, 0, 10), Counts::new(0, 0, 0, 20), Counts::new(1, 1, 3, 15)];
/// let c = Conventions::default();
/// let macro_iou = average(&classes, None, Metric::Iou, Average::Macro, &c).unwrap();
/// // class 1 is absent from truth and prediction, so it is skipped by default
/// assert_eq!(macro_iou.value(), Some((0.8 + 0.2) / 2.0));
/// let micro = average(&classes, None, Metric::Iou, Average::Micro, &c).unwrap();
/// assert_eq!(micro.value(), Some(9.0 / 15.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Average {
    /// Sum the counts over classes, then score.
    Micro,
    /// Mean of the per-class scores (default).
    #[default]
    Macro,
    /// Mean of the per-class scores weighted by support.
    Weighted,
    /// One score per class.
    PerClass,
    /// Per image, macro over classes; then the mean over images.
    ImageWise,
}

/// The result of averaging: one value, or one per class.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Averaged {
    /// A single score; `None` when nothing was left to average (every score skipped).
    Value(Option<f64>),
    /// One score per class ([`Average::PerClass`]); `None` for a skipped `0/0`.
    PerClass(Vec<Option<f64>>),
}

impl Averaged {
    /// The single value, or `None` for per-class results and for "nothing to average".
    ///
    /// ```
    /// use segloss::metrics::Averaged;
    /// assert_eq!(Averaged::Value(Some(0.5)).value(), Some(0.5));
    /// assert_eq!(Averaged::PerClass(vec![Some(0.5)]).value(), None);
    /// ```
    pub fn value(&self) -> Option<f64> {
        match self {
            Averaged::Value(v) => *v,
            Averaged::PerClass(_) => None,
        }
    }

    /// The per-class scores, or `None` for a single value.
    ///
    /// ```
    /// use segloss::metrics::Averaged;
    /// assert_eq!(Averaged::PerClass(vec![Some(0.5), None]).per_class(), Some(&[Some(0.5), None][..]));
    /// ```
    pub fn per_class(&self) -> Option<&[Option<f64>]> {
        match self {
            Averaged::Value(_) => None,
            Averaged::PerClass(v) => Some(v),
        }
    }
}

/// Averages `metric` over `classes` (and over `images` for [`Average::ImageWise`]).
///
/// This is the function every accumulator's `score` calls; it is public so that counts
/// obtained elsewhere (for example from a deep-learning framework) are scored identically.
///
/// # Errors
/// [`Error::InvalidParameter`] for invalid metric parameters; [`Error::Incompatible`] for
/// [`Average::ImageWise`] without per-image counts or with a different number of classes.
///
/// # Examples
/// ```
/// use segloss::metrics::{average, Average, Conventions, Counts, ImageCounts, Metric};
/// let mut images = ImageCounts::new(1);
/// images.push(&[Counts::new(1, 1, 0, 2)]).unwrap(); // Dice 2/3
/// images.push(&[Counts::new(0, 0, 0, 4)]).unwrap(); // empty, predicted empty: Dice 1
/// let total = [Counts::new(1, 1, 0, 6)];
/// let c = Conventions::default();
/// let iw = average(&total, Some(&images), Metric::DICE, Average::ImageWise, &c).unwrap();
/// assert_eq!(iw.value(), Some((2.0 / 3.0 + 1.0) / 2.0));
/// ```
pub fn average(
    classes: &[Counts],
    images: Option<&ImageCounts>,
    metric: Metric,
    average: Average,
    conventions: &Conventions,
) -> Result<Averaged> {
    metric.check()?;
    let zd = conventions.zero_division;
    Ok(match average {
        Average::Micro => {
            let sum: Counts = classes.iter().copied().sum();
            Averaged::Value(sum.score_unchecked(metric, zd))
        }
        Average::Macro => Averaged::Value(macro_mean(classes, metric, conventions)),
        Average::Weighted => Averaged::Value(weighted_mean(classes, metric, conventions)),
        Average::PerClass => Averaged::PerClass(
            classes
                .iter()
                .map(|c| c.score_unchecked(metric, zd))
                .collect(),
        ),
        Average::ImageWise => {
            let images = images.ok_or(Error::Incompatible {
                op: "image-wise average",
                what: "per-image counts",
                expected: "kept (PerImage::Keep)".into(),
                found: "not kept".into(),
            })?;
            if images.classes() != classes.len() {
                return Err(Error::Incompatible {
                    op: "image-wise average",
                    what: "classes per image",
                    expected: classes.len().to_string(),
                    found: images.classes().to_string(),
                });
            }
            let (sum, n) = images
                .iter()
                .filter(|img| img.first().is_some_and(|c| c.total() > 0))
                .filter_map(|img| macro_mean(img, metric, conventions))
                .fold((0.0f64, 0u64), |(s, n), v| (s + v, n + 1));
            Averaged::Value(if n == 0 { None } else { Some(sum / n as f64) })
        }
    })
}

/// Macro mean by the [`Average::Macro`] rules.
pub(crate) fn macro_mean(classes: &[Counts], metric: Metric, conv: &Conventions) -> Option<f64> {
    let zd = conv.zero_division;
    let mut sum = 0.0f64;
    let mut n = 0u64;
    let mut considered = 0usize;
    for c in classes {
        if conv.absent_classes == AbsentClasses::Skip && c.is_absent() {
            continue;
        }
        considered += 1;
        if let Some(v) = c.score_unchecked(metric, zd) {
            sum += v;
            n += 1;
        }
    }
    if considered == 0 {
        // Every class absent: truth and prediction agree nothing is there.
        return zd.value();
    }
    if n == 0 { None } else { Some(sum / n as f64) }
}

/// Support-weighted mean by the [`Average::Weighted`] rules.
fn weighted_mean(classes: &[Counts], metric: Metric, conv: &Conventions) -> Option<f64> {
    let zd = conv.zero_division;
    let mut sum = 0.0f64;
    let mut weight = 0.0f64;
    for c in classes.iter().filter(|c| c.support() > 0) {
        if let Some(v) = c.score_unchecked(metric, zd) {
            let w = c.support() as f64;
            sum += w * v;
            weight += w;
        }
    }
    if weight == 0.0 {
        zd.value()
    } else {
        Some(sum / weight)
    }
}
