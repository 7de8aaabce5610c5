//! Accuracy of the elementary functions against `f64`, and equality of the vectorised paths.
//!
//! - Every function is compared with an `f64` evaluation on an evenly strided sample of all
//!   `2^32` bit patterns (negatives, subnormals, infinities and NaNs included), on dense linear
//!   sweeps of the ranges the losses use, and on a list of edge cases. The error bound of each
//!   test is the one its doc comment states.
//! - `exhaustive_*` (ignored by default, about a minute each in release) check all `2^32`
//!   inputs: `cargo test --release -p segloss exhaustive -- --ignored`.
//! - `vector_paths_match_scalar` maps each function over the same inputs one element at a
//!   time, through the baseline build and through AVX2 and AVX-512 clones, and requires
//!   bit-identical results. In a build with loop vectorisation (`--release`, or any
//!   `opt-level ≥ 2`) the clones run the vectorised code.

use super::*;

/// The spacing of `f32` values at `v` (the subnormal spacing below `f32::MIN_POSITIVE`).
fn ulp(v: f64) -> f64 {
    let a = v.abs();
    if a < f32::MIN_POSITIVE as f64 {
        return (-149f64).exp2();
    }
    let e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    f64::from(e - 23).exp2()
}

/// Largest error found, in ulps, and where.
#[derive(Debug, Default, Clone, Copy)]
struct Worst {
    ulps: f64,
    at: f32,
    checked: u64,
}

/// Checks `f` against `exact` on `xs`: NaN where the exact value is NaN, the same infinity
/// where it overflows `f32`, otherwise a finite value within `max_ulps`.
fn check(
    name: &str,
    f: impl Fn(f32) -> f32,
    exact: impl Fn(f64) -> f64,
    xs: impl IntoIterator<Item = f32>,
    max_ulps: f64,
) -> Worst {
    let mut worst = Worst::default();
    for x in xs {
        let got = f(x);
        let want = exact(f64::from(x));
        worst.checked += 1;
        if want.is_nan() {
            assert!(got.is_nan(), "{name}({x:e}) = {got:e}, expected NaN");
            continue;
        }
        let rounded = want as f32;
        if rounded.is_infinite() {
            assert_eq!(got, rounded, "{name}({x:e}) = {got:e}, expected {rounded}");
            continue;
        }
        assert!(
            got.is_finite(),
            "{name}({x:e}) = {got:e}, expected {want:e}"
        );
        let err = (f64::from(got) - want).abs() / ulp(want);
        if err > worst.ulps {
            worst = Worst {
                ulps: err,
                at: x,
                ..worst
            };
        }
        assert!(
            err <= max_ulps,
            "{name}({x:e}) = {got:e}, exact {want:e}: {err:.3} ulp > {max_ulps}"
        );
    }
    worst
}

/// Every `stride`-th bit pattern, so all signs, exponents and special values are visited.
fn strided_bits(stride: usize) -> impl Iterator<Item = f32> {
    (0..=u32::MAX).step_by(stride).map(f32::from_bits)
}

/// `n + 1` evenly spaced points in `[lo, hi]`.
fn linear(lo: f32, hi: f32, n: u32) -> impl Iterator<Item = f32> {
    let (lo, hi) = (f64::from(lo), f64::from(hi));
    (0..=n).map(move |i| (lo + (hi - lo) * f64::from(i) / f64::from(n)) as f32)
}

/// Edge cases and their neighbours.
fn edges() -> Vec<f32> {
    let base = [
        0.0,
        f32::MIN_POSITIVE,
        1e-45,
        1e-40,
        1e-30,
        1e-10,
        1e-7,
        1e-4,
        0.5,
        std::f32::consts::FRAC_1_SQRT_2,
        1.0,
        std::f32::consts::SQRT_2,
        2.0,
        std::f32::consts::LN_2,
        17.0,
        17.4,
        20.0,
        87.0,
        88.0,
        88.72,
        88.722_84,
        89.0,
        100.0,
        103.0,
        103.972_08,
        104.0,
        1e4,
        1e30,
        f32::MAX,
        f32::INFINITY,
    ];
    let mut out = Vec::new();
    for b in base {
        for v in [b, -b] {
            out.extend([v, v.next_up(), v.next_down()]);
        }
    }
    out.push(f32::NAN);
    out.push(-f32::NAN);
    out
}

