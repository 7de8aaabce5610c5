//! A small U-Net (Ronneberger et al. 2015) for binary segmentation, in burn.
//!
//! `depth` levels of (3×3 conv, batch norm, ReLU) × 2 with 2×2 max-pooling between them, a
//! bottleneck, then the mirror image with 2×2 transposed convolutions and skip connections
//! (concatenation), and a 1×1 convolution to one logit per pixel. Level `k` has
//! `width · 2^k` channels. Height and width must be multiples of `2^depth`.

use anyhow::{Result, bail};
use burn::module::Module;
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
    fn bad_shapes_are_rejected() {
        assert!(UNetConfig::default().with_depth(0).check().is_err());
        assert!(UNetConfig::default().with_width(0).check().is_err());
    }
}
