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
//! ## Threads
//! With `rayon`, the kernels run in the rayon pool they are called from (the global pool,
//! or one entered with `ThreadPool::install`); the results do not depend on the thread
//! count. A fused loss call on a 512² batch takes a millisecond or two, so how soon a
//! sleeping pool thread joins in matters. On small Linux VMs the scheduler tends to wake it
//! on the busy CPU of the thread that woke it, and a pool that has been idle for a few
//! milliseconds, as in a training loop with other work between loss calls, then runs most
//! calls on one thread. Pinning each pool thread to its own CPU avoids it: on Linux,
//! `parallel::pin_pool_threads` (with `rayon`) does it for the current pool; segloss never
//! pins on its own. `segloss bench --threads 2 --idle-us 5000 --pin-threads` measures the
//! difference, and `examples/pool_wake.rs` isolates it.
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
#[cfg(all(feature = "rayon", target_os = "linux"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "rayon", target_os = "linux"))))]
pub mod parallel;
pub mod shape;

pub use error::{Error, Result};
pub use label::Label;
pub use shape::Shape;
