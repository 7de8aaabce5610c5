//! The loss kernels allocate nothing proportional to the input beyond the caller's gradient
//! buffer (issue 3). A counting global allocator measures each call's peak heap use above
//! what was live before it. That peak may hold per-call bookkeeping: per-image Dice sums and
//! coefficients (`O(N·C)`), a gradient slice per unit of work (a unit is 4096 pixels of every
//! class, or 32768 elements of one sigmoid row), and a unit's scratch above 12 classes. It
//! may not hold a buffer of the input's order, such as probabilities, per-pixel labels or a
//! second gradient.
//!
//! Each loss runs at one spatial size and again at nine times that size, with the same
//! options, on the dispatched kernels and on the forced portable fallback. The test bounds the
//! peak at the larger size by 1/1024 of the gradient's bytes plus 32 KiB; with the `rayon`
//! feature the calls run on a pool of two threads, so that the scratch live at once, one set
//! per worker, does not depend on the machine's core count. The smallest buffer of the
//! input's order, one byte per pixel, is 72 KiB at that size, above the bound for every class
//! count, and a buffer of `f32` per element is the gradient's size.
//!
//! This binary holds one test, so no other test allocates while a call is measured, and
//! `force_scalar` (process-wide) affects no other test.

mod loss_support;

use loss_support::Rng;
use loss_support::naive::{FAMILIES, Family, random_inputs, random_loss};
use segloss::Shape;
use segloss::loss::force_scalar;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the counters
// only observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The peak of live heap bytes while `f` runs, above those live when it starts.
fn peak_above_start(f: impl FnOnce()) -> usize {
    let start = LIVE.load(Relaxed);
    PEAK.store(start, Relaxed);
    f();
    PEAK.load(Relaxed) - start
}

/// Runs `f` on a pool of two threads with the `rayon` feature, on this thread without it.
fn in_pool(f: impl FnOnce() + Send) {
    #[cfg(feature = "rayon")]
    {
        use std::sync::OnceLock;
        static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
        POOL.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap()
        })
        .install(f);
    }
    #[cfg(not(feature = "rayon"))]
    f();
}

#[test]
fn a_call_allocates_nothing_of_the_inputs_order() {
    let mut worst = (0.0f64, String::new());
    let mut most = 0usize;
    for (scalar, classes) in [false, true]
        .into_iter()
        .flat_map(|s| [(s, 1usize), (s, 3), (s, 16)])
    {
        force_scalar(scalar);
        for (k, &family) in FAMILIES.iter().enumerate() {
            if classes == 1 && matches!(family, Family::Ce) {
                // Softmax cross-entropy needs two channels.
                continue;
            }
            // Four random draws of the family's options (activation, ignore label, Dice
            // scope, weights, reduction).
            for seed in 0..4u64 {
                let mut rng = Rng(1000 * classes as u64 + 10 * k as u64 + seed);
                let (loss, _, act, ignore) = random_loss(&mut rng, family, classes);
                let mut peaks = Vec::new();
                for side in [64usize, 192] {
                    let shape = Shape::new(&[2, classes, side, side]).unwrap();
                    let (x, tg) = random_inputs(&mut rng, &shape, act, ignore, 4.0);
                    let mut g = vec![0f32; x.len()];
                    let mut call = || {
                        in_pool(|| {
                            loss.forward(&x, tg.as_targets(), &shape, Some(&mut g))
                                .unwrap();
                        })
                    };
                    // The first call may set up what lives on (a thread pool, the CPU
                    // feature detection): not per-call memory.
                    call();
                    let peak = peak_above_start(call);
                    let grad_bytes = std::mem::size_of_val(g.as_slice());
                    peaks.push((peak, grad_bytes));
                }
                let case = format!(
                    "{family:?} ({}), {classes} classes, {act:?}, ignore {ignore:?}, {}",
                    loss.name(),
                    if scalar {
                        "portable fallback"
                    } else {
                        "dispatched kernels"
                    }
                );
                let [(small, _), (big, grad_bytes)] = peaks[..] else {
                    unreachable!()
                };
                let bound = grad_bytes / 1024 + 32 * 1024;
                assert!(
                    big <= bound,
                    "{case}: a call at 2×{classes}×192² allocated a peak of {big} bytes \
                     above the gradient ({grad_bytes} bytes); the bound is {bound} \
                     (at 64²: {small} bytes)"
                );
                most = most.max(big);
                let share = big as f64 / grad_bytes as f64;
                if share > worst.0 {
                    worst = (share, format!("{case}: {small} B at 64², {big} B at 192²"));
                }
            }
        }
    }
    force_scalar(false);
    // Shown with `--nocapture`: the largest peak seen, and the largest share of a gradient.
    println!(
        "largest peak: {most} bytes; as a share of the gradient: {:.5}, {}",
        worst.0, worst.1
    );
}
