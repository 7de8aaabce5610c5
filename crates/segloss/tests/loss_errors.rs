//! Bad input gets a typed error naming the input, never a panic or NaN.
//!
//! Contract: on error `grad` holds no partial result: errors found before the pass (buffer
//! lengths, target kind, configuration, shape) leave it untouched; errors found in the
//! values during the pass (a non-finite logit, a label >= C, a target outside [0, 1]) leave
//! it filled with zeros.

use segloss::loss::*;
use segloss::{Error, Shape};

const SENTINEL: f32 = 12345.0;

/// Runs `forward` with a sentinel-filled gradient, returns the error and checks that the
/// gradient holds no partial result: all sentinel (untouched) or all zero (cleared).
fn fails(loss: &dyn Loss, x: &[f32], t: Targets<'_>, shape: &Shape) -> Error {
    let (e, g) = fails_with_grad(loss, x, t, shape);
    assert!(
        g.iter().all(|&v| v == SENTINEL) || g.iter().all(|&v| v == 0.0),
        "{}: grad holds a partial result after the error",
        loss.name()
    );
    e
}

/// Runs `forward` with a sentinel-filled gradient; returns the error and the gradient.
fn fails_with_grad(loss: &dyn Loss, x: &[f32], t: Targets<'_>, shape: &Shape) -> (Error, Vec<f32>) {
    let mut g = vec![SENTINEL; shape.len()];
    let e = loss
        .forward(x, t, shape, Some(&mut g))
        .expect_err("bad input must fail");
    (e, g)
}

/// `grad` was cleared: every entry exactly +0.0.
fn assert_zeroed(name: &str, g: &[f32]) {
    assert!(
        g.iter().all(|&v| v.to_bits() == 0),
        "{name}: grad not all +0.0 after a bad value"
    );
}

/// A good call after a failed one, in the same gradient buffer: finite loss and gradient.
fn reuses_the_buffer(loss: &dyn Loss, x: &[f32], t: Targets<'_>, shape: &Shape, mut g: Vec<f32>) {
    let v = loss.forward(x, t, shape, Some(&mut g)).unwrap();
    assert!(
        v.is_finite() && g.iter().all(|v| v.is_finite()),
        "{}",
        loss.name()
    );
}

/// Which of the two allowed states an error leaves `grad` in: a length error is found
/// before the pass (sentinel kept); a bad value found during the pass clears all of it,
/// including the units that the pass completed before and after the bad one.
#[test]
fn grad_is_untouched_before_the_pass_and_zeroed_after_a_bad_value() {
    let bce = BceConfig::new().init().unwrap();
    let small = Shape::new(&[1, 1, 4]).unwrap();
    let mut g = vec![SENTINEL; 4];
    let e = bce
        .forward(&[0.0; 3], Targets::Dense(&[0.0; 4]), &small, Some(&mut g))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                input: "logits",
                ..
            }
        ),
        "{e}"
    );
    assert!(g.iter().all(|&v| v == SENTINEL), "length error wrote grad");

    // 2 rows of 70 000: three sigmoid units per row (32 768 each), six in all; the bad
    // value is the very last element, in the last unit.
    let shape = Shape::new(&[2, 1, 70_000]).unwrap();
    let n = shape.len();
    let t: Vec<f32> = (0..n).map(|i| (i % 7 == 0) as u8 as f32).collect();
    let mut x: Vec<f32> = (0..n).map(|i| (i % 13) as f32 - 6.0).collect();
    x[n - 1] = f32::NAN;
    let losses: Vec<Box<dyn Loss>> = vec![
        Box::new(BceConfig::new().init().unwrap()),
        Box::new(FocalConfig::new().init().unwrap()),
        Box::new(FocalConfig::new().with_gamma(1.5).init().unwrap()),
        Box::new(DiceConfig::new().init().unwrap()),
        Box::new(DiceFocalConfig::new().init().unwrap()),
        Box::new(DiceCeConfig::new().init().unwrap()),
    ];
    for l in &losses {
        let (e, g) = fails_with_grad(l.as_ref(), &x, Targets::Dense(&t), &shape);
        assert!(
            matches!(
                e,
                Error::NonFinite {
                    input: "logits",
                    index,
                    ..
                } if index == n - 1
            ),
            "{}: {e}",
            l.name()
        );
        assert_zeroed(l.name(), &g);
        // Without a gradient buffer the same error.
        let e = l.forward(&x, Targets::Dense(&t), &shape, None).unwrap_err();
        assert!(matches!(e, Error::NonFinite { .. }), "{}: {e}", l.name());
    }
    // A bad target in the first unit, the same way.
    x[n - 1] = 0.5;
    let mut t2 = t.clone();
    t2[3] = 1.5;
    for l in &losses {
        let (e, g) = fails_with_grad(l.as_ref(), &x, Targets::Dense(&t2), &shape);
        assert!(
            matches!(
                e,
                Error::OutOfRange {
                    input: "targets",
                    index: 3,
                    ..
                }
            ),
            "{}: {e}",
            l.name()
        );
        assert_zeroed(l.name(), &g);
        // And the good input afterwards gives a finite result in the same buffer.
        reuses_the_buffer(l.as_ref(), &x, Targets::Dense(&t), &shape, g);
    }
}

