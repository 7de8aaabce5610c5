//! With the `rayon` feature, results do not depend on the number of threads: units are cut
//! by shape alone and their partial sums combined in unit order, so values and gradients
//! are bit-for-bit identical on 1 and 3 threads.
#![cfg(feature = "rayon")]

mod loss_support;

use loss_support::Rng;
use loss_support::naive::{FAMILIES, Tg, random_inputs, random_loss};
use segloss::Shape;
use segloss::loss::Loss;

/// The bits of the loss and of its gradient, computed in `pool`.
fn bits(
    pool: &rayon::ThreadPool,
    loss: &(dyn Loss + Sync),
    x: &[f32],
    tg: &Tg,
    shape: &Shape,
) -> (u64, Vec<u32>) {
    let mut g = vec![0f32; x.len()];
    let v = pool.install(|| {
        loss.forward(x, tg.as_targets(), shape, Some(&mut g))
            .unwrap()
    });
    (v.to_bits(), g.iter().map(|v| v.to_bits()).collect())
}

#[test]
fn results_are_identical_for_any_thread_count() {
    let shape = Shape::new(&[2, 3, 150, 150]).unwrap();
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let (one, three) = (pool(1), pool(3));
    for (k, &family) in FAMILIES.iter().enumerate() {
        let mut rng = Rng(77 + k as u64);
        let (loss, _, act, ignore) = random_loss(&mut rng, family, shape.channels());
        let (x, tg) = random_inputs(&mut rng, &shape, act, ignore, 5.0);
        let run = |p: &rayon::ThreadPool| bits(p, &*loss, &x, &tg, &shape);
        assert!(
            run(&one) == run(&three),
            "{family:?}: thread count changed the result"
        );
    }
}

/// Sigmoid Dice-type losses with per-image sums run image by image (each worker takes the
/// next image, and runs its pass 1 beside the pass 2 of the image it took before) where the
/// images share out about evenly over the threads, and unit by unit otherwise: on 4 images
/// that is 1 and 2 threads against 3, on 9 images 1, 2 (9 ≥ 4·2) and 3 threads against 4.
/// Both ways must give the same bits, whichever worker takes which image, for every
/// Dice-type family and its random options (scope, smoothing, weights, background, empty
/// targets, reduction).
#[test]
fn image_by_image_and_unit_by_unit_passes_agree_bit_for_bit() {
    image_by_image_case(&[4, 3, 37, 41], &[1, 2, 3], 12);
    image_by_image_case(&[9, 2, 17, 13], &[1, 2, 3, 4], 6);
}

/// [`image_by_image_and_unit_by_unit_passes_agree_bit_for_bit`] on one shape: `seeds` draws
/// of each family, the same bits on every pool of `threads`.
fn image_by_image_case(dims: &[usize], threads: &[usize], seeds: u64) {
    use loss_support::naive::Family;
    let shape = Shape::new(dims).unwrap();
    let pools: Vec<_> = threads
        .iter()
        .map(|&n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        })
        .collect();
    let families = [
        Family::Dice,
        Family::Tversky,
        Family::Gdl,
        Family::DiceCe,
        Family::DiceFocal,
    ];
    for (k, &family) in families.iter().enumerate() {
        for seed in 0..seeds {
            let mut rng = Rng(1000 + 100 * k as u64 + seed + 7 * dims[0] as u64);
            let (loss, _, act, ignore) = random_loss(&mut rng, family, shape.channels());
            let (x, tg) = random_inputs(&mut rng, &shape, act, ignore, 5.0);
            let run = |p: &rayon::ThreadPool| bits(p, &*loss, &x, &tg, &shape);
            let one = run(&pools[0]);
            for p in &pools[1..] {
                assert!(
                    run(p) == one,
                    "{family:?} (seed {seed}): {} threads changed the result",
                    p.current_num_threads()
                );
            }
        }
    }
}
