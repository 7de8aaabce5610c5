//! Pixel terms (BCE, focal, cross-entropy), element-wise, from tensor ops.

use burn::tensor::Tensor;
use burn::tensor::activation::log_sigmoid;

/// A per-channel parameter as a `[1, C, 1]` tensor (one value broadcast to all channels).
pub(crate) fn per_channel(values: &[f64], c: usize, like: &Tensor<3>) -> Tensor<3> {
    let v: Vec<f32> = if values.len() == 1 {
        vec![values[0] as f32; c]
    } else {
        values.iter().map(|&v| v as f32).collect()
    };
    Tensor::<1>::from_data(v.as_slice(), &like.device()).reshape([1, c, 1])
}

/// Element-wise BCE with logits: `ℓ = (1-t')·softplus(x) + w·t'·softplus(-x)`,
/// `t' = t(1-ε) + ε/2`, `w` the positive weight (per channel).
pub(crate) fn bce(x: Tensor<3>, t: Tensor<3>, pos_weight: &[f64], smoothing: f64) -> Tensor<3> {
    let c = x.dims()[1];
    let t = if smoothing > 0.0 {
        t * (1.0 - smoothing) + smoothing / 2.0
    } else {
        t
    };
    let w = per_channel(pos_weight, c, &x);
    // softplus(x) = -log σ(-x), softplus(-x) = -log σ(x).
    let sp_pos = log_sigmoid(x.clone().neg()).neg();
    let sp_neg = log_sigmoid(x).neg();
    (t.clone().neg().add_scalar(1.0)) * sp_pos + w * t * sp_neg
}

/// Element-wise sigmoid focal loss (torchvision's form, soft targets included):
/// `ℓ = α_t·q^γ·BCE(x, t)`, `q = t·σ(-x) + (1-t)·σ(x)`, `α_t = α₊·t + α₋·(1-t)` per channel.
///
/// `ln q = logsumexp(ln t + log σ(-x), ln(1-t) + log σ(x))`, so `q^γ = exp(γ ln q)` is exact
/// in log space and finite for `γ < 1` (the log-sum-exp's shift is detached: the result
/// does not depend on it).
pub(crate) fn sigmoid_focal(
    x: Tensor<3>,
    t: Tensor<3>,
    gamma: f64,
    alpha: &[(f64, f64)],
) -> Tensor<3> {
    let c = x.dims()[1];
    let ls_pos = log_sigmoid(x.clone());
    let ls_neg = log_sigmoid(x.neg());
    let one_m_t = t.clone().neg().add_scalar(1.0);
    let bce = (one_m_t.clone() * ls_neg.clone() + t.clone() * ls_pos.clone()).neg();
    let mut loss = if gamma == 0.0 {
        bce
    } else {
        let a = t.clone().log() + ls_neg;
        let b = one_m_t.clone().log() + ls_pos;
        let m = a.clone().max_pair(b.clone()).detach();
        let ln_q = ((a - m.clone()).exp() + (b - m.clone()).exp()).log() + m;
        (ln_q * gamma).exp() * bce
    };
    if !alpha.is_empty() {
        let ap: Vec<f64> = alpha.iter().map(|a| a.0).collect();
        let an: Vec<f64> = alpha.iter().map(|a| a.1).collect();
        loss = loss
            * (t * per_channel(&ap, c, &one_m_t) + one_m_t.clone() * per_channel(&an, c, &one_m_t));
    }
    loss
}

/// Softmax cross-entropy per pixel `[N, 1, S]` (PyTorch's convention):
/// `ℓ = Σ_c q_c·(−ln p_c)`, `q_c = (1−ε)·w_y·[c = y] + (ε/C)·w_c`; `onehot` is zero on
/// ignored pixels, which then contribute nothing.
pub(crate) fn softmax_ce(
    log_p: Tensor<3>,
    onehot: Tensor<3>,
    valid: Tensor<3>,
    weights: &[f64],
    smoothing: f64,
) -> Tensor<3> {
    let c = log_p.dims()[1];
    let w = per_channel(weights, c, &log_p);
    let q = if smoothing > 0.0 {
        onehot * w.clone() * (1.0 - smoothing) + valid * w * (smoothing / c as f64)
    } else {
        onehot * w
    };
    (q * log_p).sum_dim(1).neg()
}

/// Softmax focal loss per pixel `[N, 1, S]`: `ℓ = −k_y·(1 − p_y)^γ·ln p_y`, with
/// `(1 − p_y)^γ = exp(γ·ln(1 − p_y))`; zero on ignored pixels.
pub(crate) fn softmax_focal(
    log_p: Tensor<3>,
    onehot: Tensor<3>,
    gamma: f64,
    k: &[f64],
) -> Tensor<3> {
    let c = log_p.dims()[1];
    let k = per_channel(k, c, &log_p);
    let ln_py = (onehot.clone() * log_p).sum_dim(1);
    let ky = (onehot * k).sum_dim(1);
    let modulating = if gamma == 0.0 {
        ln_py.ones_like()
    } else {
        // ln(1 - p_y) = ln(-expm1(ln p_y)); clamp keeps p_y = 1 (a perfect pixel) finite.
        let one_m_p = ln_py
            .clone()
            .exp()
            .neg()
            .add_scalar(1.0)
            .clamp_min(f32::MIN_POSITIVE as f64);
        (one_m_p.log() * gamma).exp()
    };
    (ky * modulating * ln_py).neg()
}
