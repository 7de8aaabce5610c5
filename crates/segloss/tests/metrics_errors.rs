//! Bad input gets a typed error naming what was expected and found, and nothing is counted.

use segloss::metrics::{
    Average, BinaryConfusion, BinaryConfusionConfig, ConfusionMatrix, ConfusionMatrixConfig,
    Conventions, Counts, Metric, MultiLabelConfusionConfig, PerImage,
};
use segloss::{Error, Shape};

#[test]
fn mismatched_lengths() {
    let mut m = ConfusionMatrix::new(3).unwrap();
    m.update(&[0u8, 1], &[0u8, 1]).unwrap();
    let before = m.clone();
    let e = m.update(&[0u8, 1, 2], &[0u8, 1]).unwrap_err();
    assert_eq!(
        e,
        Error::SizeMismatch {
            op: "confusion matrix",
            lhs: "truth",
            lhs_len: 3,
            rhs: "pred",
            rhs_len: 2
        }
    );
    assert_eq!(m, before);
    let mut b = BinaryConfusion::new();
    assert!(matches!(
        b.update(&[0u8; 4], &[0u8; 5]),
        Err(Error::SizeMismatch { .. })
    ));
    assert_eq!(b.counts(), Counts::default());
}

#[test]
fn label_out_of_range_in_fast_path_far_into_the_buffer() {
    // u8 fast path: the bad label sits in the second 16 320-pixel chunk.
    let n = 40_000;
    let mut truth = vec![1u8; n];
    let pred = vec![0u8; n];
    truth[20_001] = 6;
    let mut m = ConfusionMatrixConfig::new(6)
        .with_ignore_index(255)
        .init()
        .unwrap();
    m.update(&[0u8; 10], &[0u8; 10]).unwrap();
    let before = m.clone();
    let e = m.update(&truth, &pred).unwrap_err();
    assert_eq!(
        e,
        Error::LabelOutOfRange {
            op: "confusion matrix",
            input: "truth",
            index: 20_001,
            value: 6,
            classes: 6,
            ignore_index: Some(255)
        }
    );
    assert_eq!(
        e.to_string(),
        "confusion matrix: truth[20001] is 6, expected a class index below 6 or the ignore label 255"
    );
    assert_eq!(m, before, "nothing counted");

    let mut b = BinaryConfusion::new();
    let mut p = vec![0u8; n];
    p[33_333] = 2;
    let e = b.update(&vec![0u8; n], &p).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LabelOutOfRange {
                input: "pred",
                index: 33_333,
                value: 2,
                classes: 2,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(b.counts(), Counts::default());
}

#[test]
fn per_image_errors_report_whole_buffer_indices() {
    let mut m = ConfusionMatrixConfig::new(2)
        .with_per_image(PerImage::Keep)
        .init()
        .unwrap();
    let truth = [0u16, 1, 0, 1, 0, 7];
    let e = m.update_images(&truth, &[0u16; 6], 3).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LabelOutOfRange {
                index: 5,
                value: 7,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(m.images().unwrap().len(), 0);
    assert!(matches!(
        m.update_images(&truth, &[0u16; 6], 4),
        Err(Error::InvalidShape { .. })
    ));
}

#[test]
fn negative_labels() {
    let mut m = ConfusionMatrixConfig::new(3)
        .with_ignore_index(-100)
        .init()
        .unwrap();
    m.update(&[0i64, -100, 2], &[0i64, 1, 2]).unwrap();
    assert_eq!(m.ignored(), 1);
    let before = m.clone();
    let e = m.update(&[0i64, -1], &[0i64, 0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "confusion matrix: truth[1] is -1, expected a class index in 0..3 or the ignore label -100"
    );
    assert_eq!(m, before);
}

#[test]
fn non_finite_and_out_of_range_scores() {
    let shape = Shape::new(&[1, 1, 4]).unwrap();
    let mut b = BinaryConfusion::new();
    let e = b
        .update_logits(&[0u8, 1, 0, 1], &[0.0f32, 1.0, f32::NAN, 2.0], &shape)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NonFinite {
                input: "logits",
                index: 2,
                ..
            }
        ),
        "{e}"
    );
    let e = b
        .update_probs(&[0u8, 1, 0, 1], &[0.0f64, 1.5, 0.2, 0.3], &shape)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::OutOfRange {
                input: "probs",
                index: 1,
                min: 0.0,
                max: 1.0,
                ..
            }
        ),
        "{e}"
    );
    let e = b
        .update_probs(&[0u8, 1, 0, 1], &[0.0f64, 0.5, f64::INFINITY, 0.3], &shape)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NonFinite {
                input: "probs",
                index: 2,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(b.counts(), Counts::default());

    let mut m = ConfusionMatrix::new(2).unwrap();
    let shape = Shape::new(&[2, 2, 2]).unwrap();
    let mut scores = [0.5f32; 8];
    scores[6] = f32::INFINITY;
    let e = m
        .update_argmax(&[0u8, 1, 1, 0], &scores, &shape)
        .unwrap_err();
    assert!(matches!(e, Error::NonFinite { index: 6, .. }), "{e}");
    assert_eq!(m.total(), 0, "first image not counted either");
    let e = m
        .update_argmax(&[0u8, 1, 1], &[0.5f32; 8], &shape)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                input: "truth",
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{e}"
    );
    let bad_c = Shape::new(&[1, 3, 2]).unwrap();
    assert!(matches!(
        m.update_argmax(&[0u8, 1], &[0.0f32; 6], &bad_c),
        Err(Error::Incompatible { .. })
    ));
}

