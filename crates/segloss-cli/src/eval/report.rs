//! The report: built from a [`RunState`], rendered as a table, JSON or CSV.
//!
//! All scores come from the metrics engine (`segloss::metrics::average`) under its default
//! conventions: a `0/0` score is 1 (truth and prediction agree nothing is there) and macro
//! and image-wise means skip classes absent from both truth and prediction. In a binary run
//! the only class scored is the positive class 1, so micro and macro agree. The image-wise
//! mean scores each image (macro over its classes), then averages over images in key order;
//! images whose pixels are all ignored are left out. A score that is undefined is `null` in
//! JSON and empty in CSV.
//!
//! ## JSON schema (`--format json`), version 1
//! ```text
//! {
//!   "schema": "segloss-eval-report/1",
//!   "settings": { "mode": "binary" | "threshold" | "classes", "classes": K,
//!                 "threshold": number | null, "ignore": number | null,
//!                 "objects": { "class", "iou_threshold", "min_area" } | null },
//!   "images": number of images scored,
//!   "failed": number of pairs that could not be scored,
//!   "pixels": counted pixels (ignored ones excluded), "ignored": ignored truth pixels,
//!   "classes": [ { "class", "tp", "fp", "fn", "tn", "support",
//!                  "precision", "recall", "f1", "iou" }, ... ],
//!   "micro":      { "precision", "recall", "f1", "iou" },
//!   "macro":      { "precision", "recall", "f1", "iou" },
//!   "image_wise": { "precision", "recall", "f1", "iou" },
//!   "objects": { "tp", "fp", "fn", "precision", "recall", "f1" } | null,
//!   "unmatched": { "pred": [relative paths], "truth": [relative paths],
//!                  "ambiguous": [[key, [files]]] },
//!   "failures": [ { "key", "error" } ]
//! }
//! ```
//! `f1` is also the Dice coefficient. Counts are integers; scores are numbers or `null`.

use std::io::Write;

use anyhow::Result;
use segloss::metrics::{Average, Conventions, Counts, ImageCounts, Metric, average};
use serde::Serialize;

use super::args::Format;
use super::objects::ObjectCounts;
use super::state::{Failure, RunState, Settings, Unpaired};

/// Identifies the JSON report layout.
pub const REPORT_SCHEMA: &str = "segloss-eval-report/1";

/// Precision, recall, F1 (= Dice) and IoU of one class or one average.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// `TP / (TP + FP)`.
    pub precision: Option<f64>,
    /// `TP / (TP + FN)`.
    pub recall: Option<f64>,
    /// `2TP / (2TP + FP + FN)`, the Dice coefficient.
    pub f1: Option<f64>,
    /// `TP / (TP + FP + FN)`.
    pub iou: Option<f64>,
}

const METRICS: [Metric; 4] = [Metric::Precision, Metric::Recall, Metric::F1, Metric::Iou];

impl Scores {
    fn from_fn(mut f: impl FnMut(Metric) -> Result<Option<f64>>) -> Result<Self> {
        let [p, r, f1, iou] = METRICS;
        Ok(Scores {
            precision: f(p)?,
            recall: f(r)?,
            f1: f(f1)?,
            iou: f(iou)?,
        })
    }

    /// The scores of `classes` averaged as `avg`.
    pub fn averaged(
        classes: &[Counts],
        images: Option<&ImageCounts>,
        avg: Average,
    ) -> Result<Self> {
        let conv = Conventions::default();
        Scores::from_fn(|m| Ok(average(classes, images, m, avg, &conv)?.value()))
    }

    /// The scores of one set of counts.
    pub fn of(counts: &Counts) -> Result<Self> {
        Scores::averaged(std::slice::from_ref(counts), None, Average::Micro)
    }
}

/// One class's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassRow {
    /// The class index.
    pub class: usize,
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// False negatives.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// True negatives.
    pub tn: u64,
    /// `TP + FN`.
    pub support: u64,
    /// The class's scores.
    #[serde(flatten)]
    pub scores: Scores,
}

/// Object-level results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectRow {
    /// Matched objects.
    pub tp: u64,
    /// Unmatched predicted objects.
    pub fp: u64,
    /// Unmatched truth objects.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Object precision.
    pub precision: f64,
    /// Object recall.
    pub recall: f64,
    /// Object F1.
    pub f1: f64,
}

/// The unmatched-files section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmatchedRow {
    /// Prediction files without truth.
    pub pred: Vec<String>,
    /// Truth files without prediction.
    pub truth: Vec<String>,
    /// Keys claimed by several files of one side.
    pub ambiguous: Vec<(String, Vec<String>)>,
}

