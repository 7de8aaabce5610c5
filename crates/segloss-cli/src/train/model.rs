//! A small U-Net (Ronneberger et al. 2015) for binary segmentation, in burn.
//!
//! `depth` levels of (3×3 conv, batch norm, ReLU) × 2 with 2×2 max-pooling between them, a
//! bottleneck, then the mirror image with 2×2 transposed convolutions and skip connections
//! (concatenation), and a 1×1 convolution to one logit per pixel. Level `k` has
//! `width · 2^k` channels. Height and width must be multiples of `2^depth`.
//!
//! The output layer's bias starts at the prior log-odds of the training set by default
//! ([`OutputBias::Prior`]); see there for why.

use anyhow::{Result, bail};
use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d, Relu};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Shape of the U-Net. Saved beside the weights (`model.json`) so `segloss predict` can
/// rebuild the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UNetConfig {
    /// Input channels. Default 3 (RGB).
    pub in_channels: usize,
    /// Channels of the first level; level `k` has `width · 2^k`. Default 8.
    pub width: usize,
    /// Number of down-sampling steps. Default 2.
    pub depth: usize,
}

impl Default for UNetConfig {
    fn default() -> Self {
        Self {
            in_channels: 3,
            width: 8,
            depth: 2,
        }
    }
}

/// Largest supported depth: 2^6 = 64 px is already coarser than any object the demo has.
const MAX_DEPTH: usize = 6;

impl UNetConfig {
    /// Sets the first level's width.
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Sets the number of down-sampling steps.
    pub fn with_depth(mut self, depth: usize) -> Self {
        self.depth = depth;
        self
    }

    /// Validates the shape.
    ///
    /// # Errors
    /// Zero channels or width, or a depth outside `1..=6`.
    pub fn check(&self) -> Result<()> {
        if self.in_channels == 0 {
            bail!("model input channels: expected at least 1, found 0");
        }
        if self.width == 0 || self.width > 256 {
            bail!("model width: expected 1..=256, found {}", self.width);
        }
        if !(1..=MAX_DEPTH).contains(&self.depth) {
            bail!(
                "model depth: expected 1..={MAX_DEPTH}, found {}",
                self.depth
            );
        }
        Ok(())
    }

    /// Side lengths must be multiples of this.
    pub fn multiple(&self) -> usize {
        1 << self.depth
    }

    /// Builds the network with freshly initialised weights on `device`.
    ///
    /// # Errors
    /// The shape fails [`UNetConfig::check`].
    pub fn init(&self, device: &Device) -> Result<UNet> {
        self.check()?;
        let w = |k: usize| self.width << k;
        let encoders = (0..self.depth)
            .map(|k| {
                let cin = if k == 0 { self.in_channels } else { w(k - 1) };
                ConvBlock::new(cin, w(k), device)
            })
            .collect();
        let bottleneck = ConvBlock::new(w(self.depth - 1), w(self.depth), device);
        let ups = (0..self.depth)
            .rev()
            .map(|k| {
                ConvTranspose2dConfig::new([w(k + 1), w(k)], [2, 2])
                    .with_stride([2, 2])
                    .init(device)
            })
            .collect();
        let decoders = (0..self.depth)
            .rev()
            .map(|k| ConvBlock::new(2 * w(k), w(k), device))
            .collect();
        Ok(UNet {
            encoders,
            bottleneck,
            ups,
            decoders,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            head: Conv2dConfig::new([w(0), 1], [1, 1]).init(device),
        })
    }
}

/// How the output layer's bias (the one logit per pixel) starts.
///
/// Why it matters: with a rare foreground (π ≈ 6 %) and burn's default uniform bias, the
/// untrained network predicts p ≈ 0.4 everywhere. The first steps of every BCE-type loss
/// then push all pixels down, and since the output layer reads non-negative (ReLU) features,
/// that push drives its weights negative. On some seeds every weight ends up negative, so the
/// logit can never exceed the bias and no pixel is ever predicted positive, although the
/// training loss keeps falling (seed 3 of the default run, see the README). Starting at the
/// prior removes that first phase (Lin et al. 2017, section 4.1, "Initialization").
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputBias {
    /// `b = log(π / (1 − π))`, π the foreground fraction of the training masks (clamped
    /// to `[1e-4, 1 − 1e-4]`): the untrained network predicts the prior everywhere. The
    /// same for every loss. Default.
    Prior,
    /// burn's default, uniform in `±1/√fan_in` like the weights (the behaviour before the
    /// prior was introduced; for comparison).
    Uniform,
}

/// Bounds of the π used by [`OutputBias::Prior`]: a training set without foreground (or
/// without background) must not give an infinite bias.
const PRIOR_CLAMP: f64 = 1e-4;

impl OutputBias {
    /// The starting bias for a training set whose masks are a fraction `foreground` positive,
    /// or `None` to keep burn's random initialisation.
    ///
    /// `Prior`: `log(π / (1 − π))` with `π = clamp(foreground, 1e-4, 1 − 1e-4)`; e.g.
    /// π = 0.0625 gives −2.708.
    pub fn value(self, foreground: f64) -> Option<f32> {
        match self {
            OutputBias::Prior => {
                // NaN (an empty set) falls back to 1/2, i.e. a zero bias.
                let p = if foreground.is_nan() { 0.5 } else { foreground };
                let p = p.clamp(PRIOR_CLAMP, 1.0 - PRIOR_CLAMP);
                Some((p / (1.0 - p)).ln() as f32)
            }
            OutputBias::Uniform => None,
        }
    }
}

