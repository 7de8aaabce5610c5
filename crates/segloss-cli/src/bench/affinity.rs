//! Pinning each thread of a rayon pool to its own CPU (`segloss bench --pin-threads`).
//!
//! Why: on the 2-vCPU Linux VMs of `docs/kernel-performance.md`, a pool that has been idle
//! for a few milliseconds starts its second thread over a millisecond late in most calls.
//! `perf record -e sched:sched_wakeup,sched:sched_switch` shows the cause: the scheduler
//! wakes the sleeping worker on the CPU it last ran on, which is the busy one of the worker
//! that woke it, while the other CPU stays idle and does not pull it within the call. A
//! worker pinned to its own CPU is woken there, in tens of microseconds.

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
        pin_workers(&pool)?;
    }
    Ok(pool)
}

/// Pins worker `i` of `pool` to the `i`-th allowed CPU, from inside each worker.
#[cfg(target_os = "linux")]
fn pin_workers(pool: &rayon::ThreadPool) -> anyhow::Result<()> {
    let cpus = linux::allowed_cpus().context("reading this process's CPU affinity")?;
    anyhow::ensure!(
        !cpus.is_empty(),
        "--pin-threads: the process's CPU affinity mask is empty"
    );
    pool.broadcast(|ctx| {
        let cpu = cpus[ctx.index() % cpus.len()];
        linux::pin_current_thread(cpu)
            .with_context(|| format!("pinning pool thread {} to CPU {cpu}", ctx.index()))
    })
    .into_iter()
    .collect()
}

/// Pinning is implemented for Linux only.
#[cfg(not(target_os = "linux"))]
fn pin_workers(_pool: &rayon::ThreadPool) -> anyhow::Result<()> {
    anyhow::bail!("--pin-threads is supported on Linux only")
}

#[cfg(target_os = "linux")]
pub(super) mod linux {
    //! `sched_getaffinity` / `sched_setaffinity` on the calling thread.

    use std::io;

    /// The CPUs the calling thread may run on, in increasing order.
    pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
        // SAFETY: an all-zero `cpu_set_t` is a valid empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, writable `cpu_set_t` of the size passed; pid 0 is the
        // calling thread.
        let rc =
            unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((0..libc::CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below `CPU_SETSIZE`, the capacity of `set`.
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect())
    }

    /// Restricts the calling thread to `cpu`.
    pub(crate) fn pin_current_thread(cpu: usize) -> io::Result<()> {
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("CPU {cpu} is beyond CPU_SETSIZE"),
            ));
        }
        // SAFETY: an all-zero `cpu_set_t` is a valid empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `cpu` is below `CPU_SETSIZE` (checked above).
        unsafe { libc::CPU_SET(cpu, &mut set) };
        // SAFETY: `set` is a valid `cpu_set_t` of the size passed; pid 0 is the calling
        // thread.
        let rc =
            unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn pinned_workers_each_run_on_one_distinct_allowed_cpu() {
        let allowed = linux::allowed_cpus().unwrap();
        let threads = allowed.len().min(4);
        let pool = pool(threads, true).unwrap();
        let mut masks = pool.broadcast(|_| linux::allowed_cpus().unwrap());
        for (i, m) in masks.iter().enumerate() {
            assert_eq!(m, &vec![allowed[i]], "pool thread {i}");
        }
        masks.dedup();
        assert_eq!(masks.len(), threads);
        // Without pinning the workers keep the process's mask.
        let free = pool_masks(threads, false);
        assert!(free.iter().all(|m| m == &allowed));
    }

    #[test]
    fn more_threads_than_cpus_wrap_around() {
        let allowed = linux::allowed_cpus().unwrap();
        let threads = allowed.len() + 1;
        let masks = pool_masks(threads, true);
        assert_eq!(masks[allowed.len()], vec![allowed[0]]);
    }

    #[test]
    fn a_cpu_beyond_the_set_is_an_error() {
        let e = linux::pin_current_thread(libc::CPU_SETSIZE as usize).unwrap_err();
        assert!(e.to_string().contains("CPU_SETSIZE"), "{e}");
    }

    fn pool_masks(threads: usize, pin: bool) -> Vec<Vec<usize>> {
        pool(threads, pin)
            .unwrap()
            .broadcast(|_| linux::allowed_cpus().unwrap())
    }
}
