//! Usage errors: the command line or the run plan is wrong and nothing was done (exit code 2).

use std::fmt;

/// An error in the arguments or the run plan, found before any input was read.
///
/// `main` maps it to exit code 2, like clap's own argument errors; every other error is an
/// input or I/O failure (exit code 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns early with a [`UsageError`] built from a format string.
#[macro_export]
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::usage::UsageError(format!($($arg)*))))
    };
}

/// Whether `err` (or anything in its chain) is a [`UsageError`].
pub fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<UsageError>())
}
