//! Every case of `../shared/reference/metrics.json` (scikit-learn 1.9, `zero_division=0`,
//! all labels listed) reproduced to 1e-12.
//!
//! scikit-learn's settings map to [`Conventions::sklearn`]: `zero_division=0` is
//! `ZeroDivision::Zero`, and listing every label in `labels=` is `AbsentClasses::Include`.
//! Binary cases use `average="binary"`, i.e. the positive class, which is what
//! `BinaryConfusion` scores.

use segloss::metrics::{
    AbsentClasses, Average, BinaryConfusion, ConfusionMatrix, Conventions, Counts, Metric,
    ZeroDivision,
};
use serde_json::Value;

const TOL: f64 = 1e-12;

fn reference() -> Value {
    let dir = std::env::var("SEGLOSS_REFERENCE_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference").to_string()
    });
    let path = format!("{dir}/metrics.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reference file {path} is required: {e}"));
    serde_json::from_str(&text).expect("metrics.json parses")
}

fn labels(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("label array")
        .iter()
        .map(|x| x.as_i64().expect("integer label"))
        .collect()
}

fn close(what: &str, got: Option<f64>, want: &Value) {
    let want = want
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number"));
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (got - want).abs() <= TOL,
        "{what}: got {got:.17}, scikit-learn {want:.17}"
    );
}

const NAMED: [(&str, Metric); 4] = [
    ("precision", Metric::Precision),
    ("recall", Metric::Recall),
    ("f1", Metric::F1),
    ("iou", Metric::Iou),
];

#[test]
fn sklearn_conventions_are_zero_and_include() {
    let c = Conventions::sklearn();
    assert_eq!(c.zero_division, ZeroDivision::Zero);
    assert_eq!(c.absent_classes, AbsentClasses::Include);
}

#[test]
fn every_reference_case_matches_sklearn() {
    let r = reference();
    let cases = r["cases"].as_array().expect("cases");
    assert!(cases.len() >= 6, "expected at least 6 metric cases");
    let conv = Conventions::sklearn();
    let mut checked = 0;
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let truth = labels(&case["truth"]);
        let pred = labels(&case["pred"]);
        match case["mode"].as_str() {
            Some("binary") => {
                let mut m = BinaryConfusion::new();
                m.update(&truth, &pred).unwrap();
                let c = &case["confusion"];
                let want = Counts::new(
                    c["tp"].as_u64().unwrap(),
                    c["fp"].as_u64().unwrap(),
                    c["fn"].as_u64().unwrap(),
                    c["tn"].as_u64().unwrap(),
                );
                assert_eq!(m.counts(), want, "{id}: counts");
                let metrics = case["metrics"].as_object().expect("metrics");
                for (name, metric) in NAMED.into_iter().chain([
                    ("accuracy", Metric::Accuracy),
                    ("mcc", Metric::Mcc),
                    ("balanced_accuracy", Metric::BalancedAccuracy),
                ]) {
                    if let Some(want) = metrics.get(name) {
                        let got = m.score(metric, Average::Micro, &conv).unwrap().value();
                        close(&format!("{id} {name}"), got, want);
                        checked += 1;
                    }
                }
                // The report agrees with `score`.
                let rep = m.report(&conv).unwrap();
                close(
                    &format!("{id} report f1"),
                    rep.classes[0].scores.f1,
                    &metrics["f1"],
                );
                close(
                    &format!("{id} report mcc"),
                    rep.overall.mcc,
                    &metrics["mcc"],
                );
            }
            Some("multiclass") => {
                let k = case["classes"].as_u64().unwrap() as usize;
                let mut m = ConfusionMatrix::new(k).unwrap();
                m.update(&truth, &pred).unwrap();
                let want: Vec<u64> = case["confusion_truth_by_pred"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
                    .collect();
                assert_eq!(m.matrix(), &want[..], "{id}: matrix (rows = truth)");
                for (avg_name, avg) in [
                    ("micro", Average::Micro),
                    ("macro", Average::Macro),
                    ("weighted", Average::Weighted),
                ] {
                    for (name, metric) in NAMED {
                        let got = m.score(metric, avg, &conv).unwrap().value();
                        close(
                            &format!("{id} {avg_name} {name}"),
                            got,
                            &case[avg_name][name],
                        );
                        checked += 1;
                    }
                }
                for (name, metric) in NAMED {
                    let got = m.score(metric, Average::PerClass, &conv).unwrap();
                    let got = got.per_class().unwrap();
                    let want = case["per_class"][name].as_array().unwrap();
                    assert_eq!(got.len(), want.len());
                    for (i, (g, w)) in got.iter().zip(want).enumerate() {
                        close(&format!("{id} class {i} {name}"), *g, w);
                        checked += 1;
                    }
                }
                let overall = m.overall(&conv);
                close(
                    &format!("{id} accuracy"),
                    overall.accuracy,
                    &case["accuracy"],
                );
                close(&format!("{id} mcc"), overall.mcc, &case["mcc"]);
                let rep = m.report(&conv).unwrap();
                close(
                    &format!("{id} report macro f1"),
                    rep.macro_avg.f1,
                    &case["macro"]["f1"],
                );
                close(
                    &format!("{id} report weighted iou"),
                    rep.weighted_avg.iou,
                    &case["weighted"]["iou"],
                );
                checked += 2;
            }
            other => panic!("{id}: unknown mode {other:?}"),
        }
    }
    assert!(checked > 60, "only {checked} values checked");
}

#[test]
fn multiclass_reference_also_matches_through_the_u8_fast_path() {
    let r = reference();
    for case in r["cases"].as_array().unwrap() {
        if case["mode"] != "multiclass" {
            continue;
        }
        let k = case["classes"].as_u64().unwrap() as usize;
        let t: Vec<u8> = labels(&case["truth"]).iter().map(|&v| v as u8).collect();
        let p: Vec<u8> = labels(&case["pred"]).iter().map(|&v| v as u8).collect();
        let (mut fast, mut slow) = (
            ConfusionMatrix::new(k).unwrap(),
            ConfusionMatrix::new(k).unwrap(),
        );
        fast.update(&t, &p).unwrap();
        slow.update(&labels(&case["truth"]), &labels(&case["pred"]))
            .unwrap();
        assert_eq!(fast, slow);
    }
}
