//! The portable (no extra target features) kernels agree with the multiversioned
//! AVX2/AVX-512 ones, and inputs large enough to span many units, blocks and folds agree
//! with the `f64` reference. Own test binary: `force_scalar` is process-wide.

mod loss_support;

use loss_support::naive::{Act, FAMILIES, Family, RefLoss, Tg, random_inputs, random_loss};
use loss_support::{Rng, assert_close, max_abs};
use segloss::Shape;
use segloss::loss::{Loss, Targets, force_scalar};

#[test]
fn scalar_fallback_matches_simd_and_reference_on_large_inputs() {
    // S = 40 000 spans two sigmoid row units (32 768) and ten softmax units (4 096), with
    // ragged tails everywhere.
    let shape = Shape::new(&[2, 3, 200, 200]).unwrap();
    for (k, &family) in FAMILIES.iter().enumerate() {
        for round in 0..2u64 {
            let mut rng = Rng(1000 + 10 * k as u64 + round);
            let (loss, reference, act, ignore) = random_loss(&mut rng, family, shape.channels());
            let (x, tg) = random_inputs(&mut rng, &shape, act, ignore, 6.0);
            let case = format!("{family:?} round {round} {reference:?}");
            let mut g_simd = vec![0f32; x.len()];
            let mut g_scalar = vec![0f32; x.len()];
            force_scalar(false);
            let v_simd = loss
                .forward(&x, tg.as_targets(), &shape, Some(&mut g_simd))
                .unwrap();
            force_scalar(true);
            let v_scalar = loss
                .forward(&x, tg.as_targets(), &shape, Some(&mut g_scalar))
                .unwrap();
            force_scalar(false);
            let a: Vec<f64> = g_simd.iter().map(|&v| v as f64).collect();
            let b: Vec<f64> = g_scalar.iter().map(|&v| v as f64).collect();
            assert_close(
                &case,
                "scalar vs simd loss",
                &[v_scalar],
                &[v_simd],
                1e-6,
                0.0,
            );
            assert_close(
                &case,
                "scalar vs simd grad",
                &b,
                &a,
                1e-5,
                1e-6 * max_abs(&a),
            );
            let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let want = reference.eval(&x64, &tg, &shape);
            assert_close(
                &case,
                "loss vs f64 reference",
                &[v_simd],
                &[want],
                1e-5,
                1e-7,
            );
            // The whole gradient, projected on a random direction v, against a central
            // difference of the reference along v (catches any misplaced unit slice).
            let (v, fd) = directional_fd(&mut rng, &reference, &x64, &tg, &shape);
            assert_directional(&case, &a, &v, fd);
        }
    }
}

/// Softmax kernels are specialised on the class count (2 to 8, a constant in the compiled
/// loop) with a general fallback above: every count from 2 to 10 agrees with the `f64`
/// reference, value and directional derivative, on SIMD and scalar paths.
#[test]
fn every_class_count_matches_the_reference() {
    for c in 2..=10usize {
        // 4 270 pixels: two softmax units, a ragged tail.
        let shape = Shape::new(&[1, c, 70, 61]).unwrap();
        let mut ran = 0;
        for (k, &family) in FAMILIES.iter().enumerate() {
            // The first seed that draws the softmax form of this family (BCE has none).
            let seeds = (0..16u64).map(|a| 7000 + 1000 * c as u64 + 100 * k as u64 + a);
            let softmax = |drawn: &Drawn| matches!(drawn.2, Act::Softmax);
            ran += usize::from(first_draw_matches_the_reference(
                seeds,
                family,
                &shape,
                &format!("C = {c}, "),
                softmax,
            ));
        }
        assert!(ran >= 7, "C = {c}: only {ran} softmax losses drawn");
    }
}

