//! Whether class averages include classes that never occur.

/// How macro and image-wise averages treat a class absent from both truth and prediction
/// (`TP + FP + FN = 0`).
///
/// Such a class says nothing about the model, and scoring it by the [`ZeroDivision`] rule
/// would pull a macro average towards `1` (or `0`) depending on a convention. By default it
/// is skipped. If *every* class is absent (for example an image with no foreground and no
/// predicted foreground) the average is the [`ZeroDivision`] value instead, so an empty image
/// predicted empty still scores Dice `1` by default.
///
/// scikit-learn includes every label listed in `labels=`: use [`AbsentClasses::Include`]
/// with [`ZeroDivision::Zero`] to reproduce it.
///
/// [`ZeroDivision`]: crate::metrics::ZeroDivision
/// [`ZeroDivision::Zero`]: crate::metrics::ZeroDivision::Zero
///
/// # Examples
/// ```
/// use segloss::metrics::AbsentClasses;
/// assert_eq!(AbsentClasses::default(), AbsentClasses::Skip);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AbsentClasses {
    /// Leave absent classes out of macro and image-wise averages.
    #[default]
    Skip,
    /// Score absent classes by the `ZeroDivision` rule and include them.
    Include,
}
