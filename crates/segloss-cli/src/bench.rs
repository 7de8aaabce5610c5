//! `segloss bench`: times forward plus backward of a fused loss kernel, or of the same loss
//! inside burn (`--impl burn-fused|burn-composed`).
//!
//! The inputs mirror `shared/bench/torch_reference.py`: logits `randn·3` from a fixed seed;
//! binary masks with about 5% positives for sigmoid losses; uniform class indices for softmax
//! losses. The gradient buffer is allocated once, before timing. Each repetition is one call
//! of [`segloss::loss::Loss::forward`] with a gradient, inside a local rayon pool of
//! `--threads` threads; the first call is a warm-up and is not counted.

mod affinity;
mod inputs;
mod stream;

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, ValueEnum};
use serde::Serialize;

use segloss::Shape;
use segloss::loss::{Loss, Targets};
use segloss_burn::bench::{BenchImpl, Timing, time_loss_on};
use segloss_burn::loss::BurnLoss;

use crate::Outcome;
use inputs::{IndexTargets, IndexType, SplitMix64};

/// Arguments of `segloss bench`.
#[derive(Debug, Args)]
#[command(
    after_help = "Targets and commands for the comparison with PyTorch: scripts/bench-vs-torch.sh"
)]
pub struct BenchArgs {
    /// The kernel to time.
    #[arg(long, value_enum)]
    loss: Kernel,
    /// Batch shape `N,C,D1[,D2,...]` (row-major, like PyTorch's NCHW / NCDHW).
    #[arg(long, value_parser = parse_shape)]
    shape: Shape,
    /// Threads of the local rayon pool the kernel runs in.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    threads: u16,
    /// Timed repetitions (after one warm-up call).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    reps: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Seed of the random logits and targets.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Integer type of the class-index targets of multi-class losses.
    #[arg(long, value_enum, default_value_t = IndexType::U8)]
    index_type: IndexType,
    /// Which implementation of the loss to time.
    #[arg(long = "impl", value_enum, default_value_t = Impl::Core)]
    imp: Impl,
    /// Sleep this many microseconds before each call, untimed (core only).
    ///
    /// Back-to-back calls keep the pool's threads awake; in a training loop other work
    /// between loss calls lets them sleep, and an idle rayon thread can take over a
    /// millisecond to join in (docs/kernel-performance.md). Try 5000 with --threads 2.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(..=10_000_000))]
    idle_us: u32,
    /// Pin pool thread i to the i-th CPU this process may run on (Linux only).
    ///
    /// On small Linux VMs the scheduler tends to wake a sleeping rayon thread on the busy
    /// CPU of the thread that woke it, so after an idle gap the second thread joins a call
    /// late (docs/kernel-performance.md); a pinned thread is woken on its own CPU. Try with
    /// --threads 2 --idle-us 5000.
    #[arg(long)]
    pin_threads: bool,
}

/// The implementations `segloss bench` can time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Impl {
    /// The core kernel on host slices (no burn).
    Core,
    /// The burn loss on its fused path: the core kernel as a backend extension, Flex autodiff.
    BurnFused,
    /// The burn loss built from burn tensor ops, Flex autodiff.
    BurnComposed,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One human-readable line.
    Text,
    /// One JSON object: `{"loss", "impl", "shape", "threads", "median_ms", "min_ms", ...}`.
    Json,
}