/// Panics unless the two runs of `case` gave the same loss and gradient, bit for bit.
fn assert_same_bits(case: &str, (v_a, g_a): (f64, &[f32]), (v_b, g_b): (f64, &[f32])) {
    assert_eq!(v_a.to_bits(), v_b.to_bits(), "{case}: loss {v_a} vs {v_b}");
    if let Some(i) = (0..g_a.len()).find(|&i| g_a[i].to_bits() != g_b[i].to_bits()) {
        panic!("{case}: grad[{i}] {} vs {}", g_a[i], g_b[i]);
    }
}

/// Whether a reference's description holds `{prefix}gamma: γ` with an integer `γ ≤ 4`, the
/// exponents with kernels of their own.
fn integer_gamma(desc: &str, prefix: &str) -> bool {
    (0..=4).any(|g| desc.contains(&format!("{prefix}gamma: {:?}", f64::from(g))))
}

/// The SIMD path gives the portable path's softmax results bit for bit, loss and gradient,
/// for every softmax form of every family (with random options: ignore labels, class
/// weights, smoothing, squared denominators, per-image or batch sums) and every class count
/// from 2 to 17, and 23 and 40. On an AVX-512 CPU this holds the explicit AVX-512 passes
/// (`kernel/softmax_avx512.rs`, every pixel term: pass 1, and pass 2 of the Dice-type
/// losses; a constant class count up to 12, any count beyond, with more than 16 classes
/// packed in more than four registers of counts) to the portable code they replace; with
/// and without a gradient, as pass 1 differs. It counts its focal draws with an integer
/// and a real `γ`, whose kernels differ.
#[test]
fn softmax_simd_paths_match_the_portable_path_bit_for_bit() {
    let mut covered = 0;
    let mut integer_focal = 0;
    let mut real_focal = 0;
    for (c, small) in (2..=17usize)
        .chain([23, 40])
        .flat_map(|c| [(c, false), (c, true)])
    {
        // 4 175 pixels: a full unit and a second with a ragged tail of 15 pixels; or 7
        // pixels, units that are only a tail.
        let dims: &[usize] = if small { &[3, c, 7] } else { &[2, c, 5, 835] };
        let shape = Shape::new(dims).unwrap();
        let (draws, seed) = if small { (8, 190_000) } else { (24, 90_000) };
        for (k, &family) in FAMILIES.iter().enumerate() {
            for a in 0..draws {
                let mut rng = Rng(seed + 1000 * c as u64 + 100 * k as u64 + a);
                let (loss, reference, act, ignore) = random_loss(&mut rng, family, c);
                if !matches!(act, Act::Softmax) {
                    continue;
                }
                let (x, tg) = random_inputs(&mut rng, &shape, act, ignore, 6.0);
                // The same labels as `u8` (the narrow-label conversion): an ignore label of
                // −100 becomes class 0, one of 255 stays ignored.
                let Tg::Labels(l64) = &tg else {
                    unreachable!("softmax losses take labels")
                };
                let l8: Vec<u8> = l64.iter().map(|&v| u8::try_from(v).unwrap_or(0)).collect();
                for (with_grad, bytes) in [(true, false), (false, false), (true, true)] {
                    let run = |scalar: bool| {
                        let mut g = vec![0f32; x.len()];
                        force_scalar(scalar);
                        let targets = if bytes {
                            Targets::U8(&l8)
                        } else {
                            tg.as_targets()
                        };
                        let v = loss.forward(&x, targets, &shape, with_grad.then_some(&mut g[..]));
                        force_scalar(false);
                        (v.unwrap(), g)
                    };
                    let (v_simd, g_simd) = run(false);
                    let (v_port, g_port) = run(true);
                    let case =
                        format!("{dims:?}, {family:?} {reference:?}, grad {with_grad}, u8 {bytes}");
                    assert_same_bits(&case, (v_simd, &g_simd), (v_port, &g_port));
                }
                covered += 1;
                let desc = format!("{reference:?}");
                if integer_gamma(&desc, "SoftFocal { ") {
                    integer_focal += 1;
                } else if desc.contains("SoftFocal {") {
                    real_focal += 1;
                }
            }
        }
    }
    assert!(
        covered >= 260 && integer_focal >= 150 && real_focal >= 50,
        "only {covered} softmax cases drawn, {integer_focal} focal with an integer γ, \
         {real_focal} with a real γ"
    );
}

