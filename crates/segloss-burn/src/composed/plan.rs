//! A loss as the composed path sees it: activation, pixel term, region term, weights.

use burn::tensor::Tensor;

use super::pixel::{bce, sigmoid_focal, softmax_ce, softmax_focal};
use super::prob::{log_softmax_channels, one_hot, valid_mask};
use super::region::region_loss;
use super::sums::sum_all;
use crate::error::{Error, Result};
use crate::targets::{SegTargets, check_values};

/// The per-pixel term of a loss.
#[derive(Debug, Clone, PartialEq)]
pub enum PixelTerm {
    /// No pixel term (pure Dice-type losses).
    None,
    /// Sigmoid BCE with per-channel (or one) positive weight and label smoothing `ε`.
    Bce {
        /// One value, or one per channel.
        pos_weight: Vec<f64>,
        /// `ε` in `t ← t(1-ε) + ε/2`.
        smoothing: f64,
    },
    /// Sigmoid focal loss.
    SigmoidFocal {
        /// `γ ≥ 0`.
        gamma: f64,
        /// Per channel `(α₊, α₋)` (class weight included); empty for no weighting.
        alpha: Vec<(f64, f64)>,
    },
    /// Softmax cross-entropy with class weights and label smoothing (PyTorch's convention).
    SoftmaxCe {
        /// One per class (or one for all).
        weights: Vec<f64>,
        /// `ε`.
        smoothing: f64,
    },
    /// Softmax focal loss `−k_y (1 − p_y)^γ ln p_y`.
    SoftmaxFocal {
        /// `γ ≥ 0`.
        gamma: f64,
        /// `k_c = α_c·w_c`, one per class (or one for all).
        weights: Vec<f64>,
    },
}

/// The overlap score of a region term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RegionScore {
    /// `(2I + s_nr) / (P + T + s_dr)`.
    Dice,
    /// `(2I + s_nr) / (2(P + T − I) + s_dr)`.
    Jaccard,
    /// `(I + s_nr) / (I + α(P − I) + β(T − I) + s_dr)`.
    Tversky {
        /// Weight of false positives.
        alpha: f64,
        /// Weight of false negatives.
        beta: f64,
    },
    /// Generalized Dice with class weights from the target volumes.
    Generalized(GeneralizedWeighting),
}

/// Class weights of generalized Dice: `1/T²`, `1/T` or `1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneralizedWeighting {
    /// `1/T_c²`.
    Square,
    /// `1/T_c`.
    Simple,
    /// `1`.
    Uniform,
}

/// How a score `s` becomes a loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScoreTransform {
    /// `1 − s`.
    OneMinus,
    /// `−ln max(s, eps)`.
    NegLog,
    /// `max(1 − s, 0)^γ`.
    Power(f64),
}

/// A Dice-type region term.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionTerm {
    /// The score.
    pub score: RegionScore,
    /// Score to loss.
    pub transform: ScoreTransform,
    /// `Σp²`, `Σt²` in the denominator.
    pub squared: bool,
    /// Numerator smoothing.
    pub smooth_nr: f64,
    /// Denominator smoothing.
    pub smooth_dr: f64,
    /// Floor of the denominator (and of the score under `NegLog`).
    pub eps: f64,
    /// One term per class over the whole batch, instead of per image and class.
    pub batch: bool,
    /// Channel 0 forms no term (when `C > 1`).
    pub exclude_background: bool,
    /// Per-class weights; the mean divides by their sum.
    pub class_weights: Option<Vec<f64>>,
    /// A term with an empty target is 0 (and still counts in the mean).
    pub empty_is_zero: bool,
    /// Sum the terms instead of averaging them.
    pub sum: bool,
}

/// A complete loss for the composed path.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposedPlan {
    /// Softmax over channels (index targets) instead of element-wise sigmoid (dense targets).
    pub softmax: bool,
    /// The pixel term.
    pub pixel: PixelTerm,
    /// Its weight in the total.
    pub pixel_weight: f64,
    /// Sum the pixel term instead of averaging it.
    pub pixel_sum: bool,
    /// The region term and its weight.
    pub region: Option<(RegionTerm, f64)>,
    /// The ignore label (softmax losses).
    pub ignore_index: Option<i64>,
}

