//! Checks shared by the configs' `init()`.

use crate::error::{Error, Result};

fn invalid(name: &'static str, value: impl std::fmt::Debug, rule: &'static str) -> Error {
    Error::InvalidParameter {
        name,
        value: format!("{value:?}"),
        rule,
    }
}

/// `v` is finite and `≥ 0`.
pub(crate) fn non_negative(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(name, v, "must be finite and >= 0"))
    }
}

/// `v` is finite and `> 0`.
pub(crate) fn positive(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(name, v, "must be finite and > 0"))
    }
}

/// `v ∈ [0, 1]`.
pub(crate) fn unit(name: &'static str, v: f64) -> Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(invalid(name, v, "must lie in [0, 1]"))
    }
}

/// A non-empty vector of finite, non-negative values, not all zero.
pub(crate) fn weights(name: &'static str, w: &[f32]) -> Result<()> {
    if w.is_empty() {
        return Err(invalid(name, w, "must have at least one entry"));
    }
    if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(invalid(name, w, "every entry must be finite and >= 0"));
    }
    if w.iter().all(|v| *v == 0.0) {
        return Err(invalid(name, w, "must not be all zero"));
    }
    Ok(())
}

/// A non-empty vector of values in `[0, 1]`.
pub(crate) fn unit_vector(name: &'static str, w: &[f32]) -> Result<()> {
    if w.is_empty() || w.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(invalid(
            name,
            w,
            "must have at least one entry, each in [0, 1]",
        ));
    }
    Ok(())
}
