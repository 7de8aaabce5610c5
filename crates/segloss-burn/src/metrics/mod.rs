//! Segmentation metrics inside burn: confusion counts of a batch on the device, and (with the
//! `train` feature) burn-train metrics that accumulate them over an epoch.

mod batch;
#[cfg(feature = "train")]
mod train;

pub use batch::batch_confusion_matrix;
#[cfg(feature = "train")]
pub use train::{SegScore, SegmentationInput, SegmentationMetric};
