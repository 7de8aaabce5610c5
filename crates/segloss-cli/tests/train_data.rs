//! `segloss train --data DIR`: a tiny folder of image/mask PNG pairs, paired by `eval`'s
//! rules (relative path and stem), trained for a few steps. Checks that the held-out images
//! are the ones scored, that the report is written and parses, and that bad folders get an
//! error naming the file instead of a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const TILE: u32 = 16;
const SIDE: u32 = 32;
/// `images/` keys; `sub/g` checks that pairing follows subfolders.
const KEYS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "sub/g", "sub/h"];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_segloss"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("segloss-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A noisy dark image with one bright rectangle, and its 0/255 mask.
fn write_pair(root: &Path, key: &str, n: u32, side: u32, mask_size: (u32, u32)) {
    let (x0, y0) = (3 + 5 * (n % 4), 2 + 7 * (n % 3));
    let inside = |x: u32, y: u32| (x0..x0 + 8).contains(&x) && (y0..y0 + 6).contains(&y);
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        let noise = ((x * 7 + y * 13 + n * 29) % 23) as u8;
        if inside(x, y) {
            image::Rgb([200 + noise, 190 + noise, 170])
        } else {
            image::Rgb([40 + noise, 60 + noise, 30 + noise])
        }
    });
    let mask = image::GrayImage::from_fn(mask_size.0, mask_size.1, |x, y| {
        image::Luma([if inside(x, y) { 255 } else { 0 }])
    });
    let (ip, mp) = (
        root.join("images").join(format!("{key}.png")),
        root.join("masks").join(format!("{key}.png")),
    );
    for p in [&ip, &mp] {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    }
    img.save(ip).unwrap();
    mask.save(mp).unwrap();
}

fn dataset(root: &Path) {
    for (n, key) in KEYS.iter().enumerate() {
        write_pair(root, key, n as u32, SIDE, (SIDE, SIDE));
    }
}

fn train_on(data: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .args([
            "train",
            "--quiet",
            "--losses",
            "bce,dice",
            "--steps",
            "4",
            "--batch-size",
            "4",
            "--tile-size",
            "16",
            "--width",
            "4",
            "--depth",
            "2",
            "--eval-every",
            "2",
            "--panel-tiles",
            "2",
            "--val-fraction",
            "0.4",
            "--data",
        ])
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Fails with exit status 1 or 2 (not a panic), writes no report, and the message holds every
/// piece of `needles`.
fn assert_clear_error(res: &Output, out: &Path, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(
        matches!(res.status.code(), Some(1 | 2)),
        "expected a clean failure, got {:?}:\n{stderr}",
        res.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "error lacks {n:?}:\n{stderr}");
    }
    assert!(!out.exists(), "a failed run created {}", out.display());
}

#[test]
fn trains_on_a_folder_and_scores_the_held_out_images() {
    let dir = temp_dir("train-data");
    let data = dir.join("data");
    dataset(&data);
    let out = dir.join("report");
    let res = train_on(&data, &out, &[]);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "train --data failed:\n{stderr}");
    assert!(String::from_utf8_lossy(&res.stdout).contains("dice"));

    let json = read_json(&out.join("metrics.json"));
    let d = &json["data"];
    let val: Vec<&str> = d["val_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!val.is_empty() && val.len() < KEYS.len(), "split {val:?}");
    assert!(val.iter().all(|k| KEYS.contains(k)), "{val:?}");
    assert!(d["source"].as_str().unwrap().contains("8 pairs"), "{d}");
    assert_eq!(d["skipped"].as_array().map(Vec::len), Some(0));
    // Each 32×32 image gives four 16×16 crops; crops of one image stay on one side.
    let crops = ((SIDE / TILE) * (SIDE / TILE)) as usize;
    let val_tiles = d["val_tiles"].as_u64().unwrap() as usize;
    assert_eq!(val_tiles, crops * val.len());
    assert_eq!(
        d["train_tiles"].as_u64().unwrap() as usize,
        crops * (KEYS.len() - val.len())
    );
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        // The scores count exactly the held-out pixels, at every checkpoint.
        for cp in r["checkpoints"].as_array().unwrap() {
            let c = &cp["scores"]["counts"];
            let total: u64 = ["tp", "fp", "fn", "tn"]
                .iter()
                .map(|k| c[k].as_u64().unwrap())
                .sum();
            assert_eq!(total as usize, val_tiles * (TILE * TILE) as usize);
            // Foreground pixels of the held-out masks: 48 per image (8×6 rectangles, all
            // inside the image).
            assert_eq!(
                c["tp"].as_u64().unwrap() + c["fn"].as_u64().unwrap(),
                48 * val.len() as u64
            );
        }
        assert_eq!(r["train_loss"].as_array().unwrap().len(), 4);
        assert!(out.join(r["weights"].as_str().unwrap()).is_file());
    }
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 3, "{summary}");
    for png in ["curves.png", "predictions-bce.png", "predictions-dice.png"] {
        let b = std::fs::read(out.join(png)).unwrap();
        assert!(b.starts_with(b"\x89PNG\r\n\x1a\n"), "{png}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_folders_get_errors_naming_the_file() {
    let dir = temp_dir("train-data-bad");
    let out = dir.join("report");

    // An image without its mask.
    let missing = dir.join("missing");
    dataset(&missing);
    std::fs::remove_file(missing.join("masks/sub/g.png")).unwrap();
    let res = train_on(&missing, &out, &[]);
    assert_clear_error(&res, &out, &["images/sub/g.png", "--unmatched skip"]);
    // ... which `--unmatched skip` leaves out, saying so.
    let res = train_on(&missing, &out, &["--unmatched", "skip"]);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{stderr}");
    assert!(stderr.contains("images/sub/g.png"), "{stderr}");
    let json = read_json(&out.join("metrics.json"));
    assert_eq!(json["data"]["skipped"][0], "images/sub/g.png");
    std::fs::remove_dir_all(&out).unwrap();

    // A mask of another size than its image.
    let sizes = dir.join("sizes");
    dataset(&sizes);
    write_pair(&sizes, "c", 2, SIDE, (SIDE, SIDE - 8));
    let res = train_on(&sizes, &out, &[]);
    assert_clear_error(&res, &out, &["images/c.png", "masks/c.png", "32×24"]);

    // A file that is not an image.
    let corrupt = dir.join("corrupt");
    dataset(&corrupt);
    std::fs::write(corrupt.join("masks/d.png"), b"not a png").unwrap();
    let res = train_on(&corrupt, &out, &[]);
    assert_clear_error(&res, &out, &["masks/d.png"]);

    // Empty folders, and a folder without images/.
    let empty = dir.join("empty");
    std::fs::create_dir_all(empty.join("images")).unwrap();
    std::fs::create_dir_all(empty.join("masks")).unwrap();
    let res = train_on(&empty, &out, &[]);
    assert_clear_error(&res, &out, &["empty", "no image/mask pairs"]);
    std::fs::remove_dir_all(empty.join("images")).unwrap();
    let res = train_on(&empty, &out, &[]);
    assert_clear_error(&res, &out, &["empty/images", "expected a folder"]);
    let res = train_on(&dir.join("nowhere"), &out, &[]);
    assert_clear_error(&res, &out, &["nowhere"]);

    // Images smaller than one tile leave nothing to train on.
    let small = dir.join("small");
    for (n, key) in KEYS.iter().enumerate() {
        write_pair(&small, key, n as u32, TILE - 4, (TILE - 4, TILE - 4));
    }
    let res = train_on(&small, &out, &[]);
    assert_clear_error(&res, &out, &["small", "crops of 16×16"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