/// The same contract for softmax losses, whose Dice-type first pass stores the
/// probabilities in `grad`: a bad logit in the last pixel of the last unit (two images of
/// 5 000 pixels, two units each) leaves all of `grad` zeroed; a label out of range is found
/// by the label scan before any pass for pixel-only losses (sentinel kept) and during the
/// first pass for Dice-type ones (zeroed).
#[test]
fn softmax_errors_leave_no_partial_gradient() {
    let shape = Shape::new(&[2, 3, 5_000]).unwrap();
    let n = shape.len();
    let mut x: Vec<f32> = (0..n).map(|i| (i % 11) as f32 - 5.0).collect();
    let lab: Vec<u8> = (0..shape.index_len()).map(|i| (i % 3) as u8).collect();
    x[n - 1] = f32::INFINITY;
    let sm = Activation::Softmax;
    let losses: Vec<(Box<dyn Loss>, bool)> = vec![
        (Box::new(CrossEntropyConfig::new().init().unwrap()), false),
        (
            Box::new(FocalConfig::new().with_activation(sm).init().unwrap()),
            false,
        ),
        (
            Box::new(DiceConfig::new().with_activation(sm).init().unwrap()),
            true,
        ),
        (
            Box::new(DiceCeConfig::new().with_activation(sm).init().unwrap()),
            true,
        ),
        (
            Box::new(DiceFocalConfig::new().with_activation(sm).init().unwrap()),
            true,
        ),
    ];
    for (l, _) in &losses {
        let (e, g) = fails_with_grad(l.as_ref(), &x, Targets::U8(&lab), &shape);
        assert!(
            matches!(e, Error::NonFinite { input: "logits", index, .. } if index == n - 1),
            "{}: {e}",
            l.name()
        );
        assert_zeroed(l.name(), &g);
    }
    x[n - 1] = 0.25;
    let mut bad = lab.clone();
    let last = bad.len() - 1;
    bad[last] = 3;
    for (l, dice_type) in &losses {
        let (e, g) = fails_with_grad(l.as_ref(), &x, Targets::U8(&bad), &shape);
        assert!(
            matches!(e, Error::LabelOutOfRange { index, value: 3, classes: 3, .. } if index == last),
            "{}: {e}",
            l.name()
        );
        let want = if *dice_type { 0.0 } else { SENTINEL };
        assert!(
            g.iter().all(|&v| v == want),
            "{}: grad should be all {want}",
            l.name()
        );
        reuses_the_buffer(l.as_ref(), &x, Targets::U8(&lab), &shape, g);
    }
    // Both a bad logit and a bad label: the logit is reported, for every loss.
    x[7] = f32::NAN;
    for (l, _) in &losses {
        let e = l.forward(&x, Targets::U8(&bad), &shape, None).unwrap_err();
        assert!(
            matches!(e, Error::NonFinite { index: 7, .. }),
            "{}: {e}",
            l.name()
        );
    }
}