#[test]
fn multilabel_errors_count_nothing() {
    let mut m = MultiLabelConfusionConfig::new(2).init().unwrap();
    let shape = Shape::new(&[2, 2, 2]).unwrap();
    let mut truth = [0u8, 1, 1, 0, 0, 1, 1, 0];
    truth[7] = 3;
    let e = m.update_logits(&truth, &[0.0f32; 8], &shape).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LabelOutOfRange {
                index: 7,
                value: 3,
                ..
            }
        ),
        "{e}"
    );
    assert!(m.class_counts().iter().all(|c| *c == Counts::default()));
}

#[test]
fn incompatible_merges() {
    let mut a = ConfusionMatrix::new(3).unwrap();
    let e = a.merge(&ConfusionMatrix::new(4).unwrap()).unwrap_err();
    assert_eq!(e.to_string(), "merge: number of classes is 4, expected 3");
    let e = a.merge(
        &ConfusionMatrixConfig::new(3)
            .with_ignore_index(255)
            .init()
            .unwrap(),
    );
    assert!(matches!(
        e,
        Err(Error::Incompatible {
            what: "ignore index",
            ..
        })
    ));
    let e = a.merge(
        &ConfusionMatrixConfig::new(3)
            .with_per_image(PerImage::Keep)
            .init()
            .unwrap(),
    );
    assert!(matches!(
        e,
        Err(Error::Incompatible {
            what: "per-image mode",
            ..
        })
    ));
    let mut b = BinaryConfusion::new();
    let e = b.merge(
        &BinaryConfusionConfig::new()
            .with_threshold(0.3)
            .init()
            .unwrap(),
    );
    assert!(matches!(
        e,
        Err(Error::Incompatible {
            what: "threshold",
            ..
        })
    ));
}

#[test]
fn invalid_parameters() {
    assert!(matches!(
        ConfusionMatrix::new(0),
        Err(Error::InvalidParameter {
            name: "classes",
            ..
        })
    ));
    assert!(matches!(
        BinaryConfusionConfig::new().with_threshold(f64::NAN).init(),
        Err(Error::InvalidParameter {
            name: "threshold",
            ..
        })
    ));
    let m = BinaryConfusion::from_counts(Counts::new(1, 2, 3, 4));
    let conv = Conventions::default();
    assert!(
        m.score(Metric::FBeta { beta: -1.0 }, Average::Micro, &conv)
            .is_err()
    );
    assert!(
        m.score(
            Metric::Tversky {
                alpha: f64::INFINITY,
                beta: 1.0
            },
            Average::Micro,
            &conv
        )
        .is_err()
    );
    // Image-wise scores need per-image counts.
    let e = m
        .score(Metric::DICE, Average::ImageWise, &conv)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Incompatible {
                what: "per-image counts",
                ..
            }
        ),
        "{e}"
    );
}
