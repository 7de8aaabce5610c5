//! The worked example of the mission notes, computed by the metrics engine.
//!
//! A model screens 100 people, 30 of whom have a tumour. It flags 25 as positive, 5 of
//! them wrongly. Run: `cargo run --release -p segloss --example worked_example`.

use segloss::metrics::{Average, BinaryConfusion, ConfusionMatrix, Conventions, Metric};

fn main() -> segloss::Result<()> {
    // 1 = tumour. People 0..30 are sick; the model flags people 0..20 and 30..35.
    let truth: Vec<u8> = (0..100).map(|i| u8::from(i < 30)).collect();
    let pred: Vec<u8> = (0..100)
        .map(|i| u8::from(i < 20 || (30..35).contains(&i)))
        .collect();

    let mut m = BinaryConfusion::new();
    m.update(&truth, &pred)?;
    let c = m.counts();
    println!("Worked example: 100 people, 30 with a tumour, 25 flagged (5 wrongly)\n");
    println!("                    predicted +   predicted -");
    println!("  actually +        TP = {:<8}  FN = {}", c.tp, c.fn_);
    println!("  actually -        FP = {:<8}  TN = {}\n", c.fp, c.tn);

    let conv = Conventions::default();
    let score = |metric| -> segloss::Result<f64> {
        Ok(m.score(metric, Average::Micro, &conv)?
            .value()
            .unwrap_or(f64::NAN))
    };
    let (p, r) = (score(Metric::Precision)?, score(Metric::Recall)?);
    println!(
        "  precision = TP / (TP + FP)           = {}/{} = {p:.4}",
        c.tp,
        c.tp + c.fp
    );
    println!(
        "  recall    = TP / (TP + FN)           = {}/{} = {r:.4}",
        c.tp,
        c.tp + c.fn_
    );
    println!(
        "  F1        = 2PR / (P + R)                  = {:.4}",
        2.0 * p * r / (p + r)
    );
    println!(
        "  Dice      = 2TP / (2TP + FP + FN)      = {}/{} = {:.4}   (F1 = Dice)",
        2 * c.tp,
        2 * c.tp + c.fp + c.fn_,
        score(Metric::DICE)?
    );
    println!(
        "  IoU       = TP / (TP + FP + FN)      = {}/{} = {:.4}",
        c.tp,
        c.tp + c.fp + c.fn_,
        score(Metric::Iou)?
    );
    println!(
        "  specificity, accuracy, MCC           = {:.4}, {:.4}, {:.4}",
        score(Metric::Specificity)?,
        score(Metric::Accuracy)?,
        score(Metric::Mcc)?
    );

    // The same people as a 2-class confusion matrix (rows = truth, columns = prediction).
    let mut cm = ConfusionMatrix::new(2)?;
    cm.update(&truth, &pred)?;
    let rep = cm.report(&conv)?;
    println!(
        "\nAs a 2-class matrix (rows = truth, columns = prediction): {:?}",
        cm.matrix()
    );
    println!("  class  support  precision  recall  f1/dice  iou");
    for cl in &rep.classes {
        let s = cl.scores;
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
        println!(
            "  {:>5}  {:>7}  {:>9}  {:>6}  {:>7}  {}",
            cl.class,
            cl.support,
            f(s.precision),
            f(s.recall),
            f(s.f1),
            f(s.iou)
        );
    }
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    println!(
        "  macro Dice {}, weighted Dice {}, accuracy {}, MCC {}",
        f(rep.macro_avg.f1),
        f(rep.weighted_avg.f1),
        f(rep.overall.accuracy),
        f(rep.overall.mcc)
    );
    Ok(())
}
