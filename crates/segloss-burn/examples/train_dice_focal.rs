//! Trains a small conv net for a few steps on Flex with Dice + focal and prints the loss
//! falling.
//!
//! The task is synthetic and imbalanced, as segmentation usually is: find a few small bright
//! disks (about 4% of the pixels) in noisy 32×32 images.
//!
//! Run: `cargo run --release -p segloss-burn --example train_dice_focal [steps]`

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use segloss_burn::loss::{DiceFocalLossConfig, DiceLossConfig};
use segloss_burn::metrics::batch_confusion_matrix;

/// Three 3×3 convolutions: 1 → 16 → 16 → 1 logit per pixel.
#[derive(Module, Debug)]
struct Net {
    c1: Conv2d,
    c2: Conv2d,
    c3: Conv2d,
}

impl Net {
    fn new(device: &Device) -> Self {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device)
        };
        Self {
            c1: conv(1, 16),
            c2: conv(16, 16),
            c3: conv(16, 1),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(self.c1.forward(x));
        let x = relu(self.c2.forward(x));
        self.c3.forward(x)
    }
}

/// A deterministic generator (SplitMix64) for the synthetic data.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `n` noisy images with 2 disks of radius 2 each, and their masks.
fn batch(rng: &mut Rng, n: usize, size: usize, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let mut img = vec![0f32; n * size * size];
    let mut mask = vec![0f32; n * size * size];
    for b in 0..n {
        for _ in 0..2 {
            let cy = 3.0 + rng.unit() * (size as f32 - 6.0);
            let cx = 3.0 + rng.unit() * (size as f32 - 6.0);
            for y in 0..size {
                for x in 0..size {
                    let (dy, dx) = (y as f32 - cy, x as f32 - cx);
                    if dy * dy + dx * dx <= 4.5 {
                        mask[b * size * size + y * size + x] = 1.0;
                    }
                }
            }
        }
        for i in 0..size * size {
            let k = b * size * size + i;
            img[k] = mask[k] + 0.6 * (rng.unit() - 0.5);
        }
    }
    let shape = [n, 1, size, size];
    (
        Tensor::from_data(TensorData::new(img, shape), device),
        Tensor::from_data(TensorData::new(mask, shape), device),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steps: usize = std::env::args().nth(1).map_or(Ok(40), |s| s.parse())?;
    // Subnormal gradients late in training slow CPU backward passes; see `denormals`.
    let ftz = segloss_burn::denormals::flush_denormals_to_zero();
    println!("flush-to-zero / denormals-are-zero set: {ftz}");

    let device = Device::flex().autodiff();
    device.seed(42);
    let mut model = Net::new(&device);
    let mut optim = AdamConfig::new().init();
    // Dice per image over the foreground + focal (Lin et al.: α = 0.25, γ = 2).
    let loss_fn = DiceFocalLossConfig::new()
        .with_dice(DiceLossConfig::new())
        .with_lambda_focal(10.0)
        .init()?;
    let mut rng = Rng(7);
    let (x_val, y_val) = batch(&mut Rng(99), 16, 32, &device);

    let mut first = None;
    let mut last = 0.0;
    for step in 1..=steps {
        let (x, y) = batch(&mut rng, 16, 32, &device);
        let logits = model.forward(x);
        let loss = loss_fn.forward(logits, y)?;
        let value: f32 = loss.clone().into_scalar();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
        first.get_or_insert(value);
        last = value;
        if step == 1 || step % 5 == 0 || step == steps {
            let logits = model.forward(x_val.clone()).reshape([16, 1, 32 * 32]);
            let truth = y_val.clone().reshape([16, 32 * 32]).int();
            let cm = batch_confusion_matrix(logits, truth, None)?;
            let (tp, fp, fn_) = (cm[3] as f64, cm[1] as f64, cm[2] as f64);
            let dice = if tp + fp + fn_ > 0.0 {
                2.0 * tp / (2.0 * tp + fp + fn_)
            } else {
                1.0
            };
            println!("step {step:3}  loss {value:.4}  validation Dice {dice:.3}");
        }
    }
    let first = first.unwrap_or(last);
    println!("loss {first:.4} -> {last:.4}");
    Ok(())
}
