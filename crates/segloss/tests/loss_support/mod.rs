//! Helpers shared by the loss integration tests.
#![allow(dead_code)]

pub mod naive;

use std::path::PathBuf;

/// `../shared/reference/<name>` beside the workspace, or `$SEGLOSS_REFERENCE_DIR/<name>`.
/// Panics (fails the test) if the file is missing: references are never silently skipped.
pub fn reference(name: &str) -> serde_json::Value {
    let dir = std::env::var_os("SEGLOSS_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/reference"
            ))
        });
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reference file {} is required: {e}", path.display()));
    serde_json::from_str(&text).expect("reference JSON parses")
}

/// Asserts `|a − b| ≤ rel·|b| + abs` element-wise, naming the case and the position.
pub fn assert_close(case: &str, what: &str, a: &[f64], b: &[f64], rel: f64, abs: f64) {
    assert_eq!(a.len(), b.len(), "{case}: {what} lengths");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.is_finite() && (x - y).abs() <= rel * y.abs() + abs,
            "{case}: {what}[{i}] = {x}, reference {y} (diff {:e}, bound {:e})",
            (x - y).abs(),
            rel * y.abs() + abs
        );
    }
}

/// Largest absolute value.
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// A small deterministic generator (SplitMix64), so tests need no extra dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly normal (sum of uniforms), scaled.
    pub fn normal(&mut self, scale: f64) -> f64 {
        let s: f64 = (0..4).map(|_| self.uniform()).sum::<f64>() - 2.0;
        s * scale * 1.7
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