/// The SIMD path gives the portable path's sigmoid results bit for bit, loss and gradient,
/// for every family with a sigmoid form, with random options (focal `γ` integer or not, `α`,
/// class weights, `pos_weight` one or per channel, label smoothing, soft targets,
/// reductions, squared denominators, per-image or batch sums, one or several channels). On
/// an AVX-512 CPU this holds the explicit AVX-512 kernels (`kernel/sigmoid_avx512.rs`: the
/// pixel loss alone, pass 1, pass 2, and one image's pass 1 beside the previous one's pass
/// 2; for the focal term with an integer or a real `γ`, BCE and no term) to the portable
/// code they replace, with
/// and without a gradient. The shapes give rows that are only a tail (7), full fold groups
/// with a ragged tail (4 175), and rows of two units (32 768 + 232) whose pass 2 runs beside
/// a unit of the other length (and of another channel).
#[test]
fn sigmoid_simd_paths_match_the_portable_path_bit_for_bit() {
    const SIGMOID: [Family; 7] = [
        Family::DiceFocal,
        Family::Focal,
        Family::DiceCe,
        Family::Bce,
        Family::Dice,
        Family::Tversky,
        Family::Gdl,
    ];
    let mut covered = 0;
    let (mut integer, mut real) = (0, 0);
    // Draws of BCE alone, of Dice+BCE with one `pos_weight` per channel on several
    // channels, and of the pure Dice-type families.
    let (mut bce, mut dice_bce_pw, mut plain) = (0, 0, 0);
    let shapes: [(&[usize], u64); 6] = [
        (&[3, 1, 7], 28),
        (&[3, 2, 7], 28),
        (&[2, 1, 5, 835], 42),
        (&[3, 3, 5, 835], 42),
        (&[3, 1, 33_000], 21),
        (&[2, 2, 33_000], 21),
    ];
    for (si, &(dims, draws)) in shapes.iter().enumerate() {
        let shape = Shape::new(dims).unwrap();
        let c = dims[1];
        for a in 0..draws {
            let family = SIGMOID[a as usize % SIGMOID.len()];
            let mut rng = Rng(310_000 + 1000 * si as u64 + a);
            let (loss, reference, act, ignore) = random_loss(&mut rng, family, c);
            if !matches!(act, Act::Sigmoid) {
                continue;
            }
            let (x, tg) = random_inputs(&mut rng, &shape, act, ignore, 6.0);
            for with_grad in [true, false] {
                let run = |scalar: bool| {
                    let mut g = vec![0f32; x.len()];
                    force_scalar(scalar);
                    let v =
                        loss.forward(&x, tg.as_targets(), &shape, with_grad.then_some(&mut g[..]));
                    force_scalar(false);
                    (v.unwrap(), g)
                };
                let (v_simd, g_simd) = run(false);
                let (v_port, g_port) = run(true);
                let case = format!("{dims:?}, {reference:?}, grad {with_grad}");
                assert_same_bits(&case, (v_simd, &g_simd), (v_port, &g_port));
            }
            covered += 1;
            let desc = format!("{reference:?}");
            match family {
                Family::Focal | Family::DiceFocal if integer_gamma(&desc, "") => integer += 1,
                Family::Focal | Family::DiceFocal => real += 1,
                Family::Bce => bce += 1,
                Family::DiceCe => {
                    dice_bce_pw += usize::from(c > 1 && !desc.contains("pw: [2.0]"));
                }
                _ => plain += 1,
            }
        }
    }
    assert!(
        covered >= 100
            && integer >= 18
            && real >= 8
            && bce >= 20
            && dice_bce_pw >= 5
            && plain >= 40,
        "only {covered} cases drawn: {integer} focal with an integer γ, {real} with a real γ, \
         {bce} BCE, \
         {dice_bce_pw} Dice+BCE with per-channel weights, {plain} without a pixel term"
    );
}

