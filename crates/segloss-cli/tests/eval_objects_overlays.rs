//! `--objects` counts through the CLI and `--overlays` pictures.

mod eval_common;

use eval_common::{eval, json, png_gray8, s};

#[test]
fn objects_follow_the_spacenet_convention() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = (dir.path().join("p"), dir.path().join("t"));
    // Truth: two buildings; prediction: one good match (IoU 3/5), a poor one (IoU 1/4) and a
    // false alarm of 2 pixels.
    let rows = |r: &[&str]| -> Vec<u8> {
        r.iter()
            .flat_map(|l| l.chars().map(|c| if c == '#' { 255 } else { 0 }))
            .collect()
    };
    let truth = rows(&["##....##", "##....##", "........", "........"]);
    let pred = rows(&["###....#", "#.......", "........", "..##...."]);
    png_gray8(&td.join("a.png"), 8, 4, &truth);
    png_gray8(&pd.join("a.png"), 8, 4, &pred);
    let r = eval(&pd, &td, &["--objects", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = &json(&r.stdout)["objects"];
    assert_eq!(
        (o["tp"].as_u64(), o["fp"].as_u64(), o["fn"].as_u64()),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(o["f1"], 0.4);
    // A stricter match threshold and a minimum area change the counts.
    let r = eval(
        &pd,
        &td,
        &[
            "--objects",
            "--object-iou",
            "0.7",
            "--min-area",
            "2",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = &json(&r.stdout)["objects"];
    // The 1-pixel prediction is dropped; no pair reaches IoU 0.7.
    assert_eq!(
        (o["tp"].as_u64(), o["fp"].as_u64(), o["fn"].as_u64()),
        (Some(0), Some(2), Some(2))
    );
}

#[test]
fn overlays_paint_tp_fp_fn_in_distinct_colours() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td, ov) = (
        dir.path().join("p"),
        dir.path().join("t"),
        dir.path().join("ov"),
    );
    png_gray8(&td.join("sub/x.png"), 4, 1, &[0, 255, 0, 255]);
    png_gray8(&pd.join("sub/x.png"), 4, 1, &[0, 255, 255, 0]);
    let r = eval(&pd, &td, &["--overlays", s(&ov)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let file = std::fs::File::open(ov.join("sub/x.png")).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut buf).unwrap();
    let px: Vec<&[u8]> = buf.chunks(3).collect();
    let (tn, tp, fp, fn_) = (px[0], px[1], px[2], px[3]);
    assert_eq!(tn, [0, 0, 0]);
    assert_eq!(tp, [0x00, 0x9E, 0x73]);
    assert_eq!(fp, [0xD5, 0x5E, 0x00]);
    assert_eq!(fn_, [0x56, 0xB4, 0xE9]);
}
