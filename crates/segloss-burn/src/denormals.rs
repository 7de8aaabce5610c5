//! Flush-to-zero / denormals-are-zero for the threads that run burn's CPU work.
//!
//! Late in training, gradients and activations can underflow into subnormal `f32`s; x86
//! CPUs process those in microcode, tens of times slower than normal numbers, so a backward
//! pass can slow down several-fold. Setting the MXCSR bits FTZ (`0x8000`, results that would
//! be subnormal become 0) and DAZ (`0x0040`, subnormal inputs read as 0) removes the penalty.
//! The cost is that values below `f32::MIN_POSITIVE ≈ 1.2e-38` become 0, which no loss or
//! gradient in segloss depends on.
//!
//! MXCSR is per thread, so the bits must be set on every thread that computes: the calling
//! thread and each worker of rayon's global pool (Flex runs its kernels there).
//! [`flush_denormals_to_zero`] does both. Nothing in segloss-burn calls it implicitly: it is
//! an explicit, process-level decision for the application (the example calls it).
//!
//! **Measured** (2026-11-29, `segloss train`, the shared 2-core VM): 600-step runs of BCE and
//! of Dice, alternated `--denormals keep` / `flush`, gave bit-identical losses at every step
//! and no late slowdown in either mode (median step time of the last 60 steps within the
//! machine's noise of the first 60); the README has the table. The 4–8× late-training
//! slowdown of Flex's backward pass in burn's notes comes from a different, longer run; this
//! helper stays the cheap insurance against it. Compare on your own model with
//! `segloss train --denormals keep|flush` (per-step seconds in `metrics.json`,
//! `runs[].train_loss[].seconds`).

/// The MXCSR bits FTZ (`0x8000`) and DAZ (`0x0040`).
pub const FTZ_DAZ: u32 = 0x8040;

/// Sets (`on = true`) or clears FTZ and DAZ on the calling thread.
///
/// Returns `true` if the CPU has MXCSR (x86 and x86-64), `false` (and does nothing) elsewhere.
///
/// ```
/// let supported = segloss_burn::denormals::set_thread_flush_denormals(true);
/// if supported {
///     // 1e-39 is subnormal; DAZ reads it as 0, so the product is 0.
///     let tiny = std::hint::black_box(1e-39f32);
///     assert_eq!(tiny * 1.0, 0.0);
/// }
/// segloss_burn::denormals::set_thread_flush_denormals(false);
/// ```
pub fn set_thread_flush_denormals(on: bool) -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr only read/write the SSE control register of this thread;
        // SSE is baseline on x86-64 and checked at run time on x86.
        unsafe {
            #[cfg(target_arch = "x86")]
            if !std::arch::is_x86_feature_detected!("sse") {
                return false;
            }
            core::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            csr = if on { csr | FTZ_DAZ } else { csr & !FTZ_DAZ };
            core::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
        }
        true
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        let _ = on;
        false
    }
}

/// Whether FTZ and DAZ are both set on the calling thread (`false` off x86).
pub fn thread_flushes_denormals() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        let mut csr: u32 = 0;
        // SAFETY: reads this thread's SSE control register.
        unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack)) };
        csr & FTZ_DAZ == FTZ_DAZ
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        false
    }
}

/// Sets FTZ and DAZ on the calling thread and on every thread of rayon's global pool.
///
/// Call it once at start-up, from the thread that drives training. Returns `false` off x86.
///
/// ```
/// if segloss_burn::denormals::flush_denormals_to_zero() {
///     assert!(segloss_burn::denormals::thread_flushes_denormals());
/// }
/// # segloss_burn::denormals::set_thread_flush_denormals(false);
/// ```
pub fn flush_denormals_to_zero() -> bool {
    let here = set_thread_flush_denormals(true);
    rayon::broadcast(|_| {
        set_thread_flush_denormals(true);
    });
    here
}