impl ComposedPlan {
    /// Evaluates the loss on canonical inputs; the result is a one-element tensor tracked
    /// by autodiff.
    ///
    /// The inputs' values are checked first as the core kernels check them (one device read,
    /// see [`crate::targets`]), so both paths reject the same input with the same error.
    ///
    /// # Errors
    /// [`Error::TargetKind`] for a mismatch between the activation and the targets given; a
    /// core [`segloss::Error::NonFinite`], [`segloss::Error::OutOfRange`],
    /// [`segloss::Error::LabelOutOfRange`] or [`segloss::Error::NegativeLabel`] for bad values.
    pub fn evaluate(
        &self,
        op: &'static str,
        logits: Tensor<3>,
        targets: SegTargets,
    ) -> Result<Tensor<1>> {
        let [n, c, s] = logits.dims();
        let device = logits.device();
        self.check(op, &logits, &targets)?;
        let mut total: Option<Tensor<1>> = None;
        let mut add = |t: Tensor<1>| {
            total = Some(match total.take() {
                Some(acc) => acc + t,
                None => t,
            })
        };
        match (self.softmax, targets) {
            (false, SegTargets::Dense(t)) => {
                let pixel = match &self.pixel {
                    PixelTerm::None => None,
                    PixelTerm::Bce {
                        pos_weight,
                        smoothing,
                    } => Some(bce(logits.clone(), t.clone(), pos_weight, *smoothing)),
                    PixelTerm::SigmoidFocal { gamma, alpha } => {
                        Some(sigmoid_focal(logits.clone(), t.clone(), *gamma, alpha))
                    }
                    _ => return Err(kind_error(op, "a sigmoid pixel term", "a softmax one")),
                };
                if let Some(map) = pixel {
                    let norm = if self.pixel_sum {
                        1.0
                    } else {
                        (n * c * s) as f64
                    };
                    add(sum_all(map) * (self.pixel_weight / norm));
                }
                if let Some((region, weight)) = &self.region {
                    // exp(log σ(x)): its derivative is p·σ(−x) from log-sigmoid's backward,
                    // which keeps full relative precision where p → 1 (σ's own backward,
                    // p·(1 − p), loses it to cancellation).
                    let p = burn::tensor::activation::log_sigmoid(logits).exp();
                    add(self.region_part(p, t, region, *weight));
                }
            }
            (true, SegTargets::Index(labels)) => {
                let log_p = log_softmax_channels(logits);
                let onehot = one_hot(labels.clone(), c);
                let valid = valid_mask(labels, self.ignore_index)
                    .unwrap_or_else(|| onehot.clone().sum_dim(1));
                let pixel = match &self.pixel {
                    PixelTerm::None => None,
                    PixelTerm::SoftmaxCe { weights, smoothing } => {
                        // Mean divides by Σ w_y over counted pixels (PyTorch).
                        let wy = (onehot.clone() * super::pixel::per_channel(weights, c, &log_p))
                            .sum_dim(1);
                        Some((
                            softmax_ce(
                                log_p.clone(),
                                onehot.clone(),
                                valid.clone(),
                                weights,
                                *smoothing,
                            ),
                            wy,
                        ))
                    }
                    PixelTerm::SoftmaxFocal { gamma, weights } => Some((
                        softmax_focal(log_p.clone(), onehot.clone(), *gamma, weights),
                        valid.clone(),
                    )),
                    _ => return Err(kind_error(op, "a softmax pixel term", "a sigmoid one")),
                };
                if let Some((map, norm_map)) = pixel {
                    let total = sum_all(map);
                    if self.pixel_sum {
                        add(total * self.pixel_weight);
                    } else {
                        // All pixels ignored: the term is 0 with gradient 0 (as the core).
                        let norm = sum_all(norm_map).detach();
                        let safe = norm.clone().clamp_min(f32::MIN_POSITIVE as f64);
                        let live = norm.greater_elem(0.0).float();
                        add(total / safe * live * self.pixel_weight);
                    }
                }
                if let Some((region, weight)) = &self.region {
                    let p = log_p.exp() * valid.clone();
                    add(self.region_part(p, onehot, region, *weight));
                }
            }
            (false, SegTargets::Index(_)) => {
                return Err(kind_error(
                    op,
                    "dense f32 masks (sigmoid losses)",
                    "class indices",
                ));
            }
            (true, SegTargets::Dense(_)) => {
                return Err(kind_error(
                    op,
                    "class indices (softmax losses)",
                    "dense f32 masks",
                ));
            }
        }
        Ok(total.unwrap_or_else(|| Tensor::zeros([1], &device)))
    }

