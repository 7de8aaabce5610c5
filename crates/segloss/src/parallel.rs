//! Where the `rayon` kernels' threads run: pinning a pool's threads to CPUs (Linux).
//!
//! A fused loss call on a 512² batch takes a millisecond or two, so how soon a sleeping
//! pool thread joins in decides the 2-thread speed-up. On the small Linux VMs segloss was
//! measured on, the scheduler woke a sleeping worker on the CPU it last ran on, which was
//! the busy CPU of the worker that woke it, and the idle CPU did not pull it within the
//! call: after a few milliseconds idle, as between the loss calls of a training loop, most
//! calls ran on one thread (`perf record -e sched:sched_wakeup,sched:sched_switch`;
//! `docs/kernel-performance.md`). A worker pinned to its own CPU is woken there, in tens of
//! microseconds. segloss never pins on its own: the pool is the caller's, and a pinned
//! thread cannot move off a CPU that another process takes. `segloss bench --pin-threads`
//! and the `pool_wake` example measure the difference on a host.

use crate::error::{Error, Result};

/// Pins thread `i` of the current rayon pool to the `i`-th CPU this thread may run on
/// (modulo their count), and returns each thread's CPU in pool order.
///
/// "Current" is rayon's: the pool of `ThreadPool::install` when called inside it, else the
/// global pool. Call it once, before the loss calls, from the thread that will make them
/// (the CPUs are read from its affinity mask, so a process started under `taskset` keeps
/// to its CPUs). Pinning changes where the threads run, never a result.
///
/// # Errors
/// [`Error::ThreadAffinity`] when the operating system refuses an affinity call (it names
/// the thread and the CPU); threads pinned before the failure stay pinned.
///
/// ```
/// let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
/// let cpus = pool.install(segloss::parallel::pin_pool_threads)?;
/// assert_eq!(cpus.len(), 2);
/// // Each thread now runs on exactly the CPU it was given.
/// let masks = pool.broadcast(|_| segloss::parallel::allowed_cpus());
/// for (mask, cpu) in masks.into_iter().zip(&cpus) {
///     assert_eq!(mask?, vec![*cpu]);
/// }
/// # Ok::<(), segloss::Error>(())
/// ```
pub fn pin_pool_threads() -> Result<Vec<usize>> {
    let cpus = allowed_cpus()?;
    rayon::broadcast(|ctx| {
        let cpu = cpus[ctx.index() % cpus.len()];
        pin_current_thread(cpu).map_err(|reason| Error::ThreadAffinity {
            thread: Some(ctx.index()),
            cpu: Some(cpu),
            reason,
        })?;
        Ok(cpu)
    })
    .into_iter()
    .collect()
}

/// The CPUs the calling thread may run on (its affinity mask), in increasing order.
///
/// # Errors
/// [`Error::ThreadAffinity`] (with no thread or CPU) when `sched_getaffinity` fails or
/// reports no CPU.
///
/// ```
/// let cpus = segloss::parallel::allowed_cpus()?;
/// assert!(!cpus.is_empty() && cpus.windows(2).all(|w| w[0] < w[1]));
/// # Ok::<(), segloss::Error>(())
/// ```
pub fn allowed_cpus() -> Result<Vec<usize>> {
    let failed = |reason: String| Error::ThreadAffinity {
        thread: None,
        cpu: None,
        reason,
    };
    // SAFETY: an all-zero `cpu_set_t` is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable `cpu_set_t` of the size passed; pid 0 is the
    // calling thread.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        return Err(failed(format!("sched_getaffinity: {e}")));
    }
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below `CPU_SETSIZE`, the capacity of `set`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect();
    if cpus.is_empty() {
        return Err(failed("the affinity mask holds no CPU".into()));
    }
    Ok(cpus)
}

/// Restricts the calling thread to `cpu`; the error is the operating system's message.
fn pin_current_thread(cpu: usize) -> std::result::Result<(), String> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(format!("CPU {cpu} is not below CPU_SETSIZE"));
    }
    // SAFETY: an all-zero `cpu_set_t` is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below `CPU_SETSIZE` (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid `cpu_set_t` of the size passed; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        return Err(format!(
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    fn masks(pool: &rayon::ThreadPool) -> Vec<Vec<usize>> {
        pool.broadcast(|_| allowed_cpus().unwrap())
    }

    #[test]
    fn each_thread_runs_on_one_distinct_allowed_cpu() {
        let allowed = allowed_cpus().unwrap();
        let threads = allowed.len().min(4);
        let p = pool(threads);
        assert!(masks(&p).iter().all(|m| m == &allowed), "unpinned threads");
        let cpus = p.install(pin_pool_threads).unwrap();
        assert_eq!(cpus, allowed[..threads].to_vec());
        let pinned = masks(&p);
        for (i, m) in pinned.iter().enumerate() {
            assert_eq!(m, &vec![allowed[i]], "pool thread {i}");
        }
    }

    #[test]
    fn more_threads_than_cpus_wrap_around() {
        let allowed = allowed_cpus().unwrap();
        let p = pool(allowed.len() + 1);
        let cpus = p.install(pin_pool_threads).unwrap();
        assert_eq!(cpus[allowed.len()], allowed[0]);
        assert_eq!(masks(&p)[allowed.len()], vec![allowed[0]]);
    }

    #[test]
    fn a_cpu_beyond_the_set_is_refused_with_a_message() {
        let e = pin_current_thread(libc::CPU_SETSIZE as usize).unwrap_err();
        assert!(e.contains("CPU_SETSIZE"), "{e}");
        let e = Error::ThreadAffinity {
            thread: Some(1),
            cpu: Some(3),
            reason: e,
        };
        assert!(
            e.to_string()
                .starts_with("pinning pool thread 1 to CPU 3: CPU 1024"),
            "{e}"
        );
        let e = Error::ThreadAffinity {
            thread: None,
            cpu: None,
            reason: "sched_getaffinity: EINVAL".into(),
        };
        assert_eq!(
            e.to_string(),
            "reading the calling thread's CPU affinity: sched_getaffinity: EINVAL"
        );
    }
}
