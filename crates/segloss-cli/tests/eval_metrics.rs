//! `segloss eval` reports exactly what the library computes on the same arrays.

mod eval_common;

use eval_common::{
    Rng, eval, json, png_gray8, png_gray16, png_palette, s, tiff_f32, tiff_u8, tiff_u16,
};
use segloss::Shape;
use segloss::metrics::{
    Average, BinaryConfusion, BinaryConfusionConfig, ConfusionMatrixConfig, Conventions, Counts,
    ImageCounts, Metric, average,
};
use serde_json::Value;

/// Scores are compared to 1e-12 (they pass through JSON text).
const TOL: f64 = 1e-12;

fn close(v: &Value, expected: Option<f64>, what: &str) {
    match expected {
        Some(e) => {
            let got = v
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {v} is not a number"));
            assert!((got - e).abs() <= TOL, "{what}: got {got}, expected {e}");
        }
        None => assert!(v.is_null(), "{what}: got {v}, expected null"),
    }
}

fn check_scores(
    v: &Value,
    classes: &[Counts],
    images: Option<&ImageCounts>,
    avg: Average,
    what: &str,
) {
    let c = Conventions::default();
    for (name, m) in [
        ("precision", Metric::Precision),
        ("recall", Metric::Recall),
        ("f1", Metric::F1),
        ("iou", Metric::Iou),
    ] {
        let e = average(classes, images, m, avg, &c).unwrap().value();
        close(&v[name], e, &format!("{what}.{name}"));
    }
}

fn check_class(row: &Value, c: &Counts, class: u64) {
    assert_eq!(row["class"], class);
    assert_eq!(row["tp"], c.tp, "class {class} tp");
    assert_eq!(row["fp"], c.fp, "class {class} fp");
    assert_eq!(row["fn"], c.fn_, "class {class} fn");
    assert_eq!(row["tn"], c.tn, "class {class} tn");
    assert_eq!(row["support"], c.tp + c.fn_);
    check_scores(
        row,
        std::slice::from_ref(c),
        None,
        Average::Micro,
        &format!("class {class}"),
    );
}

