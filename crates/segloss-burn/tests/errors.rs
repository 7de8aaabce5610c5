//! Bad input is rejected by both paths with the same typed error: the composed path checks
//! values as the core kernels do (non-finite logits first, then dense targets outside
//! `[0, 1]`, labels `≥ C` or negative), naming the same element.

use burn::tensor::{Device, Int, Tensor, TensorData};
use segloss_burn::loss::*;
use segloss_burn::targets::SegTargets;
use segloss_burn::{Error, ExecPath};

/// The error without the operation's name (the core and burn name operations differently).
/// Elements to overwrite in a valid input: `(index, value)`.
type Patch<'a, T> = &'a [(usize, T)];

/// A loss, the patches to its logits and labels, and the expected outcome.
type LabelCase<'a> = (&'a dyn BurnLoss, Patch<'a, f32>, Patch<'a, i64>, &'a str);

fn key(e: &Error) -> String {
    match e {
        Error::Core(segloss::Error::NonFinite {
            input,
            index,
            value,
            ..
        }) => format!("NonFinite {input}[{index}] = {value}"),
        Error::Core(segloss::Error::OutOfRange {
            input,
            index,
            value,
            min,
            max,
            ..
        }) => format!("OutOfRange {input}[{index}] = {value} not in [{min}, {max}]"),
        Error::Core(segloss::Error::LabelOutOfRange {
            input,
            index,
            value,
            classes,
            ignore_index,
            ..
        }) => format!(
            "LabelOutOfRange {input}[{index}] = {value}, C = {classes}, ignore {ignore_index:?}"
        ),
        Error::Core(segloss::Error::NegativeLabel {
            input,
            index,
            value,
            classes,
            ignore_index,
            ..
        }) => format!(
            "NegativeLabel {input}[{index}] = {value}, C = {classes}, ignore {ignore_index:?}"
        ),
        other => format!("{other:?}"),
    }
}

fn logits(dims: [usize; 3], bad: &[(usize, f32)], device: &Device) -> Tensor<3> {
    let n = dims.iter().product::<usize>();
    let mut x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.7).sin() * 3.0).collect();
    for &(i, v) in bad {
        x[i] = v;
    }
    Tensor::from_data(TensorData::new(x, dims), device)
}

/// Runs `loss` on both paths and returns their results' keys (`"ok"` for success).
fn both(loss: &dyn BurnLoss, x: Tensor<3>, t: SegTargets) -> [String; 2] {
    [ExecPath::Fused, ExecPath::Composed].map(|path| {
        match loss.forward_canonical(x.clone().require_grad(), t.clone(), path) {
            Ok(v) => {
                assert!(v.into_scalar::<f32>().is_finite(), "{path:?}: a NaN loss");
                "ok".to_string()
            }
            Err(e) => key(&e),
        }
    })
}

#[test]
fn both_paths_reject_bad_dense_inputs_with_the_same_error() {
    let device = Device::flex().autodiff();
    let dims = [2, 1, 12];
    let loss = DiceFocalLossConfig::new().init().unwrap();
    let targets = |bad: &[(usize, f32)]| {
        let mut t: Vec<f32> = (0..24).map(|i| (i % 3 == 0) as u8 as f32).collect();
        for &(i, v) in bad {
            t[i] = v;
        }
        SegTargets::Dense(Tensor::from_data(TensorData::new(t, dims), &device))
    };
    let cases: [(Patch<f32>, Patch<f32>, &str); 7] = [
        (&[], &[], "ok"),
        (&[(5, f32::NAN)], &[], "NonFinite logits[5] = NaN"),
        (&[(7, f32::NEG_INFINITY)], &[], "NonFinite logits[7] = -inf"),
        // Logits are checked before targets, as in the core.
        (
            &[(9, f32::INFINITY)],
            &[(1, 2.0)],
            "NonFinite logits[9] = inf",
        ),
        (
            &[],
            &[(4, 1.5)],
            "OutOfRange targets[4] = 1.5 not in [0, 1]",
        ),
        (
            &[],
            &[(9, -0.25)],
            "OutOfRange targets[9] = -0.25 not in [0, 1]",
        ),
        (
            &[],
            &[(2, f32::NAN)],
            "OutOfRange targets[2] = NaN not in [0, 1]",
        ),
    ];
    for (bad_x, bad_t, expected) in cases {
        let [fused, composed] = both(&loss, logits(dims, bad_x, &device), targets(bad_t));
        assert_eq!(fused, expected, "fused, {bad_x:?} {bad_t:?}");
        assert_eq!(composed, expected, "composed, {bad_x:?} {bad_t:?}");
    }
}