#[test]
fn wrong_lengths() {
    let shape = Shape::new(&[2, 1, 3]).unwrap();
    let bce = BceConfig::new().init().unwrap();
    let e = fails(&bce, &[0.0; 5], Targets::Dense(&[0.0; 6]), &shape);
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                input: "logits",
                expected: 6,
                found: 5,
                ..
            }
        ),
        "{e}"
    );
    let e = fails(&bce, &[0.0; 6], Targets::Dense(&[0.0; 7]), &shape);
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                input: "targets",
                ..
            }
        ),
        "{e}"
    );
    let mut g = [0.0f32; 4];
    let e = bce
        .forward(&[0.0; 6], Targets::Dense(&[0.0; 6]), &shape, Some(&mut g))
        .unwrap_err();
    assert!(
        matches!(e, Error::LengthMismatch { input: "grad", .. }),
        "{e}"
    );
    let s3 = Shape::new(&[2, 3, 2]).unwrap();
    let ce = CrossEntropyConfig::new().init().unwrap();
    let e = fails(&ce, &[0.0; 12], Targets::U8(&[0; 5]), &s3);
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                input: "targets",
                expected: 4,
                ..
            }
        ),
        "{e}"
    );
    let mut out = [0.0f32; 3];
    let e = ce
        .map(&[0.0; 12], Targets::U8(&[0; 4]), &s3, &mut out)
        .unwrap_err();
    assert!(
        matches!(e, Error::LengthMismatch { input: "out", .. }),
        "{e}"
    );
}

#[test]
fn label_out_of_range() {
    let shape = Shape::new(&[1, 3, 4]).unwrap();
    let x = [0.0f32; 12];
    let sm = Activation::Softmax;
    let losses: Vec<Box<dyn Loss>> = vec![
        Box::new(
            CrossEntropyConfig::new()
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
        Box::new(
            DiceConfig::new()
                .with_activation(sm)
                .with_ignore_index(255)
                .init()
                .unwrap(),
        ),
        Box::new(DiceFocalConfig::new().with_activation(sm).init().unwrap()),
    ];
    for l in &losses {
        let e = fails(l.as_ref(), &x, Targets::U8(&[0, 1, 3, 255]), &shape);
        assert!(
            matches!(
                e,
                Error::LabelOutOfRange {
                    index: 2,
                    value: 3,
                    classes: 3,
                    ..
                }
            ),
            "{}: {e}",
            l.name()
        );
        let e = fails(l.as_ref(), &x, Targets::I64(&[0, -1, 1, 2]), &shape);
        assert!(
            matches!(
                e,
                Error::NegativeLabel {
                    index: 1,
                    value: -1,
                    ..
                }
            ),
            "{}: {e}",
            l.name()
        );
    }
}

#[test]
fn targets_outside_unit_interval() {
    let shape = Shape::new(&[1, 1, 4]).unwrap();
    let losses: Vec<Box<dyn Loss>> = vec![
        Box::new(BceConfig::new().init().unwrap()),
        Box::new(FocalConfig::new().init().unwrap()),
        Box::new(DiceConfig::new().init().unwrap()),
        Box::new(TverskyConfig::new().init().unwrap()),
        Box::new(GeneralizedDiceConfig::new().init().unwrap()),
        Box::new(DiceCeConfig::new().init().unwrap()),
    ];
    for l in &losses {
        for bad in [1.5f32, -0.1, f32::NAN] {
            let e = fails(
                l.as_ref(),
                &[0.0; 4],
                Targets::Dense(&[0.0, 1.0, bad, 0.5]),
                &shape,
            );
            assert!(
                matches!(
                    e,
                    Error::OutOfRange {
                        input: "targets",
                        index: 2,
                        ..
                    }
                ),
                "{}: {e}",
                l.name()
            );
        }
    }
}

#[test]
fn non_finite_logits() {
    let shape = Shape::new(&[1, 2, 3]).unwrap();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut x = [0.5f32; 6];
        x[4] = bad;
        let d = DiceConfig::new().init().unwrap();
        let e = fails(&d, &x, Targets::Dense(&[0.0; 6]), &shape);
        assert!(
            matches!(
                e,
                Error::NonFinite {
                    input: "logits",
                    index: 4,
                    ..
                }
            ),
            "{e}"
        );
        let ce = CrossEntropyConfig::new().init().unwrap();
        let e = fails(&ce, &x, Targets::U16(&[0, 1, 1]), &shape);
        assert!(matches!(e, Error::NonFinite { index: 4, .. }), "{e}");
    }
}