/// Prints the worst case (visible with `--nocapture`) after checking the sample was real.
fn report(name: &str, w: Worst) {
    assert!(
        w.checked > 1000,
        "{name}: only {} inputs checked",
        w.checked
    );
    eprintln!(
        "{name}: max {:.3} ulp at x = {:e} over {} inputs",
        w.ulps, w.at, w.checked
    );
}

fn all_cases(dense: impl Iterator<Item = f32>) -> impl Iterator<Item = f32> {
    strided_bits(1021).chain(dense).chain(edges())
}

fn softplus_f64(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid_f64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn exp_within_1_ulp() {
    let w = check(
        "exp",
        exp,
        f64::exp,
        all_cases(linear(-110.0, 95.0, 2_000_000)),
        1.0,
    );
    report("exp", w);
}

#[test]
fn ln_within_1_ulp() {
    let dense = linear(1e-6, 4.0, 2_000_000).chain(linear(0.5, 2.0, 1_000_000));
    let w = check("ln", ln, f64::ln, all_cases(dense), 1.0);
    report("ln", w);
}

#[test]
fn ln_1p_within_2_ulp() {
    let dense = linear(-1.0, 2.0, 2_000_000).chain(linear(-1e-3, 1e-3, 1_000_000));
    let w = check("ln_1p", ln_1p, f64::ln_1p, all_cases(dense), 2.0);
    report("ln_1p", w);
}

#[test]
fn ln_1p_unit_within_2_ulp_on_its_domain() {
    let dense = linear(0.0, 1.0, 2_000_000).chain(linear(0.0, 1e-6, 100_000));
    let w = check("ln_1p_unit", super::ln_1p_unit, f64::ln_1p, dense, 1.35);
    report("ln_1p_unit", w);
}

/// `exp_neg` is `exp`, bit for bit, on its domain `x ≤ 0` (a sample of every 61st negative
/// bit pattern, NaNs and `-∞` included, and a dense sweep of the range that does not
/// saturate), and still up to `x = 43`.
#[test]
fn exp_neg_is_exp_for_non_positive_arguments() {
    let negatives = (0x8000_0000u32..=0xffff_ffff)
        .step_by(61)
        .map(f32::from_bits);
    let xs = negatives
        .chain(linear(-105.0, 0.0, 2_000_000))
        .chain(linear(0.0, 43.0, 200_000))
        .chain([-0.0, 0.0, f32::NEG_INFINITY, f32::NAN]);
    for x in xs {
        let (fast, general) = (exp_neg(x), exp(x));
        let same = fast.to_bits() == general.to_bits() || (fast.is_nan() && general.is_nan());
        assert!(same, "x = {x:e}: exp_neg {fast:e}, exp {general:e}");
    }
}

/// `exp_minus(a)` is `exp_neg(-a)`, bit for bit, on its domain `a ≥ 0` (every 61st positive
/// bit pattern, NaNs and `+∞` included, and a dense sweep of the range that does not
/// saturate).
#[test]
fn exp_minus_is_exp_neg_of_the_negation() {
    let positives = (0x0000_0000u32..=0x7fff_ffff)
        .step_by(61)
        .map(f32::from_bits);
    let xs = positives.chain(linear(0.0, 105.0, 2_000_000)).chain([
        0.0,
        103.97,
        104.0,
        104.000_01,
        f32::INFINITY,
        f32::NAN,
    ]);
    for a in xs {
        let (fast, general) = (exp_minus(a), exp_neg(-a));
        let same = fast.to_bits() == general.to_bits() || (fast.is_nan() && general.is_nan());
        assert!(same, "a = {a:e}: exp_minus {fast:e}, exp_neg {general:e}");
    }
}

/// `sigmoid_pair(x)` is `(sigmoid(x), sigmoid(-x))` bit for bit, though it picks both on the
/// one mask `x ≥ 0` (every 61st bit pattern, both signs, and the zeros and specials).
#[test]
fn sigmoid_pair_is_sigmoid_of_both_signs() {
    let xs = (0u32..=u32::MAX).step_by(61).map(f32::from_bits).chain([
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ]);
    for x in xs {
        let (a, b, ..) = sigmoid_pair(x);
        for (got, want) in [(a, sigmoid(x)), (b, sigmoid(-x))] {
            let same = got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
            assert!(same, "x = {x:e}: pair {got:e}, sigmoid {want:e}");
        }
    }
}

#[test]
fn softplus_within_2_ulp() {
    let w = check(
        "softplus",
        softplus,
        softplus_f64,
        all_cases(linear(-120.0, 120.0, 2_000_000)),
        2.0,
    );
    report("softplus", w);
}

#[test]
fn log_sigmoid_within_2_ulp() {
    let w = check(
        "log_sigmoid",
        log_sigmoid,
        |x| -softplus_f64(-x),
        all_cases(linear(-120.0, 120.0, 2_000_000)),
        2.0,
    );
    report("log_sigmoid", w);
}

#[test]
fn sigmoid_within_3_ulp() {
    let w = check(
        "sigmoid",
        sigmoid,
        sigmoid_f64,
        all_cases(linear(-120.0, 120.0, 2_000_000)),
        3.0,
    );
    report("sigmoid", w);
}

#[test]
fn special_values() {
    let inf = f32::INFINITY;
    assert_eq!(exp(-inf), 0.0);
    assert_eq!(exp(inf), inf);
    assert_eq!(exp(0.0), 1.0);
    assert_eq!(exp(-0.0), 1.0);
    assert_eq!(exp(-1e4), 0.0);
    assert_eq!(exp(1e4), inf);
    // Gradual underflow: the smallest subnormal, then zero.
    assert_eq!(exp(-103.9), f32::from_bits(1));
    assert_eq!(exp(-104.0), 0.0);
    assert!(exp(88.72).is_finite() && exp(88.723).is_infinite());
    assert_eq!(ln(1.0), 0.0);
    assert_eq!(ln(0.0), -inf);
    assert_eq!(ln(-0.0), -inf);
    assert_eq!(ln(inf), inf);
    assert!(ln(-1.0).is_nan() && ln(-inf).is_nan() && ln(-1e-45).is_nan());
    assert_eq!(
        ln(f32::from_bits(1)),
        (-149.0 * std::f64::consts::LN_2) as f32
    );
    assert_eq!(ln_1p(0.0), 0.0);
    assert_eq!(ln_1p(-1.0), -inf);
    assert_eq!(ln_1p(inf), inf);
    assert!(ln_1p(-1.5).is_nan() && ln_1p(-inf).is_nan());
    assert_eq!(ln_1p(1e-30), 1e-30);
    for (x, sp, ls, sg) in [
        (inf, inf, 0.0, 1.0),
        (-inf, 0.0, -inf, 0.0),
        (1e4, 1e4, 0.0, 1.0),
        (-1e4, 0.0, -1e4, 0.0),
        (1e30, 1e30, 0.0, 1.0),
        (-1e30, 0.0, -1e30, 0.0),
        (f32::MAX, f32::MAX, 0.0, 1.0),
        (-f32::MAX, 0.0, -f32::MAX, 0.0),
        (0.0, std::f32::consts::LN_2, -std::f32::consts::LN_2, 0.5),
    ] {
        assert_eq!(softplus(x), sp, "softplus({x})");
        assert_eq!(log_sigmoid(x), ls, "log_sigmoid({x})");
        assert_eq!(sigmoid(x), sg, "sigmoid({x})");
    }
    for f in [exp, ln, ln_1p, softplus, log_sigmoid, sigmoid] {
        assert!(f(f32::NAN).is_nan() && f(-f32::NAN).is_nan());
    }
}

/// Signs and symmetries the losses rely on: `σ(x) + σ(-x) = 1` and
/// `softplus(x) - softplus(-x) = x`, to rounding.
#[test]
fn logistic_identities() {
    for x in linear(-30.0, 30.0, 100_000) {
        let s = sigmoid(x) + sigmoid(-x);
        assert!(
            (s - 1.0).abs() <= 2.0 * f32::EPSILON,
            "σ({x}) + σ(-{x}) = {s}"
        );
        let d = softplus(x) - softplus(-x);
        assert!(
            (d - x).abs() <= 2.0 * f32::EPSILON * x.abs().max(1.0),
            "softplus difference at {x}: {d}"
        );
        assert!(log_sigmoid(x) <= 0.0 && softplus(x) >= 0.0);
        assert!((0.0..=1.0).contains(&sigmoid(x)));
    }
}

/// The old `std`-based bodies, for the extreme values the issue names.
#[test]
fn stable_at_extremes() {
    for &x in &[-1e4f32, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4] {
        let sp = softplus_f64(f64::from(x));
        assert!(
            (f64::from(softplus(x)) - sp).abs() <= 1e-6 * sp.max(1e-30),
            "softplus({x})"
        );
        let sg = sigmoid_f64(f64::from(x));
        assert!(
            (f64::from(sigmoid(x)) - sg).abs() <= 1e-6 * sg.max(1e-30),
            "sigmoid({x})"
        );
    }
}

mod exhaustive {
    use super::*;

    /// All `2^32` inputs, split over the available threads.
    fn all_inputs(name: &str, f: fn(f32) -> f32, exact: fn(f64) -> f64, max_ulps: f64) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let per = (1u64 << 32).div_ceil(threads);
        let worst = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let lo = t * per;
                    let hi = ((t + 1) * per).min(1 << 32);
                    s.spawn(move || {
                        let xs = (lo..hi).map(|b| f32::from_bits(b as u32));
                        check(name, f, exact, xs, max_ulps)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("checker thread panicked"))
                .fold(Worst::default(), |a, b| {
                    let checked = a.checked + b.checked;
                    let worse = if b.ulps > a.ulps { b } else { a };
                    Worst { checked, ..worse }
                })
        });
        report(name, worst);
    }

    #[test]
    #[ignore = "checks all 2^32 inputs; run with --release"]
    fn exhaustive_exp() {
        all_inputs("exp", exp, f64::exp, 1.0);
    }

    #[test]
    #[ignore = "checks all 2^32 inputs; run with --release"]
    fn exhaustive_ln() {
        all_inputs("ln", ln, f64::ln, 1.0);
    }

    #[test]
    #[ignore = "checks all 2^32 inputs; run with --release"]
    fn exhaustive_ln_1p() {
        all_inputs("ln_1p", ln_1p, f64::ln_1p, 2.0);
    }

    /// Every `f32` of `[0, 1]`, `ln_1p_unit`'s domain.
    #[test]
    #[ignore = "checks 2^30 inputs; run with --release"]
    fn exhaustive_ln_1p_unit() {
        let w = check(
            "ln_1p_unit",
            ln_1p_unit,
            f64::ln_1p,
            (0..=1f32.to_bits()).map(f32::from_bits),
            1.35,
        );
        report("ln_1p_unit", w);
    }

    #[test]
    #[ignore = "checks all 2^32 inputs; run with --release"]
    fn exhaustive_softplus() {
        all_inputs("softplus", softplus, softplus_f64, 2.0);
    }

    #[test]
    #[ignore = "checks all 2^32 inputs; run with --release"]
    fn exhaustive_sigmoid() {
        all_inputs("sigmoid", sigmoid, sigmoid_f64, 3.0);
    }
}

