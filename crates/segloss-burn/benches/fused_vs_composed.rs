//! Core kernel vs burn fused vs burn composed, forward + backward, measured side by side in
//! one run on the same inputs.
//!
//! - `core`: the core kernel's `Loss::forward` with a gradient, on host slices (gradient
//!   buffer allocated once), in the global rayon pool;
//! - `burn-fused`, `burn-composed`: [`segloss_burn::bench::time_loss_on`] on Flex with
//!   autodiff (a fresh `require_grad` leaf, `forward`, `backward()`, reading the gradient).
//!
//! Target: binary Dice + focal on 8×1×512×512, the fused path at least 8× faster than the
//! composed path. Run: `cargo bench -p segloss-burn --bench fused_vs_composed`
//! (`SEGLOSS_BENCH_SHAPE=2,1,256,256` for another shape, `SEGLOSS_BENCH_REPS=5`,
//! `SEGLOSS_BENCH_IMPLS=core,burn-fused` to time only some, e.g. under `perf record`).
//!
//! A plain `harness = false` main rather than criterion: criterion's dependency tree changes
//! the feature set of crates burn shares, which forces a second full build of burn.

#[path = "../tests/common/mod.rs"]
mod common;

use common::Rng;
use std::time::Instant;

use segloss::Shape;
use segloss::loss::Targets;
use segloss_burn::bench::{BenchImpl, time_loss_on};
use segloss_burn::loss::{BurnLoss, DiceFocalLossConfig};

/// Normal(0, 2), Box-Muller.
fn logit(rng: &mut Rng) -> f32 {
    let (u, v) = (rng.unit_f64(), rng.unit_f64());
    (2.0 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

fn median_min(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0])
}

fn main() {
    let dims: Vec<usize> = std::env::var("SEGLOSS_BENCH_SHAPE")
        .ok()
        .map(|s| s.split(',').filter_map(|d| d.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 1, 512, 512]);
    let reps: usize = std::env::var("SEGLOSS_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let impls = std::env::var("SEGLOSS_BENCH_IMPLS")
        .unwrap_or_else(|_| "core,burn-fused,burn-composed".into());
    let loss = DiceFocalLossConfig::new()
        .init()
        .expect("default config is valid");
    let shape = Shape::new(&dims).expect("a valid shape");
    let mut rng = Rng(20261129);
    let x: Vec<f32> = (0..shape.len()).map(|_| logit(&mut rng)).collect();
    let t: Vec<f32> = (0..shape.len())
        .map(|_| f32::from(rng.unit_f64() < 0.05))
        .collect();
    let elements = shape.len();
    let threads = rayon::current_num_threads();
    let mut medians = Vec::new();
    for name in impls.split(',') {
        let (median, min, value) = match name {
            "core" => {
                let mut grad = vec![0.0f32; elements];
                let mut pass = || {
                    let start = Instant::now();
                    let v = loss
                        .core()
                        .forward(&x, Targets::Dense(&t), &shape, Some(&mut grad))
                        .expect("valid inputs");
                    std::hint::black_box(&grad);
                    (start.elapsed().as_secs_f64() * 1e3, v)
                };
                let (_, mut value) = pass();
                let mut times = Vec::new();
                for _ in 0..reps.max(1) {
                    let (ms, v) = pass();
                    times.push(ms);
                    value = v;
                }
                let (median, min) = median_min(times);
                (median, min, value)
            }
            "burn-fused" | "burn-composed" => {
                let imp = if name == "burn-fused" {
                    BenchImpl::BurnFused
                } else {
                    BenchImpl::BurnComposed
                };
                let timing = time_loss_on(imp, &loss, &dims, &x, Targets::Dense(&t), reps)
                    .expect("valid inputs");
                (timing.median_ms, timing.min_ms, timing.value)
            }
            other => panic!("unknown implementation {other:?} in SEGLOSS_BENCH_IMPLS"),
        };
        println!(
            "dice_focal {dims:?} fwd+bwd {name:14} median {median:8.2} ms  min {min:8.2} ms  \
             {:6.1} Melem/s  loss {value:.6}  ({threads} threads)",
            elements as f64 / median / 1e3
        );
        medians.push((name.to_string(), median));
    }
    let get = |n: &str| medians.iter().find(|(m, _)| m == n).map(|(_, t)| *t);
    if let (Some(f), Some(c)) = (get("burn-fused"), get("burn-composed")) {
        println!("composed / fused = {:.1}x (target >= 8x)", c / f);
    }
    if let (Some(f), Some(k)) = (get("burn-fused"), get("core")) {
        println!("fused - core = {:.2} ms of burn overhead per call", f - k);
    }
}