/// The sigmoid kernels' extremes, SIMD against portable, bit for bit: logits where
/// `e^{-|x|}` is subnormal or underflows (±90, ±100, ±1e4), signed zeros, and targets at
/// the ends of `[0, 1]`, subnormal or within one rounding of 1, where the focal term's
/// `ln q` takes its subnormal and `w_big = 0` branches. Every sigmoid family, random
/// options; the values must also be finite (these are valid inputs).
#[test]
fn sigmoid_simd_paths_match_the_portable_path_on_extreme_inputs() {
    const XS: [f32; 12] = [
        0.0, -0.0, 0.3, -0.7, 20.0, -20.0, 90.0, -90.0, 100.0, -100.0, 1e4, -1e4,
    ];
    const TS: [f32; 7] = [0.0, 1.0, 1e-40, 1e-30, 0.99999994, 0.5, 1e-8];
    let shape = Shape::new(&[2, 2, 3, 300]).unwrap();
    let families = [
        Family::Focal,
        Family::DiceFocal,
        Family::Bce,
        Family::DiceCe,
        Family::Dice,
        Family::Tversky,
    ];
    let mut covered = 0;
    for (k, &family) in families.iter().enumerate() {
        for a in 0..16u64 {
            let mut rng = Rng(420_000 + 100 * k as u64 + a);
            let (loss, reference, act, _) = random_loss(&mut rng, family, shape.channels());
            if !matches!(act, Act::Sigmoid) {
                continue;
            }
            let x: Vec<f32> = (0..shape.len())
                .map(|_| XS[rng.below(XS.len() as u64) as usize])
                .collect();
            let t: Vec<f32> = (0..shape.len())
                .map(|_| TS[rng.below(TS.len() as u64) as usize])
                .collect();
            let run = |scalar: bool| {
                let mut g = vec![0f32; x.len()];
                force_scalar(scalar);
                let v = loss.forward(&x, Targets::Dense(&t), &shape, Some(&mut g[..]));
                force_scalar(false);
                (v.unwrap(), g)
            };
            let (v_simd, g_simd) = run(false);
            let (v_port, g_port) = run(true);
            let case = format!("extremes, {reference:?}");
            assert!(
                v_simd.is_finite() && g_simd.iter().all(|g| g.is_finite()),
                "{case}: not finite"
            );
            assert_same_bits(&case, (v_simd, &g_simd), (v_port, &g_port));
            covered += 1;
        }
    }
    assert!(covered >= 50, "only {covered} extreme cases drawn");
}

/// On the SIMD and the portable kernels, `loss` with its gradient matches its `f64`
/// reference: the value within 1e-5 relative, and the gradient projected on a random
/// direction within 1e-4 of the reference's central difference along it (mixed bound).
fn both_paths_match_the_reference(
    case: &str,
    rng: &mut Rng,
    loss: &dyn Loss,
    reference: &RefLoss,
    x: &[f32],
    tg: &Tg,
    shape: &Shape,
) {
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let want = reference.eval(&x64, tg, shape);
    let (v, fd) = directional_fd(rng, reference, &x64, tg, shape);
    for scalar in [false, true] {
        let case = format!("{case}, scalar {scalar}");
        let mut g = vec![0f32; x.len()];
        force_scalar(scalar);
        let got = loss.forward(x, tg.as_targets(), shape, Some(&mut g));
        force_scalar(false);
        let got = got.unwrap();
        assert_close(&case, "loss vs f64 reference", &[got], &[want], 1e-5, 1e-7);
        let g: Vec<f64> = g.iter().map(|&v| v as f64).collect();
        assert_directional(&case, &g, &v, fd);
    }
}

/// The gradient `g` projected on the direction `v` matches the reference's central
/// difference `fd` along it, within 1e-4 relative or 1e-5 of `Σ |g_i v_i|`.
fn assert_directional(case: &str, g: &[f64], v: &[f64], fd: f64) {
    let gv: f64 = g.iter().zip(v).map(|(g, d)| g * d).sum();
    let gabs: f64 = g.iter().zip(v).map(|(g, d)| (g * d).abs()).sum();
    assert_close(
        case,
        "directional derivative",
        &[gv],
        &[fd],
        1e-4,
        1e-5 * gabs,
    );
}

