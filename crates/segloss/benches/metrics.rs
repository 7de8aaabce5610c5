//! Counting speed of the metrics engine on 64 Mi-pixel `u8` masks.
//!
//! Targets (single thread, same machine, same run): binary and 6-class counting at least
//! 20× numpy's `np.bincount(truth * k + pred, minlength=k*k)` (time it with
//! `python3 crates/segloss/benches/numpy_bincount.py`); binary within 3× of the
//! `read_floor` (one pass that only reads both masks); with `--features rayon` on 2
//! threads at least 1.7× one thread.
//!
//! Run: `cargo bench -p segloss --features rayon --bench metrics`
//! (`SEGLOSS_BENCH_PIXELS` overrides the size, default 64 Mi).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use multiversion::multiversion;
use segloss::metrics::{BinaryConfusion, ConfusionMatrix};
use std::hint::black_box;
use std::time::Duration;

fn pixels() -> usize {
    std::env::var("SEGLOSS_BENCH_PIXELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64 << 20)
}

/// Deterministic masks: truth with about 10% foreground in runs (as real masks), prediction
/// equal to truth except about 1 pixel in 8 (xorshift noise).
fn masks(n: usize, k: u8) -> (Vec<u8>, Vec<u8>) {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut truth = vec![0u8; n];
    let mut pred = vec![0u8; n];
    let mut cur = 0u8;
    for i in 0..n {
        let r = next();
        if r % 64 == 0 {
            cur = if k == 2 {
                ((r >> 8) % 10 == 0) as u8
            } else {
                ((r >> 8) % k as u64) as u8
            };
        }
        truth[i] = cur;
        pred[i] = if (r >> 20) % 8 == 0 {
            ((r >> 24) % k as u64) as u8
        } else {
            cur
        };
    }
    (truth, pred)
}

/// The floor: read both masks once and do the least possible work with every byte.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2+avx+sse4.2+bmi1+bmi2+popcnt",
    "x86_64+avx2+avx+sse4.2+bmi1+bmi2+popcnt",
    "aarch64+neon"
))]
fn read_floor(t: &[u8], p: &[u8]) -> u64 {
    let mut acc = [0u8; 64];
    for (x, y) in t.chunks_exact(64).zip(p.chunks_exact(64)) {
        for l in 0..64 {
            acc[l] = acc[l].wrapping_add(x[l] ^ y[l]);
        }
    }
    acc.iter().map(|&v| v as u64).sum()
}

fn bench(c: &mut Criterion) {
    let n = pixels();
    for (name, k) in [("binary", 2u8), ("6class", 6u8)] {
        let (truth, pred) = masks(n, k);
        let mut g = c.benchmark_group(format!("count_{name}"));
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(3));
        if k == 2 {
            g.bench_function("read_floor", |b| {
                b.iter(|| black_box(read_floor(black_box(&truth), black_box(&pred))))
            });
        }
        let count = |t: &[u8], p: &[u8]| {
            if k == 2 {
                let mut m = BinaryConfusion::new();
                m.update(t, p).expect("valid masks");
                m.counts().tp
            } else {
                let mut m = ConfusionMatrix::new(k as usize).expect("k");
                m.update(t, p).expect("valid masks");
                m.total()
            }
        };
        #[cfg(feature = "rayon")]
        let pool1 = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        #[cfg(feature = "rayon")]
        g.bench_function("segloss_1_thread", |b| {
            b.iter(|| pool1.install(|| black_box(count(black_box(&truth), black_box(&pred)))))
        });
        #[cfg(not(feature = "rayon"))]
        g.bench_function("segloss_1_thread", |b| {
            b.iter(|| black_box(count(black_box(&truth), black_box(&pred))))
        });
        #[cfg(feature = "rayon")]
        {
            let pool2 = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .expect("pool");
            g.bench_function("segloss_2_threads", |b| {
                b.iter(|| pool2.install(|| black_box(count(black_box(&truth), black_box(&pred)))))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
