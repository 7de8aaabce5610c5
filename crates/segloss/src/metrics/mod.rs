//! Streaming, mergeable confusion-matrix metrics.
//!
//! Counting and scoring are separate. Accumulators count exact `u64` totals from batches of
//! hard labels, probabilities or logits, merge across threads, shards and machines (with the
//! `serde` feature a state saves to JSON and merges exactly), and never keep pixels:
//!
//! - [`BinaryConfusion`]: one foreground class, `TP, FP, FN, TN`;
//! - [`ConfusionMatrix`]: `k × k` counts, **rows = truth, columns = prediction**;
//! - [`MultiLabelConfusion`]: `C` independent binary problems (sigmoid per channel).
//!
//! Each can also keep per-image per-class counts ([`PerImage::Keep`]) for image-wise scores.
//! Scores ([`Metric`]) are computed from [`Counts`] and combined by an [`Average`] under
//! explicit [`Conventions`] (what `0/0` scores, whether absent classes count). [`Report`]
//! gathers all of them.
//!
//! Metrics are computed from accumulated counts, never as averages of per-batch ratios
//! (except image-wise averages, asked for by name).
//!
//! # Examples
//! ```
//! use segloss::metrics::{Average, ConfusionMatrixConfig, Conventions, Metric};
//! let mut cm = ConfusionMatrixConfig::new(3).with_ignore_index(255).init().unwrap();
//! cm.update(&[0u8, 0, 1, 2, 255], &[0u8, 1, 1, 2, 0]).unwrap();
//! assert_eq!(cm.ignored(), 1);
//! let miou = cm.score(Metric::Iou, Average::Macro, &Conventions::default()).unwrap();
//! assert_eq!(miou.value(), Some((0.5 + 0.5 + 1.0) / 3.0));
//! ```

mod absent_classes;
mod average;
mod binary;
mod confusion_matrix;
mod conventions;
mod counts;
mod image_counts;
mod kernel;
mod metric;
mod multilabel;
mod per_image;
mod real;
mod report;
mod scores;
mod threshold;
mod zero_division;

pub use absent_classes::AbsentClasses;
pub use average::{Average, Averaged, average};
pub use binary::{BinaryConfusion, BinaryConfusionConfig};
pub use confusion_matrix::{ConfusionMatrix, ConfusionMatrixConfig};
pub use conventions::Conventions;
pub use counts::Counts;
pub use image_counts::ImageCounts;
pub use metric::Metric;
pub use multilabel::{MultiLabelConfusion, MultiLabelConfusionConfig};
pub use per_image::PerImage;
pub use real::Real;
pub use report::{ClassReport, Overall, Report, Summary};
pub use threshold::check_threshold;
pub use zero_division::ZeroDivision;