/// The kernels `segloss bench` can time, with the settings of the PyTorch case each is
/// compared with (`shared/bench/torch_reference.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kernel {
    /// Streaming floor, dense targets: read logits and masks, write `x − t` (no math).
    Stream,
    /// Streaming floor, index targets: read logits and labels, write `x − [t = c]`.
    StreamIndex,
    /// Sigmoid BCE with logits, mean (vs `bce`).
    Bce,
    /// Sigmoid focal, α = 0.25, γ = 2, mean (vs `tv_focal`, `monai_focal`, `smp_focal`).
    Focal,
    /// Sigmoid soft Dice, per image (vs `monai_dice`, `smp_dice`).
    Dice,
    /// Sigmoid Dice + BCE.
    DiceBce,
    /// Sigmoid Dice + focal, α = 0.25, γ = 2 (vs `monai_dicefocal`).
    DiceFocal,
    /// Sigmoid Tversky, α = 0.3, β = 0.7.
    Tversky,
    /// Sigmoid focal Tversky, α = 0.3, β = 0.7, γ = 0.75.
    FocalTversky,
    /// Sigmoid generalized Dice, square weights.
    GeneralizedDice,
    /// Softmax cross-entropy, index targets (vs `ce_mc`).
    Ce,
    /// Softmax focal, γ = 2, no α, index targets.
    FocalSoftmax,
    /// Softmax soft Dice, index targets (vs `smp_dice_mc`).
    DiceSoftmax,
    /// Softmax Dice + cross-entropy, index targets (vs `monai_dicece_mc`).
    DiceCe,
    /// Softmax Dice + focal, γ = 2, no α, index targets (vs `monai_dicefocal_mc`).
    DiceFocalSoftmax,
    /// Softmax generalized Dice, square weights, index targets.
    GeneralizedDiceSoftmax,
}

/// What kind of targets a kernel takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    /// Float masks, one per logit (sigmoid losses).
    Dense,
    /// Class indices, one per pixel (softmax losses).
    Index,
}

impl Kernel {
    fn target_kind(self) -> TargetKind {
        use Kernel::*;
        match self {
            Stream | Bce | Focal | Dice | DiceBce | DiceFocal | Tversky | FocalTversky
            | GeneralizedDice => TargetKind::Dense,
            StreamIndex
            | Ce
            | FocalSoftmax
            | DiceSoftmax
            | DiceCe
            | DiceFocalSoftmax
            | GeneralizedDiceSoftmax => TargetKind::Index,
        }
    }

    /// The configured loss, or `None` for the streaming floors.
    fn loss(self) -> segloss::Result<Option<Box<dyn Loss + Sync>>> {
        use Kernel::*;
        use segloss::loss::{
            Activation::Softmax, BceConfig, CrossEntropyConfig, DiceCeConfig, DiceConfig,
            DiceFocalConfig, FocalAlpha, FocalConfig, GeneralizedDiceConfig, GeneralizedWeight,
            TverskyConfig,
        };
        fn boxed<L: Loss + Sync + 'static>(
            l: segloss::Result<L>,
        ) -> segloss::Result<Option<Box<dyn Loss + Sync>>> {
            Ok(Some(Box::new(l?)))
        }
        let no_alpha = || FocalConfig::new().with_alpha(FocalAlpha::None);
        match self {
            Stream | StreamIndex => Ok(None),
            Bce => boxed(BceConfig::new().init()),
            Focal => boxed(FocalConfig::new().init()),
            Dice => boxed(DiceConfig::new().init()),
            DiceBce => boxed(DiceCeConfig::new().init()),
            DiceFocal => boxed(DiceFocalConfig::new().init()),
            Tversky => boxed(TverskyConfig::new().with_alpha(0.3).with_beta(0.7).init()),
            FocalTversky => boxed(
                TverskyConfig::new()
                    .with_alpha(0.3)
                    .with_beta(0.7)
                    .with_gamma(0.75)
                    .init(),
            ),
            GeneralizedDice => boxed(
                GeneralizedDiceConfig::new()
                    .with_weight(GeneralizedWeight::Square)
                    .init(),
            ),
            Ce => boxed(CrossEntropyConfig::new().init()),
            FocalSoftmax => boxed(no_alpha().with_activation(Softmax).init()),
            DiceSoftmax => boxed(DiceConfig::new().with_activation(Softmax).init()),
            DiceCe => boxed(DiceCeConfig::new().with_activation(Softmax).init()),
            DiceFocalSoftmax => boxed(
                DiceFocalConfig::new()
                    .with_activation(Softmax)
                    .with_focal(no_alpha())
                    .init(),
            ),
            GeneralizedDiceSoftmax => boxed(
                GeneralizedDiceConfig::new()
                    .with_activation(Softmax)
                    .with_weight(GeneralizedWeight::Square)
                    .init(),
            ),
        }
    }
}