#[test]
fn wrong_target_kind_and_shape() {
    let shape = Shape::new(&[1, 2, 2]).unwrap();
    let bce = BceConfig::new().init().unwrap();
    let e = fails(&bce, &[0.0; 4], Targets::U8(&[0, 1]), &shape);
    assert!(matches!(e, Error::TargetKind { .. }), "{e}");
    let ce = CrossEntropyConfig::new().init().unwrap();
    let e = fails(&ce, &[0.0; 4], Targets::Dense(&[0.0; 4]), &shape);
    assert!(matches!(e, Error::TargetKind { .. }), "{e}");
    let one = Shape::new(&[1, 1, 2]).unwrap();
    let e = fails(&ce, &[0.0; 2], Targets::U8(&[0, 0]), &one);
    assert!(matches!(e, Error::InvalidShape { .. }), "{e}");
}

#[test]
fn class_vectors_of_the_wrong_length() {
    let shape = Shape::new(&[1, 3, 2]).unwrap();
    let ce = CrossEntropyConfig::new()
        .with_class_weights(vec![1.0, 2.0])
        .init()
        .unwrap();
    let e = fails(&ce, &[0.0; 6], Targets::U8(&[0, 1]), &shape);
    assert!(matches!(e, Error::Incompatible { .. }), "{e}");
    let bce = BceConfig::new()
        .with_class_pos_weights(vec![1.0, 2.0])
        .init()
        .unwrap();
    let e = fails(&bce, &[0.0; 6], Targets::Dense(&[0.0; 6]), &shape);
    assert!(matches!(e, Error::Incompatible { .. }), "{e}");
    let d = DiceConfig::new()
        .with_class_weights(vec![1.0; 4])
        .init()
        .unwrap();
    let e = fails(&d, &[0.0; 6], Targets::Dense(&[0.0; 6]), &shape);
    assert!(
        e.to_string()
            .contains("number of class weights is 4, expected 3"),
        "{e}"
    );
}

fn param(e: Error) -> &'static str {
    match e {
        Error::InvalidParameter { name, .. } => name,
        other => panic!("expected InvalidParameter, got {other}"),
    }
}

#[test]
fn invalid_settings_never_reach_the_math() {
    assert_eq!(
        param(FocalConfig::new().with_gamma(-1.0).init().unwrap_err()),
        "gamma"
    );
    assert_eq!(
        param(FocalConfig::new().with_gamma(f32::NAN).init().unwrap_err()),
        "gamma"
    );
    let a = FocalAlpha::Balanced(1.5);
    assert_eq!(
        param(FocalConfig::new().with_alpha(a).init().unwrap_err()),
        "alpha"
    );
    let a = FocalAlpha::PerClass(vec![0.5, -0.1]);
    assert_eq!(
        param(FocalConfig::new().with_alpha(a).init().unwrap_err()),
        "alpha"
    );
    let a = FocalAlpha::NotesVariant(0.25);
    let sm = FocalConfig::new()
        .with_alpha(a)
        .with_activation(Activation::Softmax);
    assert_eq!(param(sm.init().unwrap_err()), "alpha");
    assert_eq!(
        param(
            FocalConfig::new()
                .with_ignore_index(255)
                .init()
                .unwrap_err()
        ),
        "ignore_index"
    );
    let w = FocalConfig::new()
        .with_alpha(FocalAlpha::PerClass(vec![0.5; 3]))
        .with_class_weights(vec![1.0; 2]);
    assert_eq!(param(w.init().unwrap_err()), "class_weights");
    let e = CrossEntropyConfig::new()
        .with_label_smoothing(-0.1)
        .init()
        .unwrap_err();
    assert_eq!(param(e), "label_smoothing");
    let e = CrossEntropyConfig::new()
        .with_class_weights(vec![1.0, -2.0])
        .init()
        .unwrap_err();
    assert_eq!(param(e), "class_weights");
    let e = CrossEntropyConfig::new()
        .with_class_weights(vec![])
        .init()
        .unwrap_err();
    assert_eq!(param(e), "class_weights");
    assert_eq!(
        param(BceConfig::new().with_pos_weight(-1.0).init().unwrap_err()),
        "pos_weight"
    );
    assert_eq!(
        param(
            BceConfig::new()
                .with_label_smoothing(2.0)
                .init()
                .unwrap_err()
        ),
        "label_smoothing"
    );
    assert_eq!(
        param(DiceConfig::new().with_smooth_nr(-1.0).init().unwrap_err()),
        "smooth_nr"
    );
    assert_eq!(
        param(
            DiceConfig::new()
                .with_smooth_dr(f64::INFINITY)
                .init()
                .unwrap_err()
        ),
        "smooth_dr"
    );
    assert_eq!(
        param(DiceConfig::new().with_eps(0.0).init().unwrap_err()),
        "eps"
    );
    assert_eq!(
        param(DiceConfig::new().with_ignore_index(0).init().unwrap_err()),
        "ignore_index"
    );
    assert_eq!(
        param(TverskyConfig::new().with_alpha(-0.5).init().unwrap_err()),
        "alpha"
    );
    assert_eq!(
        param(TverskyConfig::new().with_gamma(0.0).init().unwrap_err()),
        "gamma"
    );
    assert_eq!(
        param(
            DiceFocalConfig::new()
                .with_lambda_focal(-1.0)
                .init()
                .unwrap_err()
        ),
        "lambda_focal"
    );
    assert_eq!(
        param(
            DiceCeConfig::new()
                .with_lambda_dice(f64::NAN)
                .init()
                .unwrap_err()
        ),
        "lambda_dice"
    );
    let msg = FocalConfig::new()
        .with_gamma(-1.0)
        .init()
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "invalid parameter `gamma` = -1.0: must be finite and >= 0"
    );
}