/// The whole report (serialises to the documented JSON schema).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// The counting settings.
    pub settings: Settings,
    /// Images scored.
    pub images: u64,
    /// Pairs that failed.
    pub failed: u64,
    /// Counted pixels.
    pub pixels: u64,
    /// Ignored truth pixels.
    pub ignored: u64,
    /// Per-class rows.
    pub classes: Vec<ClassRow>,
    /// Micro average.
    pub micro: Scores,
    /// Macro average.
    #[serde(rename = "macro")]
    pub macro_: Scores,
    /// Image-wise mean.
    pub image_wise: Scores,
    /// Object-level results.
    pub objects: Option<ObjectRow>,
    /// Unpaired files.
    pub unmatched: UnmatchedRow,
    /// Failed pairs.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Builds the report of a state.
    ///
    /// # Errors
    /// The engine rejects the counts (a corrupt state).
    pub fn build(state: &RunState) -> Result<Report> {
        let settings = &state.settings;
        let totals = state.totals();
        let mut per_image = ImageCounts::new(settings.count_entries());
        for img in &state.images {
            per_image.push(&img.counts)?;
        }
        let classes = totals
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(ClassRow {
                    class: settings.class_of(i),
                    tp: c.tp,
                    fp: c.fp,
                    fn_: c.fn_,
                    tn: c.tn,
                    support: c.support(),
                    scores: Scores::of(c)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let objects = settings.objects.map(|_| {
            let mut o = ObjectCounts::default();
            for img in &state.images {
                if let Some(c) = &img.objects {
                    o.add(c);
                }
            }
            ObjectRow {
                tp: o.tp,
                fp: o.fp,
                fn_: o.fn_,
                precision: o.precision(),
                recall: o.recall(),
                f1: o.f1(),
            }
        });
        let Unpaired {
            pred,
            truth,
            ambiguous,
        } = state.unpaired.clone();
        Ok(Report {
            schema: REPORT_SCHEMA,
            settings: settings.clone(),
            images: state.images.len() as u64,
            failed: state.failures.len() as u64,
            pixels: state.images.iter().map(|i| i.counts[0].total()).sum(),
            ignored: state.images.iter().map(|i| i.ignored).sum(),
            micro: Scores::averaged(&totals, None, Average::Micro)?,
            macro_: Scores::averaged(&totals, None, Average::Macro)?,
            image_wise: Scores::averaged(&totals, Some(&per_image), Average::ImageWise)?,
            classes,
            objects,
            unmatched: UnmatchedRow {
                pred,
                truth,
                ambiguous,
            },
            failures: state.failures.clone(),
        })
    }

    /// Writes the report in `format`.
    ///
    /// # Errors
    /// Writing fails.
    pub fn write(&self, format: Format, w: &mut dyn Write) -> Result<()> {
        match format {
            Format::Table => self.write_table(w),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *w, self)?;
                writeln!(w)?;
                Ok(())
            }
            Format::Csv => self.write_csv(w),
        }
    }

    fn write_table(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "{} images scored, {} failed; {} pixels counted, {} ignored",
            self.images, self.failed, self.pixels, self.ignored
        )?;
        writeln!(
            w,
            "{:<12} {:>10} {:>10} {:>10} {:>10} {:>14}",
            "class", "precision", "recall", "f1/dice", "iou", "support"
        )?;
        for row in &self.classes {
            table_row(w, &row.class.to_string(), &row.scores, Some(row.support))?;
        }
        table_row(w, "micro", &self.micro, None)?;
        table_row(w, "macro", &self.macro_, None)?;
        table_row(w, "image-wise", &self.image_wise, None)?;
        if let (Some(o), Some(rule)) = (&self.objects, &self.settings.objects) {
            writeln!(
                w,
                "objects (class {}, IoU >= {}, min area {} px): precision {:.4}, recall {:.4}, \
                 f1 {:.4} (tp {}, fp {}, fn {})",
                rule.class,
                rule.iou_threshold,
                rule.min_area,
                o.precision,
                o.recall,
                o.f1,
                o.tp,
                o.fp,
                o.fn_
            )?;
        }
        let u = &self.unmatched;
        if !u.pred.is_empty() || !u.truth.is_empty() || !u.ambiguous.is_empty() {
            writeln!(
                w,
                "unmatched: {} prediction file(s), {} truth file(s), {} ambiguous name(s)",
                u.pred.len(),
                u.truth.len(),
                u.ambiguous.len()
            )?;
        }
        Ok(())
    }

    fn write_csv(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(w, "row,class,tp,fp,fn,tn,support,precision,recall,f1,iou")?;
        for r in &self.classes {
            writeln!(
                w,
                "class,{},{},{},{},{},{},{}",
                r.class,
                r.tp,
                r.fp,
                r.fn_,
                r.tn,
                r.support,
                csv_scores(&r.scores)
            )?;
        }
        for (name, s) in [
            ("micro", &self.micro),
            ("macro", &self.macro_),
            ("image_wise", &self.image_wise),
        ] {
            writeln!(w, "{name},,,,,,,{}", csv_scores(s))?;
        }
        if let (Some(o), Some(rule)) = (&self.objects, &self.settings.objects) {
            writeln!(
                w,
                "objects,{},{},{},{},,,{},{},{},",
                rule.class, o.tp, o.fp, o.fn_, o.precision, o.recall, o.f1
            )?;
        }
        Ok(())
    }
}

fn table_row(w: &mut dyn Write, name: &str, s: &Scores, support: Option<u64>) -> Result<()> {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    writeln!(
        w,
        "{:<12} {:>10} {:>10} {:>10} {:>10} {:>14}",
        name,
        f(s.precision),
        f(s.recall),
        f(s.f1),
        f(s.iou),
        support.map_or(String::new(), |s| s.to_string())
    )?;
    Ok(())
}

/// A score for CSV: shortest round-trip form, empty when undefined.
pub fn csv_num(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

fn csv_scores(s: &Scores) -> String {
    format!(
        "{},{},{},{}",
        csv_num(s.precision),
        csv_num(s.recall),
        csv_num(s.f1),
        csv_num(s.iou)
    )
}

/// Quotes a CSV field when it holds a comma, quote or line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
