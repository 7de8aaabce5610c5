//! `--per-image FILE`: one CSV row per scored image, worst first.
//!
//! Columns: `key,width,height,ignored,tp,fp,fn,tn,precision,recall,f1,iou` for binary runs
//! (the positive class). Multi-class runs give the pixel `accuracy`, the image's
//! `macro_f1` and `macro_iou`, then `iou_0 … iou_{K-1}`. With `--objects`:
//! `obj_tp,obj_fp,obj_fn,obj_f1`. Rows are sorted by F1 (binary) or macro IoU (multi-class),
//! lowest first, undefined scores last, ties by key: the images to look at come first.

use std::io::Write;

use anyhow::Result;
use segloss::metrics::{Average, Conventions, Counts, Metric, average};

use super::report::{Scores, csv_field, csv_num};
use super::state::RunState;

/// Writes the per-image CSV of `state`.
///
/// # Errors
/// Writing fails or the engine rejects a count (a corrupt state).
pub fn write(state: &RunState, w: &mut dyn Write) -> Result<()> {
    let binary = state.settings.is_binary();
    let objects = state.settings.objects.is_some();
    let conv = Conventions::default();
    let mut header = String::from("key,width,height,ignored,");
    if binary {
        header.push_str("tp,fp,fn,tn,precision,recall,f1,iou");
    } else {
        header.push_str("accuracy,macro_f1,macro_iou");
        for c in 0..state.settings.classes {
            header.push_str(&format!(",iou_{c}"));
        }
    }
    if objects {
        header.push_str(",obj_tp,obj_fp,obj_fn,obj_f1");
    }
    writeln!(w, "{header}")?;

    let mut rows: Vec<(Option<f64>, &str, String)> = Vec::with_capacity(state.images.len());
    for img in &state.images {
        let mut line = format!(
            "{},{},{},{},",
            csv_field(&img.key),
            img.width,
            img.height,
            img.ignored
        );
        let key_score = if binary {
            let c: &Counts = &img.counts[0];
            let s = Scores::of(c)?;
            line.push_str(&format!(
                "{},{},{},{},{},{},{},{}",
                c.tp,
                c.fp,
                c.fn_,
                c.tn,
                csv_num(s.precision),
                csv_num(s.recall),
                csv_num(s.f1),
                csv_num(s.iou)
            ));
            s.f1
        } else {
            let total = img.counts[0].total();
            let correct: u64 = img.counts.iter().map(|c| c.tp).sum();
            let accuracy = (total > 0).then(|| correct as f64 / total as f64);
            let macro_f1 = average(&img.counts, None, Metric::F1, Average::Macro, &conv)?.value();
            let macro_iou = average(&img.counts, None, Metric::Iou, Average::Macro, &conv)?.value();
            line.push_str(&format!(
                "{},{},{}",
                csv_num(accuracy),
                csv_num(macro_f1),
                csv_num(macro_iou)
            ));
            for c in &img.counts {
                line.push(',');
                line.push_str(&csv_num(Scores::of(c)?.iou));
            }
            macro_iou
        };
        if let Some(o) = &img.objects {
            line.push_str(&format!(",{},{},{},{}", o.tp, o.fp, o.fn_, o.f1()));
        }
        rows.push((key_score.filter(|v| !v.is_nan()), &img.key, line));
    }
    rows.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.1.cmp(b.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(b.1),
    });
    for (_, _, line) in rows {
        writeln!(w, "{line}")?;
    }
    Ok(())
}
