//! Which losses a run compares: parsing `--losses`, and evaluating a weighted sum of terms.
//!
//! A loss is written as terms joined by `+`, each with an optional weight:
//! `dice+bce`, `dice+0.5*focal`, `2*balanced-bce`. Term names: `bce`, `balanced-bce`,
//! `focal`, `dice`.

use std::fmt;

use anyhow::{Context, Result, bail};
use burn::tensor::Tensor;
use segloss_burn::loss::{BceLossConfig, DiceLossConfig, FocalAlpha, FocalLossConfig};

/// One term of a loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// Binary cross-entropy.
    Bce,
    /// Alpha-balanced BCE: positives weighted by `α`, negatives by `1 − α`.
    BalancedBce,
    /// Focal loss (Lin et al. 2017): `α`-balanced, modulated by `(1 − p_t)^γ`.
    Focal,
    /// Soft Dice loss.
    Dice,
}

impl Term {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Term::Bce => "bce",
            Term::BalancedBce => "balanced-bce",
            Term::Focal => "focal",
            Term::Dice => "dice",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "bce" => Term::Bce,
            "balanced-bce" | "alpha-bce" => Term::BalancedBce,
            "focal" => Term::Focal,
            "dice" => Term::Dice,
            other => {
                bail!("unknown loss term {other:?}: expected one of bce, balanced-bce, focal, dice")
            }
        })
    }
}

/// A loss: a weighted sum of terms, e.g. `dice + 0.5·focal`.
#[derive(Debug, Clone, PartialEq)]
pub struct LossSpec {
    /// `(weight, term)` pairs; weights are positive and finite.
    pub terms: Vec<(f32, Term)>,
}

impl fmt::Display for LossSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (w, t)) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            if *w != 1.0 {
                write!(f, "{w}*")?;
            }
            f.write_str(t.name())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for LossSpec {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let mut terms = Vec::new();
        for part in s.split('+') {
            let part = part.trim();
            let (w, name) = match part.split_once('*') {
                Some((w, name)) => {
                    let w: f32 = w
                        .trim()
                        .parse()
                        .with_context(|| format!("loss {s:?}: weight {w:?} is not a number"))?;
                    (w, name.trim())
                }
                None => (1.0, part),
            };
            if !(w.is_finite() && w > 0.0) {
                bail!("loss {s:?}: weights must be positive and finite, found {w}");
            }
            let term = Term::parse(name).with_context(|| format!("loss {s:?}"))?;
            if terms.iter().any(|&(_, t)| t == term) {
                bail!("loss {s:?}: term {} appears twice", term.name());
            }
            terms.push((w, term));
        }
        if terms.is_empty() {
            bail!("empty loss");
        }
        Ok(Self { terms })
    }
}

/// The default comparison: BCE, alpha-balanced BCE, focal, Dice, Dice + BCE, Dice + focal
/// (the same list as `--losses`' default).
#[cfg(test)]
pub fn default_losses() -> Vec<LossSpec> {
    [
        "bce",
        "balanced-bce",
        "focal",
        "dice",
        "dice+bce",
        "dice+focal",
    ]
    .iter()
    .map(|s| s.parse().expect("built-in loss names parse"))
    .collect()
}

/// Settings shared by the terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossParams {
    /// `α` of the balanced BCE. Default 0.75, the best value for γ = 0 in Lin et al. (2017),
    /// Table 1a.
    pub bce_alpha: f32,
    /// `α` of the focal loss. Default 0.25, the paper's value with γ = 2.
    pub focal_alpha: f32,
    /// `γ` of the focal loss. Default 2.
    pub gamma: f32,
}

impl Default for LossParams {
    fn default() -> Self {
        Self {
            bce_alpha: 0.75,
            focal_alpha: 0.25,
            gamma: 2.0,
        }
    }
}

impl LossParams {
    /// Validates the settings.
    ///
    /// # Errors
    /// An `α` outside `(0, 1)` or a `γ` negative or not finite.
    pub fn check(&self) -> Result<()> {
        for (name, a) in [
            ("bce alpha", self.bce_alpha),
            ("focal alpha", self.focal_alpha),
        ] {
            if !(a > 0.0 && a < 1.0) {
                bail!("{name}: expected a value in (0, 1), found {a}");
            }
        }
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            bail!(
                "focal gamma: expected a finite value >= 0, found {}",
                self.gamma
            );
        }
        Ok(())
    }
}

impl LossSpec {
    /// Checks that every term can be computed (kept for future terms that need features).
    ///
    /// # Errors
    /// None today.
    pub fn check(&self) -> Result<()> {
        Ok(())
    }

    /// The loss of `logits` (`B×1×H×W`) against `targets` (same shape, 0/1), a scalar tensor.
    ///
    /// # Errors
    /// segloss-burn's typed error for inputs that do not fit (named after the loss).
    pub fn forward(
        &self,
        params: &LossParams,
        logits: Tensor<4>,
        targets: Tensor<4>,
    ) -> Result<Tensor<1>> {
        let mut total: Option<Tensor<1>> = None;
        for &(w, term) in &self.terms {
            let value = term_forward(term, params, logits.clone(), targets.clone())
                .with_context(|| format!("loss {self}, term {}", term.name()))?
                .mul_scalar(w);
            total = Some(match total {
                Some(t) => t + value,
                None => value,
            });
        }
        total.context("a loss has at least one term")
    }
}

/// One term, computed by segloss-burn (fused kernel on Flex, burn ops elsewhere).
///
/// - `bce`: `BceLossConfig` defaults (mean over pixels);
/// - `balanced-bce`: focal loss with `γ = 0` and `α = bce_alpha` (Lin et al.'s α-balanced CE);
/// - `focal`: `γ = gamma`, `α = focal_alpha` (negatives weighted `1 − α`);
/// - `dice`: `DiceLossConfig` defaults (soft Dice per image, smoothing 1e-5).
fn term_forward(
    term: Term,
    params: &LossParams,
    logits: Tensor<4>,
    targets: Tensor<4>,
) -> Result<Tensor<1>> {
    Ok(match term {
        Term::Bce => BceLossConfig::new().init()?.forward(logits, targets)?,
        Term::BalancedBce => FocalLossConfig::new()
            .with_gamma(0.0)
            .with_alpha(FocalAlpha::Balanced(params.bce_alpha))
            .init()?
            .forward(logits, targets)?,
        Term::Focal => FocalLossConfig::new()
            .with_gamma(params.gamma)
            .with_alpha(FocalAlpha::Balanced(params.focal_alpha))
            .init()?
            .forward(logits, targets)?,
        Term::Dice => DiceLossConfig::new().init()?.forward(logits, targets)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let s: LossSpec = "dice + 0.5*focal".parse().unwrap();
        assert_eq!(s.terms, vec![(1.0, Term::Dice), (0.5, Term::Focal)]);
        assert_eq!(s.to_string(), "dice+0.5*focal");
        assert_eq!(default_losses().len(), 6);
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let e = "dice+foo".parse::<LossSpec>().unwrap_err();
        assert!(format!("{e:#}").contains("foo"));
        let e = "-1*dice".parse::<LossSpec>().unwrap_err();
        assert!(format!("{e:#}").contains("positive"));
        let e = "dice+dice".parse::<LossSpec>().unwrap_err();
        assert!(format!("{e:#}").contains("twice"));
    }
}
