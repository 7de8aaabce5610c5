//! The bench's thread pool, optionally with each thread pinned to its own CPU
//! (`segloss bench --pin-threads`; why: `segloss::parallel`).

use anyhow::Context;

/// Builds a pool of `threads` threads; with `pin`, thread `i` is then pinned to the `i`-th
/// CPU this process may run on (modulo their count).
///
/// # Errors
/// A pool that cannot be built; with `pin`, a platform other than Linux, or an affinity
/// call that fails (the message names the thread and the CPU).
pub(super) fn pool(threads: usize, pin: bool) -> anyhow::Result<rayon::ThreadPool> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("building the thread pool")?;
    if pin {
        pin_workers(&pool).context("--pin-threads")?;
    }
    Ok(pool)
}

#[cfg(target_os = "linux")]
fn pin_workers(pool: &rayon::ThreadPool) -> anyhow::Result<()> {
    pool.install(segloss::parallel::pin_pool_threads)?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn pin_workers(_pool: &rayon::ThreadPool) -> anyhow::Result<()> {
    anyhow::bail!("pinning threads is supported on Linux only")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use segloss::parallel::allowed_cpus;

    #[test]
    fn pinned_pool_threads_each_run_on_one_distinct_cpu() {
        let allowed = allowed_cpus().unwrap();
        let threads = allowed.len().min(2);
        let masks = |pin| {
            pool(threads, pin)
                .unwrap()
                .broadcast(|_| allowed_cpus().unwrap())
        };
        assert!(masks(false).iter().all(|m| m == &allowed));
        let pinned = masks(true);
        for (i, m) in pinned.iter().enumerate() {
            assert_eq!(m, &vec![allowed[i]], "pool thread {i}");
        }
    }
}
