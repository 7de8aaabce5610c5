//! Fused vs composed, forward + backward on Flex with autodiff, measured side by side in one
//! run with [`segloss_burn::bench::time_loss`].
//!
//! Target: binary Dice + focal on 8×1×512×512, the fused path at least 8× faster than the
//! composed path. Run: `cargo bench -p segloss-burn --bench fused_vs_composed`
//! (`SEGLOSS_BENCH_SHAPE=2,1,256,256` for another shape, `SEGLOSS_BENCH_REPS=5`).
//!
//! A plain `harness = false` main rather than criterion: criterion's dependency tree changes
//! the feature set of crates burn shares, which forces a second full build of burn.

use segloss_burn::bench::{BenchImpl, time_loss};
use segloss_burn::loss::DiceFocalLossConfig;

fn main() {
    let dims: Vec<usize> = std::env::var("SEGLOSS_BENCH_SHAPE")
        .ok()
        .map(|s| s.split(',').filter_map(|d| d.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 1, 512, 512]);
    let reps: usize = std::env::var("SEGLOSS_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let loss = DiceFocalLossConfig::new()
        .init()
        .expect("default config is valid");
    let elements: usize = dims.iter().product();
    let mut medians = Vec::new();
    for (name, imp) in [
        ("burn-fused", BenchImpl::BurnFused),
        ("burn-composed", BenchImpl::BurnComposed),
    ] {
        let t = time_loss(imp, &loss, &dims, reps).expect("valid inputs");
        println!(
            "dice_focal {dims:?} fwd+bwd {name:14} median {:8.2} ms  min {:8.2} ms  {:6.1} Melem/s",
            t.median_ms,
            t.min_ms,
            elements as f64 / t.median_ms / 1e3
        );
        medians.push(t.median_ms);
    }
    println!(
        "composed / fused = {:.1}x (target >= 8x)",
        medians[1] / medians[0]
    );
}