    /// The unreduced pixel term: `[N, C, S]` for sigmoid losses, `[N, 1, S]` (one value per
    /// pixel, 0 where ignored) for softmax losses. The region term, if any, is left out.
    ///
    /// # Errors
    /// [`Error::TargetKind`] for targets that do not suit the activation; the value errors
    /// of [`Self::evaluate`].
    pub fn pixel_map(
        &self,
        op: &'static str,
        logits: Tensor<3>,
        targets: SegTargets,
    ) -> Result<Tensor<3>> {
        let c = logits.dims()[1];
        self.check(op, &logits, &targets)?;
        match (self.softmax, targets, &self.pixel) {
            (
                false,
                SegTargets::Dense(t),
                PixelTerm::Bce {
                    pos_weight,
                    smoothing,
                },
            ) => Ok(bce(logits, t, pos_weight, *smoothing)),
            (false, SegTargets::Dense(t), PixelTerm::SigmoidFocal { gamma, alpha }) => {
                Ok(sigmoid_focal(logits, t, *gamma, alpha))
            }
            (true, SegTargets::Index(labels), PixelTerm::SoftmaxCe { weights, smoothing }) => {
                let log_p = log_softmax_channels(logits);
                let onehot = one_hot(labels.clone(), c);
                let valid = valid_mask(labels, self.ignore_index)
                    .unwrap_or_else(|| onehot.clone().sum_dim(1));
                Ok(softmax_ce(log_p, onehot, valid, weights, *smoothing))
            }
            (true, SegTargets::Index(labels), PixelTerm::SoftmaxFocal { gamma, weights }) => {
                let log_p = log_softmax_channels(logits);
                Ok(softmax_focal(log_p, one_hot(labels, c), *gamma, weights))
            }
            (false, SegTargets::Index(_), _) => Err(kind_error(
                op,
                "dense f32 masks (sigmoid losses)",
                "class indices",
            )),
            (true, SegTargets::Dense(_), _) => Err(kind_error(
                op,
                "class indices (softmax losses)",
                "dense f32 masks",
            )),
            _ => Err(kind_error(
                op,
                "a loss with a pixel term",
                "a region-only loss",
            )),
        }
    }

    /// The value checks of [`check_values`], where the targets suit the activation (a
    /// mismatch is reported by the caller as [`Error::TargetKind`]).
    fn check(&self, op: &'static str, logits: &Tensor<3>, targets: &SegTargets) -> Result<()> {
        if self.softmax == matches!(targets, SegTargets::Index(_)) {
            check_values(op, logits, targets, self.ignore_index)?;
        }
        Ok(())
    }

    fn region_part(
        &self,
        p: Tensor<3>,
        t: Tensor<3>,
        region: &RegionTerm,
        weight: f64,
    ) -> Tensor<1> {
        let (loss, norm) = region_loss(p, t, region);
        let scale = if region.sum {
            weight
        } else if norm > 0.0 {
            weight / norm
        } else {
            0.0
        };
        loss * scale
    }
}

fn kind_error(op: &'static str, expected: &'static str, found: &'static str) -> Error {
    Error::TargetKind {
        op,
        expected,
        found,
    }
}
