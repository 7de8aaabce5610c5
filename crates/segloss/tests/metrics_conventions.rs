//! The documented conventions, each with a case that would fail under another choice.

use segloss::Shape;
use segloss::metrics::{
    AbsentClasses, Average, BinaryConfusionConfig, ConfusionMatrix, ConfusionMatrixConfig,
    Conventions, Counts, Metric, PerImage, ZeroDivision,
};

#[test]
fn empty_truth_and_prediction() {
    let m = segloss::metrics::BinaryConfusion::from_counts(Counts::new(0, 0, 0, 10));
    let score = |zd| {
        m.score(
            Metric::DICE,
            Average::Micro,
            &Conventions::default().with_zero_division(zd),
        )
        .unwrap()
        .value()
    };
    assert_eq!(score(ZeroDivision::One), Some(1.0));
    assert_eq!(score(ZeroDivision::Zero), Some(0.0));
    assert!(score(ZeroDivision::Nan).unwrap().is_nan());
    assert_eq!(score(ZeroDivision::Skip), None);
    // Macro over a single absent class: every class absent, so the 0/0 value.
    let mac = m
        .score(Metric::Iou, Average::Macro, &Conventions::default())
        .unwrap();
    assert_eq!(mac.value(), Some(1.0));
}

#[test]
fn macro_skips_absent_classes_by_default() {
    // class 2 never appears in truth or prediction
    let m = ConfusionMatrix::from_matrix(3, vec![3, 1, 0, 1, 3, 0, 0, 0, 0]).unwrap();
    let dice = 6.0 / 8.0;
    let def = m
        .score(Metric::DICE, Average::Macro, &Conventions::default())
        .unwrap();
    assert_eq!(def.value(), Some(dice));
    let inc = Conventions::default().with_absent_classes(AbsentClasses::Include);
    assert_eq!(
        m.score(Metric::DICE, Average::Macro, &inc).unwrap().value(),
        Some((2.0 * dice + 1.0) / 3.0)
    );
    let sk = Conventions::sklearn();
    assert_eq!(
        m.score(Metric::DICE, Average::Macro, &sk).unwrap().value(),
        Some((2.0 * dice) / 3.0)
    );
    // Weighted ignores zero-support classes whatever the convention.
    let w = m.score(
        Metric::DICE,
        Average::Weighted,
        &Conventions::default().with_zero_division(ZeroDivision::Nan),
    );
    assert_eq!(w.unwrap().value(), Some(dice));
}

#[test]
fn image_wise_differs_from_micro() {
    // image 1: large object found; image 2: small object missed.
    let mut m = BinaryConfusionConfig::new()
        .with_per_image(PerImage::Keep)
        .init()
        .unwrap();
    let t1 = [1u8, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    let p1 = [1u8, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    let t2 = [1u8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let p2 = [0u8; 10];
    m.update(&t1, &p1).unwrap();
    m.update(&t2, &p2).unwrap();
    let c = Conventions::default();
    let micro = m
        .score(Metric::DICE, Average::Micro, &c)
        .unwrap()
        .value()
        .unwrap();
    let iw = m
        .score(Metric::DICE, Average::ImageWise, &c)
        .unwrap()
        .value()
        .unwrap();
    assert!((micro - 16.0 / 17.0).abs() < 1e-15);
    assert_eq!(iw, 0.5);
    let rep = m.report(&c).unwrap();
    assert_eq!(rep.images, Some(2));
    assert_eq!(rep.image_wise.unwrap().f1, Some(0.5));
}

#[test]
fn image_wise_skips_fully_ignored_images_and_scores_empty_ones() {
    let mut m = BinaryConfusionConfig::new()
        .with_ignore_index(255)
        .with_per_image(PerImage::Keep)
        .init()
        .unwrap();
    m.update(&[255u8, 255], &[1u8, 1]).unwrap(); // nothing counted: skipped
    m.update(&[0u8, 0], &[0u8, 0]).unwrap(); // empty and predicted empty: Dice 1
    m.update(&[1u8, 0], &[0u8, 0]).unwrap(); // missed: Dice 0
    let iw = m
        .score(Metric::DICE, Average::ImageWise, &Conventions::default())
        .unwrap();
    assert_eq!(iw.value(), Some(0.5));
}

#[test]
fn thresholds_and_argmax_ties() {
    let shape = Shape::new(&[1, 1, 4]).unwrap();
    let mut m = BinaryConfusionConfig::new()
        .with_threshold(0.7)
        .init()
        .unwrap();
    m.update_probs(&[1u8, 1, 0, 0], &[0.7f32, 0.69, 0.71, 0.2], &shape)
        .unwrap();
    assert_eq!(m.counts(), Counts::new(1, 1, 1, 1));
    let mut l = BinaryConfusionConfig::new()
        .with_threshold(0.7)
        .init()
        .unwrap();
    let cut = (0.7f64 / 0.3).ln();
    l.update_logits(&[1u8, 1, 0, 0], &[cut, cut - 1e-6, 5.0, -5.0], &shape)
        .unwrap();
    assert_eq!(l.counts(), Counts::new(1, 1, 1, 1));
    // ties go to the lowest class
    let mut cm = ConfusionMatrixConfig::new(3).init().unwrap();
    let s = Shape::new(&[1, 3, 1]).unwrap();
    cm.update_argmax(&[1u8], &[0.2f64, 0.4, 0.4], &s).unwrap();
    assert_eq!(cm.get(1, 1), 1);
}

#[test]
fn mcc_degenerate_cases_follow_sklearn() {
    // constant truth, imperfect prediction: 0
    assert_eq!(Counts::new(0, 3, 0, 7).mcc(), 0.0);
    // constant truth, perfect prediction: the 0/0 value
    assert_eq!(Counts::new(0, 0, 0, 7).mcc(), 1.0);
    let z = Counts::new(0, 0, 0, 7)
        .score(Metric::Mcc, ZeroDivision::Zero)
        .unwrap();
    assert_eq!(z, Some(0.0));
}
