//! Laws of the metrics engine, checked on random inputs against a naive reference.

use proptest::prelude::*;
use segloss::metrics::{
    BinaryConfusionConfig, ConfusionMatrixConfig, Counts, Metric, PerImage, ZeroDivision,
};

const IGNORE: u8 = 255;

/// The obviously correct matrix: one loop, no tricks.
fn naive_matrix(truth: &[u8], pred: &[u8], k: usize, ignore: Option<u8>) -> (Vec<u64>, u64) {
    let mut m = vec![0u64; k * k];
    let mut ignored = 0;
    for (&t, &p) in truth.iter().zip(pred) {
        if Some(t) == ignore {
            ignored += 1;
        } else {
            m[t as usize * k + p as usize] += 1;
        }
    }
    (m, ignored)
}

/// Labels in `0..k`, with about `ignore_pct` percent set to the ignore label.
fn masks(max_len: usize) -> impl Strategy<Value = (usize, Vec<u8>, Vec<u8>)> {
    (1usize..=7, 0usize..max_len, 0u8..30).prop_flat_map(|(k, n, ign_pct)| {
        let t = proptest::collection::vec((0..k as u8, 0u8..100), n).prop_map(move |v| {
            v.into_iter()
                .map(|(l, r)| if r < ign_pct { IGNORE } else { l })
                .collect::<Vec<u8>>()
        });
        let p = proptest::collection::vec(0..k as u8, n);
        (Just(k), t, p)
    })
}