mod vector_paths {
    use super::*;

    /// The functions under test, so one set of target-specific loops covers all of them.
    #[derive(Debug, Clone, Copy)]
    enum Func {
        Exp,
        ExpNeg,
        ExpMinus,
        Ln,
        Ln1p,
        Softplus,
        LogSigmoid,
        Sigmoid,
    }

    const ALL: [Func; 8] = [
        Func::Exp,
        Func::ExpNeg,
        Func::ExpMinus,
        Func::Ln,
        Func::Ln1p,
        Func::Softplus,
        Func::LogSigmoid,
        Func::Sigmoid,
    ];

    /// The loop body every path shares; `match` outside the loop so each arm is a plain,
    /// vectorisable map.
    #[inline(always)]
    fn map(func: Func, xs: &[f32], out: &mut [f32]) {
        let pairs = out.iter_mut().zip(xs);
        match func {
            Func::Exp => pairs.for_each(|(o, &x)| *o = exp(x)),
            // Its domain is `x ≤ 0`; `-|x|` keeps the shared inputs in it.
            Func::ExpNeg => pairs.for_each(|(o, &x)| *o = exp_neg(-x.abs())),
            Func::ExpMinus => pairs.for_each(|(o, &x)| *o = exp_minus(x.abs())),
            Func::Ln => pairs.for_each(|(o, &x)| *o = ln(x)),
            Func::Ln1p => pairs.for_each(|(o, &x)| *o = ln_1p(x)),
            Func::Softplus => pairs.for_each(|(o, &x)| *o = softplus(x)),
            Func::LogSigmoid => pairs.for_each(|(o, &x)| *o = log_sigmoid(x)),
            Func::Sigmoid => pairs.for_each(|(o, &x)| *o = sigmoid(x)),
        }
    }

