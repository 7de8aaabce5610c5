//! # segloss
//!
//! Segmentation losses and metrics for imbalanced data: the thing you care about (a
//! building in an aerial tile, a tumour in a scan) covers a few percent of the pixels.
//!
//! - [`metrics`]: a streaming, mergeable confusion-matrix engine (counts are `u64`, exact at
//!   any scale) and every metric derived from it: precision, recall, F1 = Dice, IoU, MCC, ...
//! - [`loss`]: losses computed from logits with their exact analytic gradient, in one fused
//!   pass over plain `f32` slices in `N×C×spatial` layout: binary cross-entropy, focal,
//!   cross-entropy, soft Dice, Tversky, generalized Dice and their combinations.
//!
//! The crate does no I/O and has no heavy dependencies. Optional features: `rayon`
//! (multi-threaded kernels) and `serde` (save and merge metric states).
//!
//! ## Notation
//! Throughout the docs: `x` is a logit, `p` a predicted probability (`p = σ(x)` for sigmoid,
//! `p = softmax(x)` over the channel axis for softmax), `t` a target in `[0, 1]`, `N` the batch
//! size, `C` the number of channels (classes) and `S` the number of spatial elements of one
//! image. Sums `Σ` run over the elements named in each formula.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod error;
pub mod label;
pub mod loss;
pub(crate) mod math;
pub mod metrics;
pub mod shape;

pub use error::{Error, Result};
pub use label::Label;
pub use shape::Shape;
