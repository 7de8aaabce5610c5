//! The Dice-type region term (Dice, Jaccard, Tversky, generalized Dice), from tensor ops.

use burn::tensor::{Bool, Tensor};

use super::plan::{RegionScore, RegionTerm, ScoreTransform};
use super::sums::{sum_batch_spatial, sum_spatial};

/// `(L, norm)` of the region term for probabilities `p` and targets `t` (`[N, C, S]`, already
/// masked on ignored pixels): `L` is the sum of the (class-weighted) term losses and `norm`
/// what the mean divides by, both one-element tensors / plain numbers.
pub(crate) fn region_loss(p: Tensor<3>, t: Tensor<3>, spec: &RegionTerm) -> (Tensor<1>, f64) {
    let [n, c, _] = p.dims();
    let device = p.device();
    let inter = p.clone() * t.clone();
    let (pp, tt) = if spec.squared {
        (p.clone() * p, t.clone() * t)
    } else {
        (p, t)
    };
    // Sums per (image, class) `[N, C]`, or per class over the batch `[1, C]`.
    let sums = |x: Tensor<3>| -> Tensor<2> {
        if spec.batch {
            sum_batch_spatial(x).reshape([1, c])
        } else {
            sum_spatial(x)
        }
    };
    let (i, ps, ts) = (sums(inter), sums(pp), sums(tt));
    let groups = if spec.batch { 1 } else { n };
    let included: Vec<f32> = (0..c)
        .map(|k| (!(k == 0 && c > 1 && spec.exclude_background)) as u8 as f32)
        .collect();
    let included = Tensor::<1>::from_data(included.as_slice(), &device).reshape([1, c]);

    if let RegionScore::Generalized(weighting) = spec.score {
        let zero_t: Tensor<2, Bool> = ts.clone().lower_equal_elem(0.0);
        let w = match weighting {
            GeneralizedWeighting::Square => (ts.clone() * ts.clone()).recip(),
            GeneralizedWeighting::Simple => ts.clone().recip(),
            GeneralizedWeighting::Uniform => ts.clone().ones_like(),
        };
        let w = match weighting {
            GeneralizedWeighting::Uniform => w * included.clone(),
            _ => {
                // MONAI: an empty class (infinite weight) takes the group's largest weight.
                let finite = w.mask_fill(zero_t.clone(), 0.0) * included.clone();
                let wmax = finite.clone().max_dim(1);
                finite + zero_t.float() * included.clone() * wmax
            }
        }
        .detach();
        let num = (w.clone() * i * 2.0).sum_dim(1) + spec.smooth_nr;
        let den = (w * (ps + ts)).sum_dim(1) + spec.smooth_dr;
        let score = num / den.clamp_min(spec.eps);
        let loss = transform(score, spec);
        return (loss.sum().reshape([1]), groups as f64);
    }

    let (num, den) = match spec.score {
        RegionScore::Dice => (i * 2.0 + spec.smooth_nr, ps + ts.clone() + spec.smooth_dr),
        RegionScore::Jaccard => (
            i.clone() * 2.0 + spec.smooth_nr,
            (ps + ts.clone() - i) * 2.0 + spec.smooth_dr,
        ),
        RegionScore::Tversky { alpha, beta } => (
            i.clone() + spec.smooth_nr,
            i.clone() + (ps - i.clone()) * alpha + (ts.clone() - i) * beta + spec.smooth_dr,
        ),
        RegionScore::Generalized(_) => unreachable!("handled above"),
    };
    // Below `eps` the denominator is held at `eps` and carries no gradient (as the core).
    let score = num / den.clamp_min(spec.eps);
    let mut loss = transform(score, spec);
    if spec.empty_is_zero {
        loss = loss * ts.greater_elem(0.0).float();
    }
    let weights: Vec<f64> = match &spec.class_weights {
        Some(w) => w.clone(),
        None => vec![1.0; c],
    };
    let wt = Tensor::<1>::from_data(
        weights
            .iter()
            .map(|&v| v as f32)
            .collect::<Vec<_>>()
            .as_slice(),
        &device,
    )
    .reshape([1, c])
        * included;
    let norm = groups as f64
        * (0..c)
            .filter(|&k| !(k == 0 && c > 1 && spec.exclude_background))
            .map(|k| weights[k])
            .sum::<f64>();
    ((loss * wt).sum().reshape([1]), norm)
}

fn transform(score: Tensor<2>, spec: &RegionTerm) -> Tensor<2> {
    match spec.transform {
        ScoreTransform::OneMinus => score.neg().add_scalar(1.0),
        ScoreTransform::NegLog => score.clamp_min(spec.eps).log().neg(),
        ScoreTransform::Power(g) => score.neg().add_scalar(1.0).clamp_min(0.0).powf_scalar(g),
    }
}

pub(crate) use super::plan::GeneralizedWeighting;
