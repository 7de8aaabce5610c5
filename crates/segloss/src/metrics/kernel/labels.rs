//! Hard-label kernels for any [`Label`] type, with `u8`/`bool` fast paths.

use std::any::TypeId;

use super::{Tally, binary_u8, matrix_u8};
use crate::error::{Error, Result};
use crate::label::Label;
use crate::metrics::Counts;

/// `SizeMismatch` unless the two lengths agree.
pub(crate) fn check_same_len(
    op: &'static str,
    lhs: &'static str,
    lhs_len: usize,
    rhs: &'static str,
    rhs_len: usize,
) -> Result<()> {
    if lhs_len == rhs_len {
        Ok(())
    } else {
        Err(Error::SizeMismatch {
            op,
            lhs,
            lhs_len,
            rhs,
            rhs_len,
        })
    }
}

/// The error for a label that is neither a class below `classes` nor the ignore label.
pub(crate) fn label_error<L: Label>(
    op: &'static str,
    input: &'static str,
    index: usize,
    value: L,
    classes: usize,
    ignore: Option<i64>,
) -> Error {
    match value.to_class() {
        Some(value) => Error::LabelOutOfRange {
            op,
            input,
            index,
            value,
            classes,
            ignore_index: ignore.and_then(|i| u64::try_from(i).ok()),
        },
        None => Error::NegativeLabel {
            op,
            input,
            index,
            value: value.to_i64(),
            classes,
            ignore_index: ignore,
        },
    }
}

#[inline(always)]
pub(crate) fn is_ignored<L: Label>(v: L, ignore: Option<i64>) -> bool {
    ignore.is_some_and(|i| v.to_i64() == i)
}

/// The class of `v` if it is below `classes`.
#[inline(always)]
pub(crate) fn class_below<L: Label>(v: L, classes: u64) -> Option<u64> {
    v.to_class().filter(|&c| c < classes)
}

/// Views a `u8` or `bool` slice as bytes (`bool` is one byte holding 0 or 1).
pub(crate) fn as_bytes<T: Label>(s: &[T]) -> Option<&[u8]> {
    let id = TypeId::of::<T>();
    if id == TypeId::of::<u8>() || id == TypeId::of::<bool>() {
        // SAFETY: `T` is `u8` or `bool`, both one byte with every value a valid `u8`.
        Some(unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), s.len()) })
    } else {
        None
    }
}

/// The ignore label as a byte, if a `u8` can hold it.
pub(crate) fn ignore_byte(ignore: Option<i64>) -> Option<u8> {
    ignore.and_then(|i| u8::try_from(i).ok())
}

/// Binary counts of `truth` (0, 1 or the ignore label) against `pred` (0 or 1).
/// A prediction at an ignored pixel is not looked at.
pub(crate) fn binary_labels<T: Label, P: Label>(
    op: &'static str,
    truth: &[T],
    pred: &[P],
    ignore: Option<i64>,
) -> Result<Tally> {
    check_same_len(op, "truth", truth.len(), "pred", pred.len())?;
    if let (Some(t), Some(p)) = (as_bytes(truth), as_bytes(pred))
        && let Some(tally) = binary_u8::count(t, p, ignore_byte(ignore))
    {
        return Ok(tally);
    }
    binary_scalar(op, truth, pred, ignore)
}

fn binary_scalar<T: Label, P: Label>(
    op: &'static str,
    truth: &[T],
    pred: &[P],
    ignore: Option<i64>,
) -> Result<Tally> {
    let (mut tp, mut st, mut sp, mut ignored) = (0u64, 0u64, 0u64, 0u64);
    for (i, (&t, &p)) in truth.iter().zip(pred).enumerate() {
        if is_ignored(t, ignore) {
            ignored += 1;
            continue;
        }
        let tc = class_below(t, 2).ok_or_else(|| label_error(op, "truth", i, t, 2, ignore))?;
        let pc = class_below(p, 2).ok_or_else(|| label_error(op, "pred", i, p, 2, None))?;
        tp += tc & pc;
        st += tc;
        sp += pc;
    }
    let n = truth.len() as u64 - ignored;
    Ok(Tally {
        counts: Counts::new(tp, sp - tp, st - tp, n - st - sp + tp),
        ignored,
    })
}

/// Adds the `classes × classes` matrix of `truth` against `pred` to `out` (row = truth,
/// column = prediction) and returns the number of ignored pixels. On error `out` may hold
/// partial counts: callers pass a scratch matrix.
pub(crate) fn matrix_labels<T: Label, P: Label>(
    op: &'static str,
    truth: &[T],
    pred: &[P],
    classes: usize,
    ignore: Option<i64>,
    out: &mut [u64],
) -> Result<u64> {
    check_same_len(op, "truth", truth.len(), "pred", pred.len())?;
    debug_assert_eq!(out.len(), classes * classes);
    if let (Some(t), Some(p)) = (as_bytes(truth), as_bytes(pred)) {
        if let Some(ignored) = matrix_u8::count(t, p, classes, ignore_byte(ignore), out) {
            return Ok(ignored);
        }
        out.fill(0);
    }
    matrix_scalar(op, truth, pred, classes, ignore, out)
}

fn matrix_scalar<T: Label, P: Label>(
    op: &'static str,
    truth: &[T],
    pred: &[P],
    classes: usize,
    ignore: Option<i64>,
    out: &mut [u64],
) -> Result<u64> {
    let k = classes as u64;
    let mut ignored = 0u64;
    for (i, (&t, &p)) in truth.iter().zip(pred).enumerate() {
        if is_ignored(t, ignore) {
            ignored += 1;
            continue;
        }
        let tc =
            class_below(t, k).ok_or_else(|| label_error(op, "truth", i, t, classes, ignore))?;
        let pc = class_below(p, k).ok_or_else(|| label_error(op, "pred", i, p, classes, None))?;
        out[(tc * k + pc) as usize] += 1;
    }
    Ok(ignored)
}