fn counts() -> impl Strategy<Value = Counts> {
    (
        0u64..1_000_000,
        0u64..1_000_000,
        0u64..1_000_000,
        0u64..1_000_000,
    )
        .prop_map(|(a, b, c, d)| Counts::new(a, b, c, d))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The vectorised u8 kernel, the generic (u16) kernel and the naive loop agree, across
    /// chunk boundaries (lengths up to 40 000 > one 16 320-pixel chunk).
    #[test]
    fn matrix_equals_naive((k, truth, pred) in masks(40_000)) {
        let (want, ignored) = naive_matrix(&truth, &pred, k, Some(IGNORE));
        let mut fast = ConfusionMatrixConfig::new(k).with_ignore_index(255).init().unwrap();
        fast.update(&truth, &pred).unwrap();
        prop_assert_eq!(fast.matrix(), &want[..]);
        prop_assert_eq!(fast.ignored(), ignored);
        let t16: Vec<u16> = truth.iter().map(|&v| v as u16).collect();
        let p16: Vec<u16> = pred.iter().map(|&v| v as u16).collect();
        let mut slow = ConfusionMatrixConfig::new(k).with_ignore_index(255).init().unwrap();
        slow.update(&t16, &p16).unwrap();
        prop_assert_eq!(slow.matrix(), &want[..]);
    }

    /// Binary fast path (u8) equals the naive count and the generic path (u32).
    #[test]
    fn binary_equals_naive((_k, truth, pred) in masks(40_000)) {
        let truth: Vec<u8> = truth.iter().map(|&t| if t == IGNORE { t } else { t & 1 }).collect();
        let pred: Vec<u8> = pred.iter().map(|&p| p & 1).collect();
        let (m, ignored) = naive_matrix(&truth, &pred, 2, Some(IGNORE));
        let want = Counts::new(m[3], m[1], m[2], m[0]);
        let mut fast = BinaryConfusionConfig::new().with_ignore_index(255).init().unwrap();
        fast.update(&truth, &pred).unwrap();
        prop_assert_eq!(fast.counts(), want);
        prop_assert_eq!(fast.ignored(), ignored);
        let t32: Vec<u32> = truth.iter().map(|&v| v as u32).collect();
        let p32: Vec<bool> = pred.iter().map(|&v| v == 1).collect();
        let mut slow = BinaryConfusionConfig::new().with_ignore_index(255).init().unwrap();
        slow.update(&t32, &p32).unwrap();
        prop_assert_eq!(slow.counts(), want);
    }

    /// Counts sum to the pixels that are not ignored.
    #[test]
    fn counts_sum_to_kept_pixels((k, truth, pred) in masks(5_000)) {
        let kept = truth.iter().filter(|&&t| t != IGNORE).count() as u64;
        let mut m = ConfusionMatrixConfig::new(k).with_ignore_index(255).init().unwrap();
        m.update(&truth, &pred).unwrap();
        prop_assert_eq!(m.total(), kept);
        prop_assert_eq!(m.total() + m.ignored(), truth.len() as u64);
        for c in m.class_counts() {
            prop_assert_eq!(c.total(), kept);
        }
    }

    /// Merging the states of two halves (split at an image boundary) equals the state of
    /// the whole, per-image counts included.
    #[test]
    fn merge_of_halves_equals_whole(
        (k, truth, pred) in masks(4_000),
        images in 1usize..8,
        split_at in 0usize..8,
    ) {
        let size = truth.len() / images;
        let (truth, pred) = (&truth[..size * images], &pred[..size * images]);
        let cut = split_at.min(images) * size;
        let cfg = ConfusionMatrixConfig::new(k).with_ignore_index(255).with_per_image(PerImage::Keep);
        let mut whole = cfg.init().unwrap();
        whole.update_images(truth, pred, images).unwrap();
        let mut a = cfg.init().unwrap();
        let mut b = cfg.init().unwrap();
        let first = split_at.min(images);
        if first > 0 {
            a.update_images(&truth[..cut], &pred[..cut], first).unwrap();
        }
        if images - first > 0 {
            b.update_images(&truth[cut..], &pred[cut..], images - first).unwrap();
        }
        a.merge(&b).unwrap();
        prop_assert_eq!(&a, &whole);

        let bt: Vec<u8> = truth.iter().map(|&t| if t == IGNORE { t } else { t & 1 }).collect();
        let bp: Vec<u8> = pred.iter().map(|&p| p & 1).collect();
        let bcfg = BinaryConfusionConfig::new().with_ignore_index(255).with_per_image(PerImage::Keep);
        let mut bw = bcfg.init().unwrap();
        bw.update_images(&bt, &bp, images).unwrap();
        let (mut ba, mut bb) = (bcfg.init().unwrap(), bcfg.init().unwrap());
        if first > 0 {
            ba.update_images(&bt[..cut], &bp[..cut], first).unwrap();
        }
        if images - first > 0 {
            bb.update_images(&bt[cut..], &bp[cut..], images - first).unwrap();
        }
        ba.merge(&bb).unwrap();
        prop_assert_eq!(ba, bw);
    }

    /// Dice (2TP / (2TP + FP + FN)) equals F1 (2PR / (P + R)).
    #[test]
    fn dice_equals_f1(c in counts()) {
        prop_assume!(c.tp > 0);
        let (p, r) = (c.precision(), c.recall());
        let f1 = 2.0 * p * r / (p + r);
        let dice = c.score(Metric::DICE, ZeroDivision::Nan).unwrap().unwrap();
        prop_assert!((dice - f1).abs() <= 1e-12, "dice {} f1 {}", dice, f1);
        prop_assert_eq!(c.f1(), c.dice());
    }

    /// IoU = Dice / (2 − Dice), and Tversky(½, ½) = Dice, Tversky(1, 1) = IoU.
    #[test]
    fn iou_from_dice(c in counts()) {
        let dice = c.dice();
        prop_assert!((c.iou() - dice / (2.0 - dice)).abs() <= 1e-12);
        let tv = |a, b| c.score(Metric::Tversky { alpha: a, beta: b }, ZeroDivision::One).unwrap().unwrap();
        prop_assert!((tv(0.5, 0.5) - dice).abs() <= 1e-12);
        prop_assert!((tv(1.0, 1.0) - c.iou()).abs() <= 1e-12);
        prop_assert!((0.0..=1.0).contains(&dice));
    }

    /// A prediction equal to the truth scores 1 on every overlap metric.
    #[test]
    fn perfect_prediction_scores_one((k, truth, _p) in masks(3_000)) {
        let pred: Vec<u8> = truth.iter().map(|&t| if t == IGNORE { 0 } else { t }).collect();
        let mut m = ConfusionMatrixConfig::new(k).with_ignore_index(255).init().unwrap();
        m.update(&truth, &pred).unwrap();
        for c in m.class_counts() {
            prop_assert_eq!(c.dice(), 1.0);
            prop_assert_eq!(c.iou(), 1.0);
        }
    }
}