    /// One element at a time through an opaque call: never vectorised.
    fn map_scalar(func: Func, xs: &[f32], out: &mut [f32]) {
        for (o, &x) in out.iter_mut().zip(xs) {
            let one = std::hint::black_box([x]);
            let mut r = [0.0];
            map(func, &one, &mut r);
            *o = std::hint::black_box(r)[0];
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn map_avx2(func: Func, xs: &[f32], out: &mut [f32]) {
        map(func, xs, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    fn map_avx512(func: Func, xs: &[f32], out: &mut [f32]) {
        map(func, xs, out);
    }

    fn same(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn vector_paths_match_scalar() {
        let xs: Vec<f32> = strided_bits(4099)
            .chain(linear(-120.0, 120.0, 200_000))
            .chain(edges())
            .collect();
        let mut want = vec![0.0; xs.len()];
        let mut got = vec![0.0; xs.len()];
        let mut paths = 0;
        for func in ALL {
            map_scalar(func, &xs, &mut want);
            let mut compare = |path: &str, got: &[f32]| {
                for ((&x, &w), &g) in xs.iter().zip(&want).zip(got) {
                    assert!(same(w, g), "{func:?}({x:e}): scalar {w:e}, {path} {g:e}");
                }
                paths += 1;
            };
            map(func, &xs, &mut got);
            compare("baseline", &got);
            #[cfg(target_arch = "x86_64")]
            {
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                    // SAFETY: the features the function enables were just detected.
                    unsafe { map_avx2(func, &xs, &mut got) };
                    compare("avx2", &got);
                }
                if is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512vl")
                {
                    // SAFETY: as above.
                    unsafe { map_avx512(func, &xs, &mut got) };
                    compare("avx512", &got);
                }
            }
        }
        eprintln!("compared {paths} (function, path) pairs");
    }
}