impl Kernel {
    /// The same loss as [`Kernel::loss`], with the same options, as a `segloss-burn` loss;
    /// `None` for the streaming floors.
    fn burn_loss(self) -> segloss_burn::Result<Option<Box<dyn BurnLoss>>> {
        use Kernel::*;
        use segloss_burn::loss::{
            Activation::Softmax, BceLossConfig, CrossEntropyLossConfig, DiceCeLossConfig,
            DiceFocalLossConfig, DiceLossConfig, FocalAlpha, FocalLossConfig,
            GeneralizedDiceLossConfig, GeneralizedWeight, TverskyLossConfig,
        };
        fn boxed<L: BurnLoss + 'static>(
            l: segloss_burn::Result<L>,
        ) -> segloss_burn::Result<Option<Box<dyn BurnLoss>>> {
            Ok(Some(Box::new(l?)))
        }
        let no_alpha = || FocalLossConfig::new().with_alpha(FocalAlpha::None);
        match self {
            Stream | StreamIndex => Ok(None),
            Bce => boxed(BceLossConfig::new().init()),
            Focal => boxed(FocalLossConfig::new().init()),
            Dice => boxed(DiceLossConfig::new().init()),
            DiceBce => boxed(DiceCeLossConfig::new().init()),
            DiceFocal => boxed(DiceFocalLossConfig::new().init()),
            Tversky => boxed(
                TverskyLossConfig::new()
                    .with_alpha(0.3)
                    .with_beta(0.7)
                    .init(),
            ),
            FocalTversky => boxed(
                TverskyLossConfig::new()
                    .with_alpha(0.3)
                    .with_beta(0.7)
                    .with_gamma(0.75)
                    .init(),
            ),
            GeneralizedDice => boxed(
                GeneralizedDiceLossConfig::new()
                    .with_weight(GeneralizedWeight::Square)
                    .init(),
            ),
            Ce => boxed(CrossEntropyLossConfig::new().init()),
            FocalSoftmax => boxed(no_alpha().with_activation(Softmax).init()),
            DiceSoftmax => boxed(DiceLossConfig::new().with_activation(Softmax).init()),
            DiceCe => boxed(DiceCeLossConfig::new().with_activation(Softmax).init()),
            DiceFocalSoftmax => boxed(
                DiceFocalLossConfig::new()
                    .with_activation(Softmax)
                    .with_focal(no_alpha())
                    .init(),
            ),
            GeneralizedDiceSoftmax => boxed(
                GeneralizedDiceLossConfig::new()
                    .with_activation(Softmax)
                    .with_weight(GeneralizedWeight::Square)
                    .init(),
            ),
        }
    }
}

/// The result line.
#[derive(Debug, Serialize)]
struct Report {
    loss: String,
    /// `core`, `burn-fused` or `burn-composed`.
    #[serde(rename = "impl")]
    imp: String,
    shape: Vec<usize>,
    threads: u16,
    reps: u32,
    /// The untimed sleep before each call (`--idle-us`).
    idle_us: u32,
    /// Whether each pool thread was pinned to its own CPU (`--pin-threads`).
    pinned: bool,
    median_ms: f64,
    min_ms: f64,
    /// Logits processed per second at the median time, in billions.
    gelem_per_s: f64,
    /// Median and minimum CPU time of the process per call (all threads, so with
    /// `threads > 1` it includes rayon's idle spinning); `null` where not measurable. On a
    /// busy machine the single-thread CPU time is steadier than the wall time.
    cpu_median_ms: Option<f64>,
    cpu_min_ms: Option<f64>,
    /// The loss value of the last call (`null` for the streaming floors).
    value: Option<f64>,
}

