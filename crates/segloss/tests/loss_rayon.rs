//! With the `rayon` feature, results do not depend on the number of threads: units are cut
//! by shape alone and their partial sums combined in unit order, so values and gradients
//! are bit-for-bit identical on 1 and 3 threads.
#![cfg(feature = "rayon")]

mod loss_support;

use loss_support::Rng;
use loss_support::naive::{FAMILIES, random_inputs, random_loss};
use segloss::Shape;

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
        let run = |p: &rayon::ThreadPool| {
            let mut g = vec![0f32; x.len()];
            let v = p.install(|| {
                loss.forward(&x, tg.as_targets(), &shape, Some(&mut g))
                    .unwrap()
            });
            (
                v.to_bits(),
                g.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            )
        };
        assert!(
            run(&one) == run(&three),
            "{family:?}: thread count changed the result"
        );
    }
}