/// A random direction `v` and the central difference of the `f64` reference along it.
fn directional_fd(
    rng: &mut Rng,
    reference: &RefLoss,
    x64: &[f64],
    tg: &Tg,
    shape: &Shape,
) -> (Vec<f64>, f64) {
    let v: Vec<f64> = (0..x64.len()).map(|_| rng.uniform() * 2.0 - 1.0).collect();
    let h = 1e-4;
    let xp: Vec<f64> = x64.iter().zip(&v).map(|(a, b)| a + h * b).collect();
    let xm: Vec<f64> = x64.iter().zip(&v).map(|(a, b)| a - h * b).collect();
    let fd = (reference.eval(&xp, tg, shape) - reference.eval(&xm, tg, shape)) / (2.0 * h);
    (v, fd)
}

/// A loss drawn by `random_loss`: the loss, its reference, activation and ignore label.
type Drawn = (Box<dyn Loss + Send + Sync>, RefLoss, Act, Option<i64>);

/// Draws `family` from each seed in turn until `want` accepts the draw, then checks that
/// loss on fresh random inputs of `shape` with [`both_paths_match_the_reference`] (cases
/// named `prefix` then the reference). Returns whether some seed drew an accepted loss.
fn first_draw_matches_the_reference(
    seeds: impl IntoIterator<Item = u64>,
    family: Family,
    shape: &Shape,
    prefix: &str,
    want: impl Fn(&Drawn) -> bool,
) -> bool {
    let Some((mut rng, (loss, reference, act, ignore))) = seeds.into_iter().find_map(|seed| {
        let mut rng = Rng(seed);
        let drawn = random_loss(&mut rng, family, shape.channels());
        want(&drawn).then_some((rng, drawn))
    }) else {
        return false;
    };
    let (x, tg) = random_inputs(&mut rng, shape, act, ignore, 6.0);
    let case = format!("{prefix}{family:?} {reference:?}");
    both_paths_match_the_reference(&case, &mut rng, &*loss, &reference, &x, &tg, shape);
    true
}

/// Whether a reference is a sigmoid Dice-type objective with per-image sums (alone or in a
/// sum with a pixel term): the losses that run image by image.
fn sigmoid_per_image(r: &RefLoss) -> bool {
    match r {
        RefLoss::Region {
            act: Act::Sigmoid,
            batch: false,
            ..
        } => true,
        RefLoss::Sum(a, _, b, _) => sigmoid_per_image(a) || sigmoid_per_image(b),
        _ => false,
    }
}

/// Sigmoid Dice-type losses with per-image sums run image by image on one thread, each
/// image's pass 1 beside the previous image's pass 2, unit against unit backwards (rows of
/// 37 500 elements: a full unit of 32 768 against a short one and the other way round).
/// On the SIMD and the portable kernels alike, the value and the directional derivative
/// match the `f64` reference, for every Dice-type family.
#[test]
fn image_by_image_passes_match_the_reference() {
    let shape = Shape::new(&[3, 2, 150, 250]).unwrap();
    let check = || {
        let mut ran = 0;
        for (k, &family) in FAMILIES.iter().enumerate().skip(3) {
            let seeds = (0..64u64).map(|a| 40_000 + 100 * k as u64 + a);
            let per_image = |drawn: &Drawn| sigmoid_per_image(&drawn.1);
            ran += usize::from(first_draw_matches_the_reference(
                seeds, family, &shape, "", per_image,
            ));
        }
        assert_eq!(
            ran, 5,
            "not every Dice-type family drew a sigmoid per-image loss"
        );
    };
    // One thread: the three images form one run (without `rayon` there is only one).
    #[cfg(feature = "rayon")]
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(check);
    #[cfg(not(feature = "rayon"))]
    check();
}
