//! The crate's error type.
//!
//! Every fallible function returns [`Result`]. Each variant names the operation or input
//! involved, what was expected and what was found, so a message such as
//! `dice loss: targets has 10 elements, expected 12 (shape [1, 1, 3, 4])` is enough to fix
//! the call without a debugger.

/// Result alias used throughout segloss.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in segloss.
///
/// Inputs are checked before anything is computed or counted: a call that returns an error
/// has changed no state and written no output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A buffer's length does not match the shape it is used with.
    #[error("{op}: {input} has {found} elements, expected {expected} (shape {shape:?})")]
    LengthMismatch {
        /// The operation that checked the input, e.g. `"focal loss"`.
        op: &'static str,
        /// Which input, e.g. `"targets"`.
        input: &'static str,
        /// The length the shape implies.
        expected: usize,
        /// The length given.
        found: usize,
        /// The shape the length was checked against.
        shape: Vec<usize>,
    },
    /// Two inputs that must have the same length do not.
    #[error("{op}: {lhs} has {lhs_len} elements but {rhs} has {rhs_len}")]
    SizeMismatch {
        /// The operation that checked the inputs.
        op: &'static str,
        /// The first input's name.
        lhs: &'static str,
        /// The first input's length.
        lhs_len: usize,
        /// The second input's name.
        rhs: &'static str,
        /// The second input's length.
        rhs_len: usize,
    },
    /// A shape is unusable: too few dimensions, a zero dimension, or a size that overflows.
    #[error("{op}: shape {shape:?} is invalid: {reason}")]
    InvalidShape {
        /// The operation that checked the shape.
        op: &'static str,
        /// The shape given.
        shape: Vec<usize>,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A class label is not below the number of classes (and is not the ignore label).
    #[error(
        "{op}: {input}[{index}] is {value}, expected a class index below {classes}{}",
        ignore_hint(*ignore_index)
    )]
    LabelOutOfRange {
        /// The operation that checked the label.
        op: &'static str,
        /// Which input held the label.
        input: &'static str,
        /// Position of the first bad label in the flattened input.
        index: usize,
        /// The bad label.
        value: u64,
        /// The number of classes.
        classes: usize,
        /// The ignore label in force, if any.
        ignore_index: Option<u64>,
    },
    /// A class label is negative (and is not the ignore label).
    #[error(
        "{op}: {input}[{index}] is {value}, expected a class index in 0..{classes}{}",
        ignore_hint_signed(*ignore_index)
    )]
    NegativeLabel {
        /// The operation that checked the label.
        op: &'static str,
        /// Which input held the label.
        input: &'static str,
        /// Position of the first bad label in the flattened input.
        index: usize,
        /// The bad label.
        value: i64,
        /// The number of classes.
        classes: usize,
        /// The ignore label in force, if any.
        ignore_index: Option<i64>,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("{op}: {input}[{index}] is {value}, expected a finite number")]
    NonFinite {
        /// The operation that checked the value.
        op: &'static str,
        /// Which input held the value.
        input: &'static str,
        /// Position of the first bad value in the flattened input.
        index: usize,
        /// The bad value.
        value: f64,
    },
    /// A value lies outside the range its input allows, e.g. a soft target outside `[0, 1]`.
    #[error("{op}: {input}[{index}] is {value}, expected a value in [{min}, {max}]")]
    OutOfRange {
        /// The operation that checked the value.
        op: &'static str,
        /// Which input held the value.
        input: &'static str,
        /// Position of the first bad value in the flattened input.
        index: usize,
        /// The bad value.
        value: f64,
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A configuration parameter breaks its rule. Raised by `init()`/`check()` only, so
    /// invalid settings never reach the math.
    #[error("invalid parameter `{name}` = {value}: {rule}")]
    InvalidParameter {
        /// The parameter's name, e.g. `"gamma"`.
        name: &'static str,
        /// The value given, formatted.
        value: String,
        /// The rule it breaks, e.g. `"must be finite and >= 0"`.
        rule: &'static str,
    },
    /// Two states (or a state and an input) describe different problems and cannot be combined.
    #[error("{op}: {what} is {found}, expected {expected}")]
    Incompatible {
        /// The operation, e.g. `"merge"`.
        op: &'static str,
        /// What differs, e.g. `"number of classes"`.
        what: &'static str,
        /// The value the receiver has.
        expected: String,
        /// The value the argument has.
        found: String,
    },
    /// The targets are of the wrong kind for this loss, e.g. class indices given to a
    /// sigmoid loss, which needs one float mask per channel.
    #[error("{op}: targets are {found}, expected {expected}")]
    TargetKind {
        /// The operation that checked the targets.
        op: &'static str,
        /// The kind of targets the loss needs, e.g. `"dense f32 masks (sigmoid)"`.
        expected: &'static str,
        /// The kind given, e.g. `"u8 class indices"`.
        found: &'static str,
    },
    /// A thread's CPU affinity could not be read, or a pool thread could not be pinned to a
    /// CPU (`parallel::pin_pool_threads`).
    #[error("{}: {reason}", affinity_op(*thread, *cpu))]
    ThreadAffinity {
        /// The thread's index in its rayon pool; `None` when reading the calling thread's
        /// affinity mask failed.
        thread: Option<usize>,
        /// The CPU it was to run on; `None` when reading the mask failed.
        cpu: Option<usize>,
        /// What the operating system said.
        reason: String,
    },
}

fn affinity_op(thread: Option<usize>, cpu: Option<usize>) -> String {
    match (thread, cpu) {
        (Some(t), Some(c)) => format!("pinning pool thread {t} to CPU {c}"),
        _ => "reading the calling thread's CPU affinity".to_string(),
    }
}

fn ignore_hint(ignore_index: Option<u64>) -> String {
    match ignore_index {
        Some(v) => format!(" or the ignore label {v}"),
        None => String::new(),
    }
}

fn ignore_hint_signed(ignore_index: Option<i64>) -> String {
    match ignore_index {
        Some(v) => format!(" or the ignore label {v}"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_input_expected_and_found() {
        let e = Error::LengthMismatch {
            op: "dice loss",
            input: "targets",
            expected: 12,
            found: 10,
            shape: vec![1, 1, 3, 4],
        };
        assert_eq!(
            e.to_string(),
            "dice loss: targets has 10 elements, expected 12 (shape [1, 1, 3, 4])"
        );
        let e = Error::LabelOutOfRange {
            op: "confusion matrix",
            input: "truth",
            index: 7,
            value: 9,
            classes: 4,
            ignore_index: Some(255),
        };
        assert_eq!(
            e.to_string(),
            "confusion matrix: truth[7] is 9, expected a class index below 4 or the ignore label 255"
        );
    }
}