/// The checks run in pieces (in parallel with the `rayon` feature): on a buffer of several
/// pieces the error still names the first bad position, and a bad logit is reported before
/// a bad target that comes earlier in the buffer, as when each input is checked on its own.
#[test]
fn errors_name_the_first_bad_position_across_check_pieces() {
    let n = 300_000;
    let shape = Shape::new(&[1, 1, n]).unwrap();
    let focal = FocalConfig::new().init().unwrap();
    let mut x = vec![0.5f32; n];
    let mut t = vec![0.0f32; n];
    t[150_001] = 1.5;
    t[250_000] = -1.0;
    let e = fails(&focal, &x, Targets::Dense(&t), &shape);
    assert!(matches!(e, Error::OutOfRange { index: 150_001, .. }), "{e}");
    x[290_000] = f32::NAN;
    x[200_000] = f32::INFINITY;
    let e = fails(&focal, &x, Targets::Dense(&t), &shape);
    assert!(matches!(e, Error::NonFinite { index: 200_000, .. }), "{e}");

    let shape = Shape::new(&[1, 3, n]).unwrap();
    let ce = CrossEntropyConfig::new().init().unwrap();
    let x = vec![0.0f32; 3 * n];
    let mut lab = vec![1u8; n];
    lab[270_000] = 7;
    lab[131_073] = 3;
    let e = fails(&ce, &x, Targets::U8(&lab), &shape);
    assert!(
        matches!(
            e,
            Error::LabelOutOfRange {
                index: 131_073,
                value: 3,
                ..
            }
        ),
        "{e}"
    );
}

