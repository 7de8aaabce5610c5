//! The four counts of one class.

/// True positives, false positives, false negatives and true negatives of one class.
///
/// For a binary problem these are the counts of the positive class. For a multi-class
/// confusion matrix `M` (rows = truth, columns = prediction) class `i` is scored one
/// against the rest: `TP = M[i][i]`, `FP = Σ_r M[r][i] − TP` (column minus diagonal),
/// `FN = Σ_c M[i][c] − TP` (row minus diagonal), `TN` = everything else.
///
/// Counts are `u64` and exact at any scale; scores convert them to `f64` (exact below
/// 2⁵³ pixels).
///
/// # Examples
/// The worked example of the mission notes: 100 people, 30 with a tumour, 25 flagged, 5 of
/// them wrongly.
/// ```
/// use segloss::metrics::Counts;
/// let c = Counts::new(20, 5, 10, 65);
/// assert_eq!((c.support(), c.predicted(), c.total()), (30, 25, 100));
/// assert_eq!(c.precision(), 0.8);
/// assert!((c.recall() - 2.0 / 3.0).abs() < 1e-15);
/// assert!((c.f1() - 8.0 / 11.0).abs() < 1e-15);
/// assert_eq!(c.f1(), c.dice());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Counts {
    /// True positives: truth positive, predicted positive.
    pub tp: u64,
    /// False positives: truth negative, predicted positive.
    pub fp: u64,
    /// False negatives: truth positive, predicted negative.
    #[cfg_attr(feature = "serde", serde(rename = "fn"))]
    pub fn_: u64,
    /// True negatives: truth negative, predicted negative.
    pub tn: u64,
}

impl Counts {
    /// Counts from their four values.
    pub const fn new(tp: u64, fp: u64, fn_: u64, tn: u64) -> Self {
        Self { tp, fp, fn_, tn }
    }

    /// `TP + FN`: pixels whose truth is this class.
    pub fn support(&self) -> u64 {
        self.tp + self.fn_
    }

    /// `TP + FP`: pixels predicted as this class.
    pub fn predicted(&self) -> u64 {
        self.tp + self.fp
    }

    /// `TP + FP + FN + TN`: all counted pixels.
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    /// Whether the class is absent from both truth and prediction (`TP + FP + FN = 0`).
    ///
    /// ```
    /// use segloss::metrics::Counts;
    /// assert!(Counts::new(0, 0, 0, 9).is_absent());
    /// assert!(!Counts::new(0, 1, 0, 8).is_absent());
    /// ```
    pub fn is_absent(&self) -> bool {
        self.tp == 0 && self.fp == 0 && self.fn_ == 0
    }

    /// Adds `other`'s counts to these (used by `merge`).
    ///
    /// ```
    /// use segloss::metrics::Counts;
    /// let mut a = Counts::new(1, 2, 3, 4);
    /// a.add(&Counts::new(10, 20, 30, 40));
    /// assert_eq!(a, Counts::new(11, 22, 33, 44));
    /// ```
    pub fn add(&mut self, other: &Counts) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
        self.tn += other.tn;
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, rhs: Counts) {
        self.add(&rhs);
    }
}

impl std::iter::Sum for Counts {
    fn sum<I: Iterator<Item = Counts>>(iter: I) -> Counts {
        let mut acc = Counts::default();
        for c in iter {
            acc.add(&c);
        }
        acc
    }
}