/// Runs `segloss bench`.
///
/// # Errors
/// A shape that [`Shape::new`] rejects, a class count the index type cannot hold, a thread
/// pool that cannot be built, or a loss that fails on the generated inputs.
pub fn run(args: &BenchArgs) -> anyhow::Result<Outcome> {
    let shape = &args.shape;
    let mut rng = SplitMix64::new(args.seed);
    let logits = inputs::logits(shape.len(), &mut rng);
    let kind = args.loss.target_kind();
    let (dense, index) = match kind {
        TargetKind::Dense => (inputs::dense_targets(shape.len(), 0.05, &mut rng), None),
        TargetKind::Index => {
            if shape.channels() < 2 {
                // A usage error (exit code 2), like the ones clap finds itself.
                crate::Cli::command()
                    .error(
                        ErrorKind::ArgumentConflict,
                        format!(
                            "--loss {} needs at least 2 classes, --shape has C = {}",
                            args.loss.name(),
                            shape.channels()
                        ),
                    )
                    .exit();
            }
            let idx = IndexTargets::uniform(
                shape.index_len(),
                shape.channels(),
                args.index_type,
                &mut rng,
            )?;
            (Vec::new(), Some(idx))
        }
    };
    let targets = match &index {
        Some(idx) => idx.as_targets(),
        None => Targets::Dense(&dense),
    };
    let burn_impl = match args.imp {
        Impl::Core => None,
        Impl::BurnFused => Some(BenchImpl::BurnFused),
        Impl::BurnComposed => Some(BenchImpl::BurnComposed),
    };
    if let Some(imp) = burn_impl {
        return run_burn(args, imp, &logits, targets);
    }
    let loss = args
        .loss
        .loss()
        .with_context(|| format!("configuring {}", args.loss.name()))?;
    let mut grad = vec![0.0f32; shape.len()];

    let pool = affinity::pool(usize::from(args.threads), args.pin_threads)?;
    let mut times = Vec::with_capacity(args.reps as usize);
    let mut cpu_times = Vec::with_capacity(args.reps as usize);
    let mut value = None;
    pool.install(|| -> anyhow::Result<()> {
        for rep in 0..=args.reps {
            if args.idle_us > 0 {
                std::thread::sleep(Duration::from_micros(u64::from(args.idle_us)));
            }
            let start = Instant::now();
            let cpu_start = process_cpu_ms();
            value = match &loss {
                Some(loss) => Some(
                    loss.forward(&logits, targets, shape, Some(&mut grad))
                        .with_context(|| format!("{} on the generated inputs", loss.name()))?,
                ),
                None => {
                    stream_floor(&logits, targets, shape, &mut grad);
                    None
                }
            };
            std::hint::black_box(&grad);
            let ms = start.elapsed().as_secs_f64() * 1e3;
            let cpu_ms = cpu_start.zip(process_cpu_ms()).map(|(a, b)| b - a);
            if rep > 0 {
                times.push(ms);
                cpu_times.extend(cpu_ms);
            }
        }
        Ok(())
    })?;

    times.sort_by(f64::total_cmp);
    cpu_times.sort_by(f64::total_cmp);
    let median_ms = median(&times);
    let cpu_complete = cpu_times.len() == times.len();
    let report = Report {
        loss: args.loss.name(),
        imp: args.imp.name(),
        shape: shape.dims().to_vec(),
        threads: args.threads,
        reps: args.reps,
        idle_us: args.idle_us,
        pinned: args.pin_threads,
        median_ms,
        min_ms: times[0],
        gelem_per_s: shape.len() as f64 / (median_ms * 1e-3) / 1e9,
        cpu_median_ms: cpu_complete.then(|| median(&cpu_times)),
        cpu_min_ms: cpu_complete.then(|| cpu_times[0]),
        value,
    };
    print_report(&report, args.format)
}

