//! The report: per-run and summary metrics as JSON and CSV, and the terminal table.
//!
//! `metrics.json` layout (stable; new keys may be added):
//! ```text
//! { "segloss_version", "date_utc", "machine": {os, arch, threads}, "device", "command",
//!   "data": {...}, "config": {...},
//!   "runs": [ { "loss", "seed", "seconds", "final": Scores, "weights",
//!               "train_loss": [{step, loss}], "checkpoints": [{step, scores}] } ],
//!   "summary": [ { "loss", "seeds", "dice": {mean, sd, min, max}, "iou": ..., "precision": ...,
//!                  "recall": ..., "object_f1": ..., "seconds": ... } ] }
//! ```
//! `Scores` holds `dice, iou, precision, recall, object_f1, object_precision, object_recall`
//! and `counts: {tp, fp, fn, tn}`. `sd` is the sample standard deviation (0 for one seed).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::evaluate::Scores;
use super::trainer::{Checkpoint, RunOutput, StepLoss};

/// Mean, spread and range of one metric over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator; 0 for a single value).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (at least one).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Self {
            mean,
            sd,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// One loss's results over all seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The loss.
    pub loss: String,
    /// Number of seeds.
    pub seeds: usize,
    /// Pixel Dice = F1.
    pub dice: Spread,
    /// Pixel IoU.
    pub iou: Spread,
    /// Pixel precision.
    pub precision: Spread,
    /// Pixel recall.
    pub recall: Spread,
    /// Object F1.
    pub object_f1: Spread,
    /// Seconds per run.
    pub seconds: Spread,
}

/// Summaries per loss, in the order the losses first appear in `runs`.
pub fn summarize(runs: &[RunOutput]) -> Vec<Summary> {
    let mut order: Vec<String> = Vec::new();
    for r in runs {
        let l = r.loss.to_string();
        if !order.contains(&l) {
            order.push(l);
        }
    }
    order
        .into_iter()
        .map(|loss| {
            let rs: Vec<&RunOutput> = runs.iter().filter(|r| r.loss.to_string() == loss).collect();
            let get = |f: fn(&Scores) -> f64| {
                Spread::of(&rs.iter().map(|r| f(r.scores())).collect::<Vec<_>>())
            };
            Summary {
                seeds: rs.len(),
                dice: get(|s| s.dice),
                iou: get(|s| s.iou),
                precision: get(|s| s.precision),
                recall: get(|s| s.recall),
                object_f1: get(|s| s.object_f1),
                seconds: Spread::of(&rs.iter().map(|r| r.seconds).collect::<Vec<_>>()),
                loss,
            }
        })
        .collect()
}

/// A run as written to `metrics.json`.
#[derive(Debug, Serialize)]
struct RunRecord<'a> {
    loss: String,
    seed: u64,
    seconds: f64,
    #[serde(rename = "final")]
    final_scores: &'a Scores,
    weights: Option<String>,
    train_loss: &'a [StepLoss],
    checkpoints: &'a [Checkpoint],
}

/// The whole `metrics.json`.
#[derive(Debug, Serialize)]
pub struct Report<'a, D: Serialize, C: Serialize> {
    /// segloss version.
    pub segloss_version: &'static str,
    /// When the run finished (UTC, ISO 8601).
    pub date_utc: String,
    /// Where it ran.
    pub machine: Machine,
    /// The device.
    pub device: &'static str,
    /// The command line.
    pub command: String,
    /// The data.
    pub data: D,
    /// The training settings.
    pub config: C,
    /// One entry per (loss, seed).
    #[serde(serialize_with = "serialize_runs")]
    pub runs: (&'a [RunOutput], &'a [Option<String>]),
    /// One entry per loss.
    pub summary: &'a [Summary],
}

fn serialize_runs<S: serde::Serializer>(
    runs: &(&[RunOutput], &[Option<String>]),
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(runs.0.len()))?;
    for (r, w) in runs.0.iter().zip(runs.1) {
        seq.serialize_element(&RunRecord {
            loss: r.loss.to_string(),
            seed: r.seed,
            seconds: r.seconds,
            final_scores: r.scores(),
            weights: w.clone(),
            train_loss: &r.losses,
            checkpoints: &r.checkpoints,
        })?;
    }
    seq.end()
}

/// The machine a report was produced on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Operating system.
    pub os: &'static str,
    /// CPU architecture.
    pub arch: &'static str,
    /// Hardware threads available to the process.
    pub threads: usize,
}

