//! Forward plus backward of the fused loss kernels, in elements (logits) per second, beside
//! the streaming floor (read logits and targets, write one `f32` per logit).
//!
//! The cases are those of `segloss bench` and `scripts/bench-vs-torch.sh`: binary
//! `8×1×512×512` and multi-class `2×4×96×96×96` with `u8` labels. Run with
//! `cargo bench -p segloss --bench losses` (add `--features rayon` for the 2-thread cases);
//! `-- --quick` for a short run. Targets (issue 3): focal within 3× the floor, 2 threads at
//! least 1.7× one thread.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use multiversion::multiversion;
use segloss::Shape;
use segloss::loss::{
    Activation, BceConfig, CrossEntropyConfig, DiceCeConfig, DiceConfig, DiceFocalConfig,
    FocalAlpha, FocalConfig, Loss, Targets,
};

/// Seeded inputs: logits `≈ N(0, 3²)`, binary masks with 5% positives, uniform labels.
struct Inputs {
    shape: Shape,
    logits: Vec<f32>,
    dense: Vec<f32>,
    labels: Vec<u8>,
}

impl Inputs {
    fn new(dims: &[usize]) -> Self {
        let shape = Shape::new(dims).expect("valid bench shape");
        let mut state = 0x853c_49e6_748f_ea9b_u64;
        let mut next = move || {
            // xorshift64*: good enough for benchmark inputs, and dependency-free.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32
        };
        // Sum of 4 uniforms: mean 2, variance 1/3; scaled to standard deviation 3.
        let logits = (0..shape.len())
            .map(|_| (next() + next() + next() + next() - 2.0) * 3.0 * 3f32.sqrt())
            .collect();
        let dense = (0..shape.len())
            .map(|_| if next() < 0.05 { 1.0 } else { 0.0 })
            .collect();
        let c = shape.channels() as f32;
        let labels = (0..shape.index_len())
            .map(|_| ((next() * c) as u8).min(shape.channels() as u8 - 1))
            .collect();
        Self {
            shape,
            logits,
            dense,
            labels,
        }
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma"
))]
fn stream_dense(x: &[f32], t: &[f32], out: &mut [f32]) {
    for ((o, &x), &t) in out.iter_mut().zip(x).zip(t) {
        *o = x - t;
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma"
))]
fn stream_indexed(x: &[f32], labels: &[u8], channels: usize, spatial: usize, out: &mut [f32]) {
    let per_image = channels * spatial;
    for ((xi, oi), li) in x
        .chunks(per_image)
        .zip(out.chunks_mut(per_image))
        .zip(labels.chunks(spatial))
    {
        // Blocks of pixels so each label block is read from memory once for all channels.
        for b in (0..spatial).step_by(4096) {
            let e = (b + 4096).min(spatial);
            for c in 0..channels {
                let xs = &xi[c * spatial + b..c * spatial + e];
                let os = &mut oi[c * spatial + b..c * spatial + e];
                for ((o, &x), &l) in os.iter_mut().zip(xs).zip(&li[b..e]) {
                    *o = x - if usize::from(l) == c { 1.0 } else { 0.0 };
                }
            }
        }
    }
}

/// A loss to time, and which targets it takes.
type Case = (&'static str, Box<dyn Loss + Sync>, bool);

/// The losses of the binary case (dense targets), with `segloss bench`'s settings.
fn binary_losses() -> Vec<Case> {
    vec![
        (
            "bce",
            Box::new(BceConfig::new().init().expect("valid")),
            true,
        ),
        (
            "focal",
            Box::new(FocalConfig::new().init().expect("valid")),
            true,
        ),
        (
            "dice",
            Box::new(DiceConfig::new().init().expect("valid")),
            true,
        ),
        (
            "dice-focal",
            Box::new(DiceFocalConfig::new().init().expect("valid")),
            true,
        ),
    ]
}

/// The losses of the multi-class case (index targets), with `segloss bench`'s settings.
fn multiclass_losses() -> Vec<Case> {
    let no_alpha = || FocalConfig::new().with_alpha(FocalAlpha::None);
    vec![
        (
            "ce",
            Box::new(CrossEntropyConfig::new().init().expect("valid")),
            false,
        ),
        (
            "dice-ce",
            Box::new(
                DiceCeConfig::new()
                    .with_activation(Activation::Softmax)
                    .init()
                    .expect("valid"),
            ),
            false,
        ),
        (
            "dice-focal-softmax",
            Box::new(
                DiceFocalConfig::new()
                    .with_activation(Activation::Softmax)
                    .with_focal(no_alpha())
                    .init()
                    .expect("valid"),
            ),
            false,
        ),
    ]
}

fn bench_group(c: &mut Criterion, group: &str, dims: &[usize], losses: Vec<Case>) {
    let inp = Inputs::new(dims);
    let mut grad = vec![0.0f32; inp.shape.len()];
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(inp.shape.len() as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let multiclass = group.contains("multiclass");
    g.bench_function("stream", |b| {
        b.iter(|| {
            if multiclass {
                stream_indexed(
                    &inp.logits,
                    &inp.labels,
                    inp.shape.channels(),
                    inp.shape.spatial_len(),
                    &mut grad,
                );
            } else {
                stream_dense(&inp.logits, &inp.dense, &mut grad);
            }
            black_box(&grad);
        })
    });
    for (name, loss, dense) in &losses {
        let targets = if *dense {
            Targets::Dense(&inp.dense)
        } else {
            Targets::U8(&inp.labels)
        };
        for threads in thread_counts() {
            g.bench_with_input(BenchmarkId::new(*name, threads), &threads, |b, &threads| {
                in_pool(threads, || {
                    b.iter(|| {
                        let v = loss
                            .forward(&inp.logits, targets, &inp.shape, Some(&mut grad))
                            .expect("loss runs on bench inputs");
                        black_box((v, &grad));
                    })
                })
            });
        }
    }
    g.finish();
}

#[cfg(feature = "rayon")]
fn thread_counts() -> Vec<usize> {
    vec![1, 2]
}

#[cfg(not(feature = "rayon"))]
fn thread_counts() -> Vec<usize> {
    vec![1]
}

#[cfg(feature = "rayon")]
fn in_pool(threads: usize, f: impl FnOnce() + Send) {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f);
}

#[cfg(not(feature = "rayon"))]
fn in_pool(_threads: usize, f: impl FnOnce()) {
    f();
}

fn losses(c: &mut Criterion) {
    bench_group(c, "binary_8x1x512x512", &[8, 1, 512, 512], binary_losses());
    bench_group(
        c,
        "multiclass_2x4x96x96x96",
        &[2, 4, 96, 96, 96],
        multiclass_losses(),
    );
}

criterion_group!(benches, losses);
criterion_main!(benches);
