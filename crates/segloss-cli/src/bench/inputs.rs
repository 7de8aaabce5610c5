//! Seeded random inputs for `segloss bench`, shaped like `torch_reference.py`'s.

use segloss::loss::Targets;

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, well-mixed generator; plenty for
/// benchmark inputs, and seeded so every run times the same data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal, by the Box–Muller transform (one of the pair is used).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1], so ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform in `0..n` (`n ≥ 1`), by Lemire's multiply-shift (bias below `2^-32` for the
    /// class counts used here).
    pub fn below(&mut self, n: u64) -> u64 {
        (((self.next_u64() >> 32) * n) >> 32).min(n - 1)
    }
}

/// Logits like PyTorch's `torch.randn(shape) * 3`.
pub fn logits(len: usize, rng: &mut SplitMix64) -> Vec<f32> {
    (0..len).map(|_| (3.0 * rng.normal()) as f32).collect()
}

/// Binary masks with each element positive with probability `positive`.
pub fn dense_targets(len: usize, positive: f64, rng: &mut SplitMix64) -> Vec<f32> {
    (0..len)
        .map(|_| if rng.uniform() < positive { 1.0 } else { 0.0 })
        .collect()
}

/// Class indices for multi-class losses, in the integer type the user asked for.
#[derive(Debug, Clone)]
pub enum IndexTargets {
    /// `u8` labels.
    U8(Vec<u8>),
    /// `u16` labels.
    U16(Vec<u16>),
    /// `u32` labels.
    U32(Vec<u32>),
    /// `i64` labels (PyTorch's type).
    I64(Vec<i64>),
}

/// The integer type of index targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IndexType {
    /// One byte per pixel (up to 256 classes).
    U8,
    /// Two bytes per pixel.
    U16,
    /// Four bytes per pixel.
    U32,
    /// Eight bytes per pixel, like PyTorch's `long` targets.
    I64,
}

impl IndexTargets {
    /// `len` labels drawn uniformly from `0..classes`.
    ///
    /// # Errors
    /// If `classes` does not fit the chosen type.
    pub fn uniform(
        len: usize,
        classes: usize,
        ty: IndexType,
        rng: &mut SplitMix64,
    ) -> anyhow::Result<Self> {
        let max = match ty {
            IndexType::U8 => u64::from(u8::MAX) + 1,
            IndexType::U16 => u64::from(u16::MAX) + 1,
            IndexType::U32 | IndexType::I64 => u64::from(u32::MAX) + 1,
        };
        let c = classes as u64;
        anyhow::ensure!(
            c <= max,
            "--index-type {ty:?} holds at most {max} classes, the shape has {classes}"
        );
        let mut draw = || rng.below(c);
        // The casts cannot truncate: every label is below `c ≤ max`.
        Ok(match ty {
            IndexType::U8 => Self::U8((0..len).map(|_| draw() as u8).collect()),
            IndexType::U16 => Self::U16((0..len).map(|_| draw() as u16).collect()),
            IndexType::U32 => Self::U32((0..len).map(|_| draw() as u32).collect()),
            IndexType::I64 => Self::I64((0..len).map(|_| draw() as i64).collect()),
        })
    }

    /// The labels as loss targets.
    pub fn as_targets(&self) -> Targets<'_> {
        match self {
            Self::U8(v) => Targets::U8(v),
            Self::U16(v) => Targets::U16(v),
            Self::U32(v) => Targets::U32(v),
            Self::I64(v) => Targets::I64(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_inputs_have_the_requested_statistics() {
        let mut rng = SplitMix64::new(7);
        let x = logits(100_000, &mut rng);
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
        let var = x
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / x.len() as f64;
        assert!(
            mean.abs() < 0.05 && (var.sqrt() - 3.0).abs() < 0.05,
            "{mean} {var}"
        );
        let t = dense_targets(100_000, 0.05, &mut rng);
        let frac = t.iter().filter(|&&v| v == 1.0).count() as f64 / t.len() as f64;
        assert!((frac - 0.05).abs() < 0.005, "{frac}");
        let IndexTargets::U8(idx) =
            IndexTargets::uniform(40_000, 4, IndexType::U8, &mut rng).expect("4 classes fit in u8")
        else {
            panic!("asked for u8")
        };
        for class in 0..4u8 {
            let n = idx.iter().filter(|&&v| v == class).count();
            assert!(
                (n as f64 / 10_000.0 - 1.0).abs() < 0.05,
                "class {class}: {n}"
            );
        }
        assert!(IndexTargets::uniform(10, 300, IndexType::U8, &mut rng).is_err());
        // Same seed, same data.
        assert_eq!(
            logits(10, &mut SplitMix64::new(1)),
            logits(10, &mut SplitMix64::new(1))
        );
    }
}