impl Machine {
    /// This machine.
    pub fn current() -> Self {
        Self {
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("serializing the report")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// The per-run CSV (`metrics.csv`): one row per (loss, seed).
pub fn runs_csv(runs: &[RunOutput]) -> String {
    let mut out = String::from(
        "loss,seed,dice,iou,precision,recall,object_f1,object_precision,object_recall,tp,fp,fn,tn,seconds\n",
    );
    for r in runs {
        let s = r.scores();
        let _ = writeln!(
            out,
            "{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{},{},{},{},{:.3}",
            csv_field(&r.loss.to_string()),
            r.seed,
            s.dice,
            s.iou,
            s.precision,
            s.recall,
            s.object_f1,
            s.object_precision,
            s.object_recall,
            s.counts.tp,
            s.counts.fp,
            s.counts.fn_,
            s.counts.tn,
            r.seconds
        );
    }
    out
}

/// The summary CSV (`summary.csv`): one row per loss; for each metric the mean, the sample
/// standard deviation, and the smallest and largest value over seeds.
pub fn summary_csv(summary: &[Summary]) -> String {
    let mut out = String::from("loss,seeds");
    for m in ["dice", "iou", "precision", "recall", "object_f1"] {
        let _ = write!(out, ",{m}_mean,{m}_sd,{m}_min,{m}_max");
    }
    out.push_str(",seconds_mean\n");
    for s in summary {
        out += &csv_field(&s.loss);
        let _ = write!(out, ",{}", s.seeds);
        for m in [&s.dice, &s.iou, &s.precision, &s.recall, &s.object_f1] {
            let _ = write!(out, ",{:.6},{:.6},{:.6},{:.6}", m.mean, m.sd, m.min, m.max);
        }
        let _ = writeln!(out, ",{:.3}", s.seconds.mean);
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The terminal table (also valid Markdown): one row per loss; with several seeds each cell is
/// `mean ± sd` (sample standard deviation over seeds) and a last line says so and gives the
/// seed count (`summary.csv` adds min and max, `metrics.csv` every seed).
pub fn table(summary: &[Summary]) -> String {
    let cell = |s: &Spread, n: usize| {
        if n > 1 {
            format!("{:.3} ± {:.3}", s.mean, s.sd)
        } else {
            format!("{:.3}", s.mean)
        }
    };
    let header = [
        "loss",
        "Dice/F1",
        "IoU",
        "precision",
        "recall",
        "object F1",
        "s/run",
    ];
    let rows: Vec<Vec<String>> = summary
        .iter()
        .map(|s| {
            vec![
                s.loss.clone(),
                cell(&s.dice, s.seeds),
                cell(&s.iou, s.seeds),
                cell(&s.precision, s.seeds),
                cell(&s.recall, s.seeds),
                cell(&s.object_f1, s.seeds),
                format!("{:.1}", s.seconds.mean),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let mut s = String::from("|");
        for (c, w) in cells.iter().zip(&widths) {
            let pad = w - c.chars().count();
            let _ = write!(s, " {c}{} |", " ".repeat(pad));
        }
        s.push('\n');
        s
    };
    let mut out = line(header.to_vec());
    out.push('|');
    for w in &widths {
        let _ = write!(out, "{}|", "-".repeat(w + 2));
    }
    out.push('\n');
    for r in &rows {
        out += &line(r.iter().map(String::as_str).collect());
    }
    if let Some(n) = summary.iter().map(|s| s.seeds).max().filter(|&n| n > 1) {
        let _ = writeln!(
            out,
            "\nmean ± sample sd over {n} seeds (min–max per metric in summary.csv, every seed in metrics.csv)"
        );
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time in seconds.
pub fn iso_utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Now, as Unix seconds.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A file-name-safe version of a loss name: `dice+0.5*focal` → `dice+0.5xfocal`.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '*' => 'x',
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.' | '_') => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_values() {
        let s = Spread::of(&[1.0, 2.0, 3.0]);
        assert_eq!((s.mean, s.sd, s.min, s.max), (2.0, 1.0, 1.0, 3.0));
        assert_eq!(Spread::of(&[5.0]).sd, 0.0);
    }

    #[test]
    fn dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 12:34:56 UTC, a leap day.
        assert_eq!(iso_utc(951_827_696), "2000-02-29T12:34:56Z");
    }

    fn summary(seeds: usize, dice: &[f64]) -> Summary {
        let s = Spread::of(dice);
        Summary {
            loss: "dice+0.5*focal".into(),
            seeds,
            dice: s,
            iou: s,
            precision: s,
            recall: s,
            object_f1: s,
            seconds: Spread::of(&[2.0]),
        }
    }

    #[test]
    fn table_and_csv_show_the_spread_over_seeds() {
        let several = [summary(3, &[0.5, 0.7, 0.9])];
        let t = table(&several);
        assert!(t.contains("| 0.700 ± 0.200 |"), "{t}");
        assert!(t.contains("sample sd over 3 seeds"), "{t}");
        let csv = summary_csv(&several);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("loss,seeds,dice_mean,dice_sd,dice_min,dice_max,iou_mean"));
        assert!(
            lines[1].starts_with("dice+0.5*focal,3,0.700000,0.200000,0.500000,0.900000,"),
            "{}",
            lines[1]
        );
        assert_eq!(
            lines[0].split(',').count(),
            lines[1].split(',').count(),
            "{csv}"
        );
        let one = table(&[summary(1, &[0.25])]);
        assert!(one.contains("| 0.250 |") && !one.contains('±') && !one.contains("seeds"));
    }

    #[test]
    fn slugs_and_csv_fields() {
        assert_eq!(slug("dice+0.5*focal"), "dice+0.5xfocal");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
