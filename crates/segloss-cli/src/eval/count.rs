//! Counting one image with the metrics engine (`segloss::metrics`).
//!
//! The CLI never counts pixels itself: it hands the labels of each image to a fresh engine
//! accumulator and keeps the resulting [`Counts`].

use anyhow::Result;
use segloss::metrics::{BinaryConfusionConfig, Counts};

use super::labels::Labels;

/// The counts of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageCounts {
    /// One entry (the positive class) for binary runs, one per class otherwise.
    pub counts: Vec<Counts>,
    /// Truth pixels with the ignore label.
    pub ignored: u64,
}

/// Counts `pred` against `truth` (same length, already validated labels).
///
/// `classes` is `None` for a binary run. The ignore label is the labels' sentinel.
///
/// # Errors
/// The engine rejects the input (a label out of range or different lengths; the label
/// conversion already rules these out, so this indicates a bug, reported rather than hidden).
pub fn count(truth: &Labels, pred: &Labels, classes: Option<u32>) -> Result<ImageCounts> {
    let ignore = truth.ignore_label() as i64;
    match classes {
        None => {
            let mut m = BinaryConfusionConfig::new()
                .with_ignore_index(ignore)
                .init()?;
            match (truth, pred) {
                (Labels::U8(t), Labels::U8(p)) => m.update(t, p)?,
                (Labels::U16(t), Labels::U16(p)) => m.update(t, p)?,
                (Labels::U8(t), Labels::U16(p)) => m.update(t, p)?,
                (Labels::U16(t), Labels::U8(p)) => m.update(t, p)?,
            }
            Ok(ImageCounts {
                counts: vec![m.counts()],
                ignored: m.ignored(),
            })
        }
        Some(_k) => anyhow::bail!("multi-class counting waits for the engine's confusion matrix"),
    }
}