/// (3×3 conv → batch norm → ReLU) × 2.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv1: Conv2d,
    norm1: BatchNorm,
    conv2: Conv2d,
    norm2: BatchNorm,
    relu: Relu,
}

impl ConvBlock {
    fn new(cin: usize, cout: usize, device: &Device) -> Self {
        let conv = |a, b| {
            Conv2dConfig::new([a, b], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                // Batch norm follows, so a conv bias would be redundant.
                .with_bias(false)
                .init(device)
        };
        Self {
            conv1: conv(cin, cout),
            norm1: BatchNormConfig::new(cout).init(device),
            conv2: conv(cout, cout),
            norm2: BatchNormConfig::new(cout).init(device),
            relu: Relu::new(),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.relu.forward(self.norm1.forward(self.conv1.forward(x)));
        self.relu.forward(self.norm2.forward(self.conv2.forward(x)))
    }
}

/// The network. Build it with [`UNetConfig::init`].
#[derive(Module, Debug)]
pub struct UNet {
    encoders: Vec<ConvBlock>,
    bottleneck: ConvBlock,
    ups: Vec<ConvTranspose2d>,
    decoders: Vec<ConvBlock>,
    pool: MaxPool2d,
    head: Conv2d,
}

impl UNet {
    /// Replaces the output layer's bias by `value` (trainable), on `device`.
    ///
    /// The replaced bias is never read, so with burn's lazy initialisation it draws no random
    /// numbers: every other weight is the same as without this call.
    pub fn with_output_bias(mut self, value: f32, device: &Device) -> Self {
        self.head.bias = Some(Param::from_tensor(Tensor::full([1], value, device)));
        self
    }

    /// Logits `B×1×H×W` for inputs `B×C×H×W` (H and W multiples of `2^depth`).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut skips = Vec::with_capacity(self.encoders.len());
        let mut x = x;
        for enc in &self.encoders {
            let y = enc.forward(x);
            x = self.pool.forward(y.clone());
            skips.push(y);
        }
        let mut x = self.bottleneck.forward(x);
        for ((up, dec), skip) in self
            .ups
            .iter()
            .zip(&self.decoders)
            .zip(skips.into_iter().rev())
        {
            let u = up.forward(x);
            x = dec.forward(Tensor::cat(vec![u, skip], 1));
        }
        self.head.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_shape_and_parameter_count() {
        let device = Device::flex();
        let cfg = UNetConfig::default().with_width(4).with_depth(2);
        let net = cfg.init(&device).unwrap();
        let y = net.forward(Tensor::zeros([2, 3, 16, 16], &device));
        assert_eq!(y.dims(), [2, 1, 16, 16]);
        // enc0: 3·4·9 + 4·4·9, enc1: 4·8·9 + 8·8·9, bottleneck: 8·16·9 + 16·16·9,
        // ups: 16·8·4+8, 8·4·4+4, dec1: 16·8·9 + 8·8·9, dec0: 8·4·9 + 4·4·9,
        // batch norms: 4 values × channels (γ, β, and the running mean and variance, which
        // burn's `num_params` counts too), head: 4 + 1.
        let convs = 9 * (12 + 16 + 32 + 64 + 128 + 256 + 128 + 64 + 32 + 16);
        let ups = 16 * 8 * 4 + 8 + 8 * 4 * 4 + 4;
        let norms = 4 * (4 + 4 + 8 + 8 + 16 + 16 + 8 + 8 + 4 + 4);
        assert_eq!(net.num_params(), convs + ups + norms + 5);
    }

    #[test]
    fn prior_bias_is_the_log_odds() {
        let b = OutputBias::Prior.value(0.0625).unwrap();
        assert!((b - (0.0625f32 / 0.9375).ln()).abs() < 1e-6, "{b}");
        assert!((OutputBias::Prior.value(0.5).unwrap()).abs() < 1e-7);
        // No foreground at all: clamped, finite.
        let b0 = OutputBias::Prior.value(0.0).unwrap();
        assert!((b0 - (1e-4f32 / (1.0 - 1e-4)).ln()).abs() < 1e-4, "{b0}");
        assert!(OutputBias::Prior.value(f64::NAN).unwrap() == 0.0);
        assert_eq!(OutputBias::Uniform.value(0.0625), None);
    }

    #[test]
    fn output_bias_shifts_every_logit_by_the_change_of_bias() {
        let device = Device::flex();
        let net = UNetConfig::default().with_width(4).init(&device).unwrap();
        let x = || Tensor::<4>::ones([1, 3, 8, 8], &device);
        let logits =
            |n: &UNet| -> Vec<f32> { n.forward(x()).into_data().try_into_vec::<f32>().unwrap() };
        // The first forward pass initialises every (lazy) parameter.
        let before = logits(&net);
        let old: Vec<f32> = net
            .head
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let after = logits(&net.clone().with_output_bias(-2.5, &device));
        for (a, b) in before.iter().zip(&after) {
            assert!((b - a - (-2.5 - old[0])).abs() < 1e-5, "{a} -> {b}");
        }
    }

    #[test]
    fn bad_shapes_are_rejected() {
        assert!(UNetConfig::default().with_depth(0).check().is_err());
        assert!(UNetConfig::default().with_width(0).check().is_err());
    }
}
