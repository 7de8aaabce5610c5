//! Counting kernels: validate and count in one pass.
//!
//! Every kernel counts into local variables and returns them, so a call that finds a bad
//! input returns its error before anything reaches an accumulator. Fast paths (`u8`/`bool`
//! masks) detect a bad value with a branch-free flag and then rerun the scalar path, which
//! finds and reports the first bad element.

mod binary_u8;
mod labels;
#[cfg(target_arch = "x86_64")]
mod matrix_planes;
mod matrix_u8;
mod scores;

pub(crate) use labels::{binary_labels, check_same_len, matrix_labels};
pub(crate) use scores::{ScoreKind, argmax_matrix, binary_scores};

use super::Counts;

/// Counts of one call: the class counts and the number of ignored pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub counts: Counts,
    pub ignored: u64,
}

/// Below this many pixels a call is counted on one thread even with `rayon`.
#[cfg(feature = "rayon")]
pub(crate) const PAR_MIN: usize = 1 << 20;

/// Splits `len` into ranges of at least `PAR_MIN` elements, multiples of 4096 except the last.
#[cfg(feature = "rayon")]
pub(crate) fn par_ranges(len: usize) -> Vec<std::ops::Range<usize>> {
    let threads = rayon::current_num_threads().max(1);
    // A few pieces per thread balance load without much reduction cost.
    let pieces = (threads * 4).min(len / PAR_MIN).max(1);
    let step = len.div_ceil(pieces).next_multiple_of(4096);
    (0..len)
        .step_by(step)
        .map(|s| s..(s + step).min(len))
        .collect()
}