/// Times the burn loss of `args.loss` on the generated inputs, in a pool of `--threads`.
fn run_burn(
    args: &BenchArgs,
    imp: BenchImpl,
    logits: &[f32],
    targets: Targets<'_>,
) -> anyhow::Result<Outcome> {
    let shape = &args.shape;
    if matches!(args.loss, Kernel::Stream | Kernel::StreamIndex) {
        crate::Cli::command()
            .error(
                ErrorKind::ArgumentConflict,
                format!(
                    "--loss {} is a streaming floor of the core; --impl {} needs a loss",
                    args.loss.name(),
                    args.imp.name()
                ),
            )
            .exit();
    }
    if args.idle_us > 0 {
        crate::Cli::command()
            .error(
                ErrorKind::ArgumentConflict,
                format!(
                    "--idle-us applies to --impl core, not --impl {}",
                    args.imp.name()
                ),
            )
            .exit();
    }
    let pool = affinity::pool(usize::from(args.threads), args.pin_threads)?;
    // The loss is built inside the pool: burn losses are not `Sync`.
    let timing = pool.install(|| -> anyhow::Result<Timing> {
        let loss = args
            .loss
            .burn_loss()
            .with_context(|| format!("configuring the burn {}", args.loss.name()))?
            .with_context(|| format!("--loss {} has no burn loss", args.loss.name()))?;
        time_loss_on(
            imp,
            loss.as_ref(),
            shape.dims(),
            logits,
            targets,
            args.reps as usize,
        )
        .with_context(|| {
            format!(
                "burn {} ({}) on the generated inputs",
                args.loss.name(),
                args.imp.name()
            )
        })
    })?;
    let report = Report {
        loss: args.loss.name(),
        imp: args.imp.name(),
        shape: shape.dims().to_vec(),
        threads: args.threads,
        reps: args.reps,
        idle_us: args.idle_us,
        pinned: args.pin_threads,
        median_ms: timing.median_ms,
        min_ms: timing.min_ms,
        gelem_per_s: shape.len() as f64 / (timing.median_ms * 1e-3) / 1e9,
        cpu_median_ms: None,
        cpu_min_ms: None,
        value: Some(timing.value),
    };
    print_report(&report, args.format)
}

/// Prints the result line in `format`.
fn print_report(report: &Report, format: Format) -> anyhow::Result<Outcome> {
    match format {
        Format::Json => println!("{}", serde_json::to_string(report)?),
        Format::Text => println!(
            "{} impl={} shape={} threads={}{}{} median_ms={:.3} min_ms={:.3} gelem_per_s={:.3}{}{}",
            report.loss,
            report.imp,
            report
                .shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
            report.threads,
            if report.pinned { " pinned" } else { "" },
            if report.idle_us > 0 {
                format!(" idle_us={}", report.idle_us)
            } else {
                String::new()
            },
            report.median_ms,
            report.min_ms,
            report.gelem_per_s,
            report
                .cpu_median_ms
                .map_or(String::new(), |v| format!(" cpu_median_ms={v:.3}")),
            report
                .value
                .map_or(String::new(), |v| format!(" loss={v:.6}")),
        ),
    }
    Ok(Outcome::Success)
}

impl Kernel {
    /// The name as typed on the command line.
    fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(|| format!("{self:?}"), |v| v.get_name().to_owned())
    }
}

impl Impl {
    /// The name as typed on the command line.
    fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(|| format!("{self:?}"), |v| v.get_name().to_owned())
    }
}

fn stream_floor(logits: &[f32], targets: Targets<'_>, shape: &Shape, out: &mut [f32]) {
    match targets {
        Targets::Dense(t) => stream::dense(logits, t, out),
        Targets::U8(t) => stream::indexed(logits, t, shape, out),
        Targets::U16(t) => stream::indexed(logits, t, shape, out),
        Targets::U32(t) => stream::indexed(logits, t, shape, out),
        Targets::I64(t) => stream::indexed(logits, t, shape, out),
    }
}

/// CPU time consumed by this process so far (all threads), in ms.
#[cfg(unix)]
fn process_cpu_ms() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    (rc == 0).then_some(ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 * 1e-6)
}

/// CPU time is not measured on this platform.
#[cfg(not(unix))]
fn process_cpu_ms() -> Option<f64> {
    None
}

/// Parses `N,C,D1[,D2,...]` into a checked [`Shape`] (so a bad shape is a usage error).
fn parse_shape(s: &str) -> Result<Shape, String> {
    let dims = s
        .split(',')
        .map(|d| {
            d.trim()
                .parse::<usize>()
                .map_err(|e| format!("`{d}` is not a dimension: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Shape::new(&dims).map_err(|e| e.to_string())
}

/// The median of sorted, non-empty `times`.
fn median(times: &[f64]) -> f64 {
    let n = times.len();
    if n % 2 == 1 {
        times[n / 2]
    } else {
        0.5 * (times[n / 2 - 1] + times[n / 2])
    }
}
