//! Where training runs: the burn device, and the CPU floating-point mode for it.

use anyhow::Result;
use burn::tensor::Device;

/// The compute device. GPU choices exist only in builds with the matching cargo feature of
/// `segloss-cli` (`wgpu`, `cuda`); the default build trains on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceChoice {
    /// burn's Flex backend: pure Rust, multi-threaded CPU.
    Flex,
    /// The wgpu backend (Vulkan, Metal, DX12), default adapter.
    #[cfg(feature = "wgpu")]
    Wgpu,
    /// The CUDA backend, GPU 0.
    #[cfg(feature = "cuda")]
    Cuda,
}

impl DeviceChoice {
    /// The autodiff-enabled burn device, with subnormals flushed on the CPU
    /// ([`Denormals::Flush`]).
    ///
    /// # Errors
    /// None today; GPU backends report failures when first used.
    pub fn device(self) -> Result<Device> {
        self.device_with(Denormals::Flush)
    }

    /// The autodiff-enabled burn device; `denormals` sets the CPU floating-point mode for
    /// Flex (GPU backends ignore it).
    ///
    /// # Errors
    /// None today; GPU backends report failures when first used.
    pub fn device_with(self, denormals: Denormals) -> Result<Device> {
        let d = match self {
            DeviceChoice::Flex => {
                if denormals == Denormals::Flush {
                    flush_denormals_everywhere();
                }
                Device::flex()
            }
            #[cfg(feature = "wgpu")]
            DeviceChoice::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda => Device::cuda(0),
        };
        Ok(d.autodiff())
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            DeviceChoice::Flex => "flex (CPU)",
            #[cfg(feature = "wgpu")]
            DeviceChoice::Wgpu => "wgpu",
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda => "cuda",
        }
    }
}

/// How the CPU treats subnormal `f32`s (magnitudes below ~1.2e-38) while training on Flex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Denormals {
    /// Flush-to-zero and denormals-are-zero on the driving thread and every rayon worker
    /// (the default): subnormal results and inputs become 0.
    Flush,
    /// Leave the CPU's default IEEE behaviour (subnormals computed exactly, possibly slowly).
    /// For measuring what flushing buys; see the README.
    Keep,
}

/// Sets flush-to-zero / denormals-are-zero on this thread (x86-64: MXCSR bits FTZ 0x8000 and
/// DAZ 0x0040; aarch64: FPCR.FZ). Elsewhere it does nothing.
///
/// Why: late in training some activations and gradients drift into the subnormal range,
/// and CPU arithmetic on subnormals can be tens of times slower; burn's notes saw Flex's
/// backward pass slow down 4–8×. Values below ~1.2e-38 do not matter to this model.
pub fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: reads and writes only this thread's MXCSR control bits; FTZ/DAZ change the
    // results of subnormal arithmetic, not memory safety.
    unsafe {
        let mut csr: u32 = 0;
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
        csr |= 0x8040;
        std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: sets only the flush-to-zero bit of this thread's FPCR.
    unsafe {
        let mut fpcr: u64;
        std::arch::asm!("mrs {}, fpcr", out(reg) fpcr);
        fpcr |= 1 << 24;
        std::arch::asm!("msr fpcr, {}", in(reg) fpcr);
    }
}

/// Flushes denormals on this thread and on every thread of rayon's global pool, which Flex
/// (and its `gemm`) computes on. If the pool does not exist yet it is built with a start
/// handler; if it does, every worker is reached with `rayon::broadcast`.
pub fn flush_denormals_everywhere() {
    flush_denormals();
    let built_here = rayon::ThreadPoolBuilder::new()
        .start_handler(|_| flush_denormals())
        .build_global()
        .is_ok();
    if !built_here {
        rayon::broadcast(|_| flush_denormals());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnormals_flush_to_zero() {
        std::thread::spawn(|| {
            flush_denormals();
            let tiny = std::hint::black_box(1.0e-30f32);
            let product = std::hint::black_box(tiny * 1.0e-10);
            if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
                assert_eq!(product, 0.0);
            }
        })
        .join()
        .unwrap();
    }
}
