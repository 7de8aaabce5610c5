//! The worked example of the mission notes: 100 people, 30 with a tumour, 25 flagged of
//! whom 5 wrongly. TP 20, FP 5, FN 10, TN 65: precision 0.8, recall 2/3, F1 = Dice = 8/11.

use segloss::metrics::{Average, BinaryConfusion, ConfusionMatrix, Conventions, Counts, Metric};

fn people() -> (Vec<u8>, Vec<u8>) {
    // 30 sick (1) then 70 healthy (0); the model flags 20 of the sick and 5 of the healthy.
    let truth: Vec<u8> = (0..100).map(|i| (i < 30) as u8).collect();
    let pred: Vec<u8> = (0..100)
        .map(|i| (i < 20 || (30..35).contains(&i)) as u8)
        .collect();
    (truth, pred)
}

#[test]
fn worked_example_counts_and_scores() {
    let (truth, pred) = people();
    let mut m = BinaryConfusion::new();
    m.update(&truth, &pred).unwrap();
    assert_eq!(m.counts(), Counts::new(20, 5, 10, 65));
    let c = m.counts();
    assert_eq!(c.precision(), 0.8);
    assert!((c.recall() - 2.0 / 3.0).abs() < 1e-15);
    let p = c.precision();
    let r = c.recall();
    let f1_from_pr = 2.0 * p * r / (p + r);
    assert!((f1_from_pr - 8.0 / 11.0).abs() < 1e-15);
    assert!((c.f1() - 8.0 / 11.0).abs() < 1e-15);
    assert!((c.dice() - 40.0 / 55.0).abs() < 1e-15);
    let conv = Conventions::default();
    let dice = m
        .score(Metric::DICE, Average::Micro, &conv)
        .unwrap()
        .value()
        .unwrap();
    assert!((dice - 8.0 / 11.0).abs() < 1e-15);
}

#[test]
fn worked_example_as_a_two_class_matrix() {
    let (truth, pred) = people();
    let mut m = ConfusionMatrix::new(2).unwrap();
    m.update(&truth, &pred).unwrap();
    // rows = truth, columns = prediction
    assert_eq!(m.matrix(), &[65, 5, 10, 20]);
    let rep = m.report(&Conventions::default()).unwrap();
    let fg = &rep.classes[1];
    assert_eq!(fg.counts, Counts::new(20, 5, 10, 65));
    assert_eq!(fg.scores.precision, Some(0.8));
    assert!((fg.scores.f1.unwrap() - 8.0 / 11.0).abs() < 1e-15);
    assert_eq!(rep.overall.accuracy, Some(0.85));
}