/// Every sigmoid loss configuration (the kernels flag a non-finite logit through the loss
/// sum for terms whose loss is not finite then, and through `x·0` otherwise): each bad value,
/// at the start, inside a full block, in a row's tail and in a later row, with each target at
/// that position, with and without a gradient, is reported at its position.
#[test]
fn every_sigmoid_loss_reports_every_bad_value_wherever_it_is() {
    let shape = Shape::new(&[1, 2, 37]).unwrap();
    let n = shape.len();
    let focal = |g: f32, a: FocalAlpha| FocalConfig::new().with_gamma(g).with_alpha(a);
    let losses: Vec<Box<dyn Loss>> = vec![
        Box::new(BceConfig::new().init().unwrap()),
        Box::new(
            BceConfig::new()
                .with_class_pos_weights(vec![0.0, 3.0])
                .with_label_smoothing(0.1)
                .init()
                .unwrap(),
        ),
        Box::new(focal(2.0, FocalAlpha::Balanced(0.25)).init().unwrap()),
        Box::new(focal(0.0, FocalAlpha::None).init().unwrap()),
        Box::new(focal(0.5, FocalAlpha::Balanced(1.0)).init().unwrap()),
        Box::new(focal(3.0, FocalAlpha::Balanced(0.0)).init().unwrap()),
        Box::new(focal(1.5, FocalAlpha::NotesVariant(0.25)).init().unwrap()),
        Box::new(DiceConfig::new().init().unwrap()),
        Box::new(TverskyConfig::new().with_gamma(0.75).init().unwrap()),
        Box::new(GeneralizedDiceConfig::new().init().unwrap()),
        Box::new(DiceCeConfig::new().init().unwrap()),
        Box::new(DiceFocalConfig::new().init().unwrap()),
        Box::new(
            DiceFocalConfig::new()
                .with_focal(focal(0.5, FocalAlpha::None))
                .init()
                .unwrap(),
        ),
    ];
    let x0: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 4.0).collect();
    let t0: Vec<f32> = (0..n).map(|i| [0.0, 1.0, 0.3][i % 3]).collect();
    // The errors of one call with a gradient and of one without.
    let errors = |l: &dyn Loss, x: &[f32], t: &[f32]| {
        [true, false].map(|with_grad| {
            let mut g = vec![SENTINEL; n];
            l.forward(x, Targets::Dense(t), &shape, with_grad.then_some(&mut g))
                .expect_err("bad input must fail")
        })
    };
    for l in &losses {
        for pos in [0, 20, 36, 57, n - 1] {
            for t_at in [0.0f32, 1.0, 0.5] {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let (mut x, mut t) = (x0.clone(), t0.clone());
                    x[pos] = bad;
                    t[pos] = t_at;
                    for e in errors(l.as_ref(), &x, &t) {
                        assert!(
                            matches!(e, Error::NonFinite { input: "logits", index, .. } if index == pos),
                            "{} x[{pos}] = {bad}, t = {t_at}: {e}",
                            l.name()
                        );
                    }
                }
            }
            for bad in [f32::NAN, -0.25, 1.0 + f32::EPSILON, f32::INFINITY, -1e-30] {
                let mut t = t0.clone();
                t[pos] = bad;
                for e in errors(l.as_ref(), &x0, &t) {
                    assert!(
                        matches!(
                            e,
                            Error::OutOfRange { input: "targets", index, .. }
                                | Error::NonFinite { input: "targets", index, .. }
                                if index == pos
                        ),
                        "{} t[{pos}] = {bad}: {e}",
                        l.name()
                    );
                }
            }
        }
    }
}

/// Logits near `f32::MAX` are finite, so valid input, even where the loss sum overflows
/// (which makes the kernels run the precise check): the call succeeds with a finite gradient.
#[test]
fn huge_finite_logits_are_not_bad_input() {
    let shape = Shape::new(&[1, 1, 40]).unwrap();
    let x: Vec<f32> = (0..40)
        .map(|i| if i % 2 == 0 { f32::MAX } else { -f32::MAX })
        .collect();
    let t: Vec<f32> = (0..40).map(|i| [0.0, 1.0][(i / 2) % 2]).collect();
    let losses: Vec<Box<dyn Loss>> = vec![
        Box::new(BceConfig::new().init().unwrap()),
        Box::new(
            FocalConfig::new()
                .with_alpha(FocalAlpha::None)
                .init()
                .unwrap(),
        ),
        Box::new(DiceFocalConfig::new().init().unwrap()),
        Box::new(DiceCeConfig::new().init().unwrap()),
    ];
    for l in &losses {
        let mut g = vec![SENTINEL; 40];
        let v = l
            .forward(&x, Targets::Dense(&t), &shape, Some(&mut g))
            .unwrap_or_else(|e| panic!("{}: {e}", l.name()));
        assert!(!v.is_nan(), "{}: loss {v}", l.name());
        assert!(g.iter().all(|v| v.is_finite()), "{}: {g:?}", l.name());
    }
    // The overflow itself: BCE of a wrong logit at f32::MAX is f32::MAX, and two of them
    // in one lane sum to +∞ in f32; the result is the same as before the conservative flag.
    let bce = BceConfig::new()
        .with_reduction(Reduction::Sum)
        .init()
        .unwrap();
    let v = bce.forward(&x, Targets::Dense(&t), &shape, None).unwrap();
    assert!(v > 1e38, "{v}");
}
