//! End to end: a tiny `segloss train` run (few steps, tiny tiles), then `segloss predict` on
//! its weights. Checks behaviour (the loss falls, files are written and parse), not speed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const LOSSES: &str = "bce,dice+0.5*focal";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_segloss"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("segloss-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tiny_train(out: &Path) -> std::process::Output {
    bin()
        .args([
            "train",
            "--quiet",
            "--losses",
            LOSSES,
            "--steps",
            "40",
            "--batch-size",
            "4",
            "--lr",
            "0.01",
            "--tile-size",
            "32",
            "--train-tiles",
            "32",
            "--val-tiles",
            "6",
            "--width",
            "4",
            "--depth",
            "2",
            "--eval-every",
            "20",
            "--panel-tiles",
            "2",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap()
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n"))
}

#[test]
fn tiny_run_trains_reports_and_predicts() {
    let dir = temp_dir("train-tiny");
    let out = dir.join("report");
    let res = tiny_train(&out);
    let stderr = String::from_utf8_lossy(&res.stderr);
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "train failed:\n{stderr}\n{stdout}");

    // The table names every loss.
    for l in LOSSES.split(',') {
        assert!(stdout.contains(l), "table lacks {l}:\n{stdout}");
    }

    // metrics.json parses and holds one run per loss, with a falling training loss.
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        let losses: Vec<f64> = r["train_loss"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["loss"].as_f64().unwrap())
            .collect();
        assert_eq!(losses.len(), 40);
        let first = losses[..5].iter().sum::<f64>() / 5.0;
        let last = losses[35..].iter().sum::<f64>() / 5.0;
        assert!(
            last < 0.8 * first,
            "{}: loss did not fall: first {first}, last {last}",
            r["loss"]
        );
        let dice = r["final"]["dice"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&dice));
        let c = &r["final"]["counts"];
        let total: u64 = ["tp", "fp", "fn", "tn"]
            .iter()
            .map(|k| c[k].as_u64().unwrap())
            .sum();
        assert_eq!(total, 6 * 32 * 32, "counts cover every validation pixel");
        assert!(out.join(r["weights"].as_str().unwrap()).is_file());
    }
    assert_eq!(json["summary"].as_array().unwrap().len(), 2);

    // The CSVs have a header and one row per run / loss.
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.starts_with("loss,seed,dice,iou,precision,recall,object_f1"));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 3);

    // Pictures.
    assert!(is_png(&out.join("curves.png")));
    assert!(is_png(&out.join("predictions-bce.png")));
    assert!(is_png(&out.join("predictions-dice+0.5xfocal.png")));
    assert!(out.join("weights/model.json").is_file());

    // A second run into the same folder is refused: nothing is overwritten.
    let again = tiny_train(&out);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    // predict: masks with the input's size, 0/255 only, named after the inputs.
    let input = dir.join("images");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    let img = image::RgbImage::from_fn(45, 37, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 6) as u8, ((x + y) * 3) as u8])
    });
    img.save(input.join("a.png")).unwrap();
    img.save(input.join("sub/b.png")).unwrap();
    let masks = dir.join("masks");
    let weights = out.join("weights/bce-seed1.bpk");
    let pred = bin()
        .args(["predict", "--weights"])
        .arg(&weights)
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(&masks)
        .output()
        .unwrap();
    assert!(
        pred.status.success(),
        "predict failed: {}",
        String::from_utf8_lossy(&pred.stderr)
    );
    for rel in ["a.png", "sub/b.png"] {
        let m = image::open(masks.join(rel)).unwrap().to_luma8();
        assert_eq!(m.dimensions(), (45, 37));
        assert!(m.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
    }
    // Existing masks are not replaced without --force: every file fails, exit code 1.
    let again = bin()
        .args(["predict", "--weights"])
        .arg(&weights)
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(&masks)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    // Writing into the input folder is refused.
    let inside = bin()
        .args(["predict", "--weights"])
        .arg(&weights)
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(input.join("masks"))
        .output()
        .unwrap();
    assert!(!inside.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_get_clear_errors() {
    let out = bin()
        .args(["train", "--losses", "dice+nonsense", "--steps", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nonsense"));
    let out = bin()
        .args(["train", "--tile-size", "30", "--steps", "1", "--quiet"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("multiple"));
}

/// The per-step training losses of a tiny one-loss run with `threads` rayon threads.
fn tiny_losses(out: &Path, threads: &str) -> Vec<f64> {
    let res = bin()
        .env("RAYON_NUM_THREADS", threads)
        .args([
            "train",
            "--quiet",
            "--losses",
            "dice+bce",
            "--steps",
            "8",
            "--batch-size",
            "4",
            "--tile-size",
            "32",
            "--train-tiles",
            "16",
            "--val-tiles",
            "2",
            "--width",
            "4",
            "--panel-tiles",
            "1",
            "--seed",
            "3",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "train failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    json["runs"][0]["train_loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["loss"].as_f64().unwrap())
        .collect()
}

#[test]
fn a_seed_gives_the_same_losses_bit_for_bit_at_any_thread_count() {
    let dir = temp_dir("train-repro");
    let one = tiny_losses(&dir.join("one"), "1");
    let three = tiny_losses(&dir.join("three"), "3");
    assert_eq!(one.len(), 8);
    assert_eq!(one, three, "1 thread vs 3 threads");
    std::fs::remove_dir_all(&dir).unwrap();
}