#[test]
fn both_paths_reject_bad_labels_with_the_same_error() {
    let device = Device::flex().autodiff();
    let dims = [2, 3, 6];
    let labels = |bad: &[(usize, i64)]| {
        let mut t: Vec<i64> = (0..12).map(|i| i % 3).collect();
        for &(i, v) in bad {
            t[i] = v;
        }
        SegTargets::Index(Tensor::<2, Int>::from_data(
            TensorData::new(t, [2, 6]),
            &device,
        ))
    };
    let with_255 = DiceCeLossConfig::new()
        .with_activation(Activation::Softmax)
        .with_ignore_index(Some(255))
        .init()
        .unwrap();
    let with_m100 = CrossEntropyLossConfig::new()
        .with_ignore_index(Some(-100))
        .init()
        .unwrap();
    let cases: [LabelCase; 7] = [
        (&with_255, &[], &[(3, 255)], "ok"),
        (&with_m100, &[], &[(3, -100)], "ok"),
        (
            &with_255,
            &[],
            &[(5, 3)],
            "LabelOutOfRange targets[5] = 3, C = 3, ignore Some(255)",
        ),
        (
            &with_255,
            &[],
            &[(2, -1), (8, 4)],
            "NegativeLabel targets[2] = -1, C = 3, ignore Some(255)",
        ),
        (
            &with_m100,
            &[],
            &[(1, -100), (6, 7)],
            "LabelOutOfRange targets[6] = 7, C = 3, ignore None",
        ),
        (
            &with_m100,
            &[],
            &[(4, -5)],
            "NegativeLabel targets[4] = -5, C = 3, ignore Some(-100)",
        ),
        (
            &with_m100,
            &[(30, f32::INFINITY)],
            &[(0, 9)],
            "NonFinite logits[30] = inf",
        ),
    ];
    for (loss, bad_x, bad_t, expected) in cases {
        let [fused, composed] = both(loss, logits(dims, bad_x, &device), labels(bad_t));
        assert_eq!(fused, expected, "fused, {bad_x:?} {bad_t:?}");
        assert_eq!(composed, expected, "composed, {bad_x:?} {bad_t:?}");
    }
}

#[test]
fn forward_elementwise_rejects_bad_values_too() {
    let device = Device::flex();
    let x = logits([1, 3, 4], &[], &device);
    let t = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 1, -2, 2], [1, 4]), &device);
    let loss = FocalLossConfig::new()
        .with_activation(Activation::Softmax)
        .init()
        .unwrap();
    let err = loss.forward_elementwise(x, t).unwrap_err();
    assert_eq!(
        key(&err),
        "NegativeLabel targets[2] = -2, C = 3, ignore None"
    );
}

#[test]
fn both_paths_reject_a_shape_mismatch() {
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::zeros([2, 1, 3, 4], &device);
    let t = Tensor::<4>::zeros([2, 1, 4, 3], &device);
    for path in [ExecPath::Fused, ExecPath::Composed] {
        let loss = DiceLossConfig::new().with_path(path).init().unwrap();
        let err = loss.forward(x.clone(), t.clone()).unwrap_err();
        assert!(
            matches!(&err, Error::ShapeMismatch { input: "targets", found, .. } if found == &[2, 1, 4, 3]),
            "{path:?}: {err:?}"
        );
    }
}