#[test]
fn binary_png_and_tiff_masks_match_binary_confusion() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = (dir.path().join("pred"), dir.path().join("truth"));
    let mut rng = Rng(7);
    let sizes = [(17u32, 9u32), (32, 32), (5, 40), (64, 3), (1, 1)];
    let mut per_image = Vec::new();
    for (i, &(w, h)) in sizes.iter().enumerate() {
        let n = (w * h) as usize;
        let truth = rng.labels(n, 2);
        let pred = rng.perturb(&truth, 2, 5);
        let key = format!("sub{}/img{i}", i % 2);
        // Each image uses another encoding of a binary mask.
        match i {
            0 => {
                let up = |v: &[u8]| v.iter().map(|&x| x * 255).collect::<Vec<u8>>();
                png_gray8(&td.join(format!("{key}.png")), w, h, &up(&truth));
                png_gray8(&pd.join(format!("{key}.png")), w, h, &up(&pred));
            }
            1 => {
                png_gray8(&td.join(format!("{key}.png")), w, h, &truth);
                tiff_u8(&pd.join(format!("{key}.tif")), w, h, &pred);
            }
            2 => {
                let up = |v: &[u8]| {
                    v.iter()
                        .map(|&x| u16::from(x) * 65535)
                        .collect::<Vec<u16>>()
                };
                png_gray16(&td.join(format!("{key}.png")), w, h, &up(&truth));
                tiff_u16(&pd.join(format!("{key}.tiff")), w, h, &up(&pred));
            }
            _ => {
                png_palette(&td.join(format!("{key}.png")), w, h, &truth);
                png_gray8(&pd.join(format!("{key}.png")), w, h, &pred);
            }
        }
        let mut m = BinaryConfusion::new();
        m.update(&truth, &pred).unwrap();
        per_image.push((key, m.counts()));
    }
    per_image.sort_by(|a, b| a.0.cmp(&b.0));
    let mut total = Counts::default();
    let mut images = ImageCounts::new(1);
    for (_, c) in &per_image {
        total.add(c);
        images.push(std::slice::from_ref(c)).unwrap();
    }

    let r = eval(&pd, &td, &["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["images"], 5);
    assert_eq!(v["failed"], 0);
    assert_eq!(v["pixels"], total.total());
    assert_eq!(v["classes"].as_array().unwrap().len(), 1);
    check_class(&v["classes"][0], &total, 1);
    check_scores(&v["micro"], &[total], None, Average::Micro, "micro");
    check_scores(&v["macro"], &[total], None, Average::Macro, "macro");
    check_scores(
        &v["image_wise"],
        &[total],
        Some(&images),
        Average::ImageWise,
        "image_wise",
    );

    // The per-image CSV holds each image's counts, worst F1 first.
    let csv_path = dir.path().join("per_image.csv");
    let r = eval(&pd, &td, &["--per-image", s(&csv_path)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("f1/dice"), "table expected: {}", r.stdout);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "key,width,height,ignored,tp,fp,fn,tn,precision,recall,f1,iou"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 5);
    let f1s: Vec<f64> = rows.iter().map(|r| r[10].parse().unwrap()).collect();
    assert!(
        f1s.windows(2).all(|w| w[0] <= w[1]),
        "not worst-first: {f1s:?}"
    );
    for row in &rows {
        let (_, c) = per_image.iter().find(|(k, _)| k == row[0]).unwrap();
        let got: Vec<u64> = row[4..8].iter().map(|x| x.parse().unwrap()).collect();
        assert_eq!(got, [c.tp, c.fp, c.fn_, c.tn], "{}", row[0]);
    }
}

#[test]
fn multiclass_with_ignore_matches_confusion_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = (dir.path().join("p"), dir.path().join("t"));
    let mut rng = Rng(99);
    let k = 4u64;
    let mut cm_total = ConfusionMatrixConfig::new(4)
        .with_ignore_index(255)
        .init()
        .unwrap();
    let mut images = ImageCounts::new(4);
    let mut ignored = 0;
    for i in 0..4 {
        let (w, h) = (20 + i, 11);
        let n = (w * h) as usize;
        let mut truth = rng.labels(n, k);
        for t in truth.iter_mut() {
            if rng.below(10) == 0 {
                *t = 255;
            }
        }
        let pred = rng.perturb(&truth.iter().map(|&t| t % 4).collect::<Vec<_>>(), k, 4);
        if i % 2 == 0 {
            png_palette(&td.join(format!("m{i}_gt.png")), w, h, &truth);
        } else {
            let t16: Vec<u16> = truth.iter().map(|&t| u16::from(t)).collect();
            tiff_u16(&td.join(format!("m{i}_gt.tif")), w, h, &t16);
        }
        png_gray8(&pd.join(format!("m{i}.png")), w, h, &pred);
        let mut cm = ConfusionMatrixConfig::new(4)
            .with_ignore_index(255)
            .init()
            .unwrap();
        cm.update(&truth, &pred).unwrap();
        images.push(&cm.class_counts()).unwrap();
        ignored += cm.ignored();
        cm_total.update(&truth, &pred).unwrap();
    }
    let totals = cm_total.class_counts();
    // The same run as JSON, then as CSV.
    let run = |format| {
        eval(
            &pd,
            &td,
            &[
                "--truth-suffix",
                "_gt",
                "--classes",
                "4",
                "--ignore",
                "255",
                "--format",
                format,
            ],
        )
    };
    let r = run("json");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["images"], 4);
    assert_eq!(v["ignored"], ignored);
    assert_eq!(v["pixels"], cm_total.total());
    for (c, counts) in totals.iter().enumerate() {
        check_class(&v["classes"][c], counts, c as u64);
    }
    check_scores(&v["micro"], &totals, None, Average::Micro, "micro");
    check_scores(&v["macro"], &totals, None, Average::Macro, "macro");
    check_scores(
        &v["image_wise"],
        &totals,
        Some(&images),
        Average::ImageWise,
        "image_wise",
    );
    // The whole confusion matrix, rows = truth.
    let expected: Vec<Vec<u64>> = cm_total.matrix().chunks(4).map(<[u64]>::to_vec).collect();
    let got: Vec<Vec<u64>> = serde_json::from_value(v["confusion_matrix"].clone()).unwrap();
    assert_eq!(got, expected);
    // The engine's own macro mIoU agrees too.
    let miou = cm_total
        .score(Metric::Iou, Average::Macro, &Conventions::default())
        .unwrap();
    close(&v["macro"]["iou"], miou.value(), "engine mIoU");

    // CSV report: one row per class, then the averages.
    let r = run("csv");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "row,class,tp,fp,fn,tn,support,precision,recall,f1,iou"
    );
    assert!(lines[1].starts_with(&format!("class,0,{},{},", totals[0].tp, totals[0].fp)));
    assert!(lines[5].starts_with("micro,"));
    assert!(lines[6].starts_with("macro,"));
    assert!(lines[7].starts_with("image_wise,"));
}

#[test]
fn thresholded_probability_maps_match_update_probs() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = (dir.path().join("p"), dir.path().join("t"));
    let mut rng = Rng(3);
    let (w, h) = (23u32, 13u32);
    let n = (w * h) as usize;
    let mut m = BinaryConfusionConfig::new()
        .with_threshold(0.3)
        .init()
        .unwrap();
    for i in 0..3 {
        let truth = rng.labels(n, 2);
        let probs: Vec<f32> = truth
            .iter()
            .map(|&t| (0.6 * f32::from(t) + (rng.below(1000) as f32) / 2500.0).min(1.0))
            .collect();
        png_gray8(
            &td.join(format!("{i}.png")),
            w,
            h,
            &truth.iter().map(|&t| t * 255).collect::<Vec<_>>(),
        );
        tiff_f32(&pd.join(format!("{i}.tif")), w, h, &probs);
        m.update_probs(&truth, &probs, &Shape::new(&[1, 1, n]).unwrap())
            .unwrap();
    }
    // An 8-bit probability map: v / 255 >= 0.3 exactly as the engine thresholds v / 255.
    let truth = rng.labels(n, 2);
    let gray: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
    png_gray8(&td.join("g.png"), w, h, &truth);
    png_gray8(&pd.join("g.png"), w, h, &gray);
    let probs: Vec<f64> = gray.iter().map(|&g| f64::from(g) / 255.0).collect();
    m.update_probs(&truth, &probs, &Shape::new(&[1, 1, n]).unwrap())
        .unwrap();

    let r = eval(&pd, &td, &["--threshold", "0.3", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    check_class(&v["classes"][0], &m.counts(), 1);
    assert!(v["confusion_matrix"].is_null());
    assert_eq!(v["settings"]["mode"], "threshold");
    assert_eq!(v["settings"]["threshold"], 0.3);
}
