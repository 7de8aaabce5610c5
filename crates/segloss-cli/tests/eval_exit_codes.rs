//! Exit codes, bad files, unmatched files, and the rules on output files.

mod eval_common;

use std::path::Path;

use eval_common::{json, png_gray8, s, segloss, snapshot};

/// Three good binary pairs under `dir/pred` and `dir/truth`.
fn good(dir: &Path) -> (String, String) {
    let (pd, td) = (dir.join("pred"), dir.join("truth"));
    for i in 0..3u8 {
        png_gray8(
            &td.join(format!("g{i}.png")),
            3,
            2,
            &[0, 255, 255, 0, 0, i % 2],
        );
        png_gray8(&pd.join(format!("g{i}.png")), 3, 2, &[0, 255, 0, 0, 255, 0]);
    }
    (s(&pd).to_string(), s(&td).to_string())
}

#[test]
fn all_good_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = good(dir.path());
    let r = segloss(&["eval", "--pred", &pd, "--truth", &td]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("3 images scored, 0 failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_files_are_named_counted_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = good(dir.path());
    let (p, t) = (Path::new(&pd), Path::new(&td));
    // corrupt bytes
    std::fs::write(p.join("corrupt.png"), b"not an image at all").unwrap();
    png_gray8(&t.join("corrupt.png"), 1, 1, &[0]);
    // sizes differ
    png_gray8(&p.join("sizes.png"), 2, 2, &[0; 4]);
    png_gray8(&t.join("sizes.png"), 2, 3, &[0; 6]);
    // a gray level in a binary mask
    png_gray8(&p.join("gray.png"), 2, 1, &[0, 77]);
    png_gray8(&t.join("gray.png"), 2, 1, &[0, 255]);
    // truncated PNG
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, 8, 8);
        enc.set_color(png::ColorType::Grayscale);
        enc.write_header()
            .unwrap()
            .write_image_data(&[0u8; 64])
            .unwrap();
    }
    std::fs::write(p.join("trunc.png"), &bytes[..bytes.len() - 20]).unwrap();
    png_gray8(&t.join("trunc.png"), 8, 8, &[0; 64]);

    let r = segloss(&["eval", "--pred", &pd, "--truth", &td, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for name in ["corrupt", "sizes", "gray", "trunc"] {
        assert!(
            r.stderr.contains(&format!("error: {name}:")),
            "{name} not reported:\n{}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("sizes differ"), "{}", r.stderr);
    assert!(r.stderr.contains("(x=1, y=0) is 77"), "{}", r.stderr);
    assert!(r.stderr.contains("4 of 7 pair(s) failed"), "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["images"], 3);
    assert_eq!(v["failed"], 4);
    let keys: Vec<&str> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["corrupt", "gray", "sizes", "trunc"]);
}

#[test]
fn label_outside_classes_is_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = good(dir.path());
    png_gray8(&Path::new(&td).join("k.png"), 2, 1, &[0, 3]);
    png_gray8(&Path::new(&pd).join("k.png"), 2, 1, &[0, 1]);
    let r = segloss(&["eval", "--pred", &pd, "--truth", &td, "--classes", "3"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("error: k:") && r.stderr.contains("below 3"),
        "{}",
        r.stderr
    );
}

#[test]
fn unmatched_files_are_listed_and_fatal_only_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = good(dir.path());
    png_gray8(&Path::new(&pd).join("only_pred.png"), 1, 1, &[0]);
    png_gray8(&Path::new(&td).join("sub/only_truth.png"), 1, 1, &[0]);
    let r = segloss(&["eval", "--pred", &pd, "--truth", &td, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("only_pred.png") && r.stderr.contains("sub/only_truth.png"));
    let v = json(&r.stdout);
    assert_eq!(v["unmatched"]["pred"][0], "only_pred.png");
    assert_eq!(v["unmatched"]["truth"][0], "sub/only_truth.png");
    let r = segloss(&["eval", "--pred", &pd, "--truth", &td, "--strict"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty(), "nothing scored: {}", r.stdout);
    assert!(r.stderr.contains("--strict"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2_and_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = good(dir.path());
    let before = snapshot(dir.path());
    let inside = format!("{pd}/report.json");
    let cases: Vec<Vec<&str>> = vec![
        vec!["eval", "--pred", &pd], // clap: missing --truth
        vec!["eval", "--pred", &pd, "--truth", &td, "--bogus"], // clap: unknown flag
        vec!["eval", "--pred", "/no/such/dir", "--truth", &td],
        vec!["eval", "--pred", &pd, "--truth", &td, "--threshold", "1.5"],
        vec![
            "eval",
            "--pred",
            &pd,
            "--truth",
            &td,
            "--threshold",
            "0.5",
            "--classes",
            "3",
        ],
        vec!["eval", "--pred", &pd, "--truth", &td, "--classes", "1"],
        vec!["eval", "--pred", &pd, "--truth", &td, "--min-area", "5"],
        vec![
            "eval",
            "--pred",
            &pd,
            "--truth",
            &td,
            "--objects",
            "--object-iou",
            "0",
        ],
        vec!["eval", "--pred", &pd, "--truth", &td, "--shard", "4/4"],
        vec!["eval", "--pred", &pd, "--truth", &td, "--out", &inside],
        vec!["eval", "--pred", &pd, "--truth", &td, "--overlays", &pd],
        vec!["eval", "--pred", &pd, "--truth", &td, "--jobs", "0"],
        vec!["merge"],
    ];
    for args in cases {
        let r = segloss(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(!r.stderr.is_empty());
    }
    assert_eq!(before, snapshot(dir.path()), "a usage error changed files");
}

#[test]
fn outputs_are_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = good(dir.path());
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let report = out_dir.join("report.json");
    std::fs::write(&report, b"precious").unwrap();
    let inputs = (snapshot(Path::new(&pd)), snapshot(Path::new(&td)));
    let rp = s(&report).to_string();
    let r = segloss(&[
        "eval", "--pred", &pd, "--truth", &td, "--format", "json", "--out", &rp,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(std::fs::read(&report).unwrap(), b"precious");
    let r = segloss(&[
        "eval", "--pred", &pd, "--truth", &td, "--format", "json", "--out", &rp, "--force",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        json(&std::fs::read_to_string(&report).unwrap())["images"],
        3
    );

    // Overlays: an existing overlay file stops the run before anything is written.
    let ov = out_dir.join("overlays");
    let ovs = s(&ov).to_string();
    let r = segloss(&["eval", "--pred", &pd, "--truth", &td, "--overlays", &ovs]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_dir(&ov).unwrap().count(), 3);
    let r = segloss(&["eval", "--pred", &pd, "--truth", &td, "--overlays", &ovs]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = segloss(&[
        "eval",
        "--pred",
        &pd,
        "--truth",
        &td,
        "--overlays",
        &ovs,
        "--force",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Only the listed outputs exist; the input folders are unchanged.
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["overlays", "report.json"]);
    assert_eq!(inputs, (snapshot(Path::new(&pd)), snapshot(Path::new(&td))));
}

#[test]
fn decompression_bomb_is_a_bad_file_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = good(dir.path());
    png_gray8(&Path::new(&pd).join("big.png"), 300, 300, &[0; 90_000]);
    png_gray8(&Path::new(&td).join("big.png"), 300, 300, &[0; 90_000]);
    let r = segloss(&[
        "eval",
        "--pred",
        &pd,
        "--truth",
        &td,
        "--max-pixels",
        "10000",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("300x300 = 90000 pixels, over the limit of 10000"),
        "{}",
        r.stderr
    );
}

#[test]
fn no_pairs_at_all_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    let r = segloss(&["eval", "--pred", s(&a), "--truth", s(&b)]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no pairs found"), "{}", r.stderr);
}
