//! Segmentation metrics inside burn: confusion counts of a batch on the device, epoch metrics
//! that accumulate them exactly, and (with the `train` feature) their burn-train form.

mod batch;
mod epoch;
mod input;
#[cfg(feature = "train")]
mod train;

pub use batch::batch_confusion_matrix;
pub use epoch::{EpochMetric, SegScore};
pub use input::SegmentationInput;
#[cfg(feature = "train")]
pub use train::SegmentationMetric;
