//! How long a rayon pool's second thread takes to join in after the pool has been idle.
//!
//! `cargo run --release -p segloss --features rayon --example pool_wake`
//!
//! A fused loss call on 8×1×512² takes 1–3 ms, so a pool thread that needs a millisecond to
//! wake up decides the 2-thread speed-up more than the kernels do. For each idle gap this
//! sleeps the gap, then `join`s a 1.5 ms spin with a job that records when it started, and
//! prints percentiles of that start time over 200 tries. A start near 1500 µs means the
//! second thread never woke during the spin and the first thread ran the job itself after
//! its own half. On the 2-vCPU VM of `docs/kernel-performance.md` (session 21) gaps up to
//! 200 µs gave 20–40 µs, and a gap of 2 ms a median at 1500 µs.
//!
//! On Linux it then runs the same with each pool thread pinned to its own CPU. The late
//! starts come from the scheduler, not from rayon's wake-up: `perf record -e
//! sched:sched_wakeup,sched:sched_switch` on this example shows the sleeping worker woken
//! onto the CPU it last ran on, the busy one of the worker that woke it, while the other CPU
//! stays idle and does not pull it within the spin (session 23, a 2-vCPU VM, Linux 6.18). A
//! pinned worker is woken on its own CPU: after 2 ms and 20 ms gaps, p50 28–40 µs and at most 5
//! of 200 late.

use std::time::{Duration, Instant};

/// The length of the first half of each `join`, about one fused loss call.
const WORK: Duration = Duration::from_micros(1500);
/// Tries per gap.
const TRIES: usize = 200;

/// Busy-waits `d`; sleeping would hand the core back and hide the second thread's wake-up.
fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// The `q`-quantile of sorted `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("2-thread pool, threads free to move:");
    measure(&rayon::ThreadPoolBuilder::new().num_threads(2).build()?);
    #[cfg(target_os = "linux")]
    {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
        match pool.install(segloss::parallel::pin_pool_threads) {
            Ok(cpus) => {
                println!("2-thread pool, thread i pinned to CPU {cpus:?}[i]:");
                measure(&pool);
            }
            Err(e) => println!("could not pin the pool's threads: {e}"),
        }
    }
    Ok(())
}

/// Prints the second job's start percentiles for each idle gap.
fn measure(pool: &rayon::ThreadPool) {
    println!(
        "idle gap | second job's start after join, µs: p10  p50  p90  max | ran late (≥ 90% of the spin)"
    );
    for gap_us in [0u64, 20, 200, 2000, 20_000] {
        let mut starts = Vec::with_capacity(TRIES);
        for _ in 0..TRIES {
            if gap_us > 0 {
                std::thread::sleep(Duration::from_micros(gap_us));
            }
            let (_, started) = pool.install(|| {
                let t0 = Instant::now();
                rayon::join(|| spin(WORK), move || t0.elapsed())
            });
            starts.push(started.as_secs_f64() * 1e6);
        }
        starts.sort_by(f64::total_cmp);
        let late = starts
            .iter()
            .filter(|&&s| s >= 0.9 * WORK.as_secs_f64() * 1e6)
            .count();
        println!(
            "{gap_us:>6} µs | {:>6.0} {:>6.0} {:>6.0} {:>6.0} | {late} of {TRIES}",
            quantile(&starts, 0.1),
            quantile(&starts, 0.5),
            quantile(&starts, 0.9),
            quantile(&starts, 1.0),
        );
    }
}
