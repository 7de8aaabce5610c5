//! Sharded runs merged with `segloss merge` reproduce a single run exactly.

mod eval_common;

use std::path::Path;

use eval_common::{Rng, png_gray8, s, segloss};

fn fixtures(dir: &Path, images: usize, bad: Option<usize>) -> (String, String) {
    let (pd, td) = (dir.join("pred"), dir.join("truth"));
    let mut rng = Rng(11);
    for i in 0..images {
        let (w, h) = (16 + (i as u32 % 5), 12);
        let n = (w * h) as usize;
        let truth = rng.labels(n, 3);
        let pred = rng.perturb(&truth, 3, 4);
        let key = format!("d{}/t{i:02}", i % 3);
        png_gray8(&td.join(format!("{key}.png")), w, h, &truth);
        if bad == Some(i) {
            std::fs::create_dir_all(pd.join(format!("d{}", i % 3))).unwrap();
            std::fs::write(pd.join(format!("{key}.png")), b"\x89PNG\r\n\x1a\ntruncated").unwrap();
        } else {
            png_gray8(&pd.join(format!("{key}.png")), w, h, &pred);
        }
    }
    (s(&pd).to_string(), s(&td).to_string())
}

fn common<'a>(pd: &'a str, td: &'a str) -> Vec<&'a str> {
    vec![
        "eval",
        "--pred",
        pd,
        "--truth",
        td,
        "--classes",
        "3",
        "--objects",
    ]
}

#[test]
fn shards_merged_equal_a_single_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = fixtures(dir.path(), 11, Some(4));
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let single_json = out.join("single.json");
    let single_csv = out.join("single.csv");
    let mut args = common(&pd, &td);
    let (sj, sc) = (s(&single_json).to_string(), s(&single_csv).to_string());
    args.extend(["--format", "json", "--out", &sj, "--per-image", &sc]);
    let r = segloss(&args);
    assert_eq!(r.code, 1, "one corrupt file: exit 1\n{}", r.stderr);
    assert!(r.stderr.contains("t04"), "bad file named: {}", r.stderr);

    let n = 4;
    let mut states = Vec::new();
    for i in 0..n {
        let state = out.join(format!("shard{i}.json"));
        let shard = format!("{i}/{n}");
        let st = s(&state).to_string();
        let mut args = common(&pd, &td);
        args.extend(["--shard", &shard, "--save-state", &st, "--format", "csv"]);
        let r = segloss(&args);
        assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
        states.push(st);
    }
    let merged_json = out.join("merged.json");
    let merged_csv = out.join("merged.csv");
    let (mj, mc) = (s(&merged_json).to_string(), s(&merged_csv).to_string());
    let mut args: Vec<&str> = vec!["merge"];
    // Order of the state files does not matter.
    args.extend(states.iter().rev().map(String::as_str));
    args.extend(["--format", "json", "--out", &mj, "--per-image", &mc]);
    let r = segloss(&args);
    assert_eq!(
        r.code, 1,
        "the merged run still has its failed file\n{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&single_json).unwrap(),
        std::fs::read_to_string(&merged_json).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(&single_csv).unwrap(),
        std::fs::read_to_string(&merged_csv).unwrap()
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&merged_json).unwrap()).unwrap();
    assert_eq!(v["images"], 10);
    assert_eq!(v["failed"], 1);
    assert!(v["failures"][0]["key"].as_str().unwrap().ends_with("t04"));

    // A missing shard or a shard given twice is refused.
    let r = segloss(&["merge", &states[0], &states[1], &states[2]]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("missing shard(s) 3/4"), "{}", r.stderr);
    let r = segloss(&[
        "merge", &states[0], &states[0], &states[1], &states[2], &states[3],
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("given twice"), "{}", r.stderr);
    // Merge never overwrites its outputs without --force.
    let r = segloss(&[
        "merge", &states[0], &states[1], &states[2], &states[3], "--out", &mj,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn states_of_different_settings_do_not_merge() {
    let dir = tempfile::tempdir().unwrap();
    let (pd, td) = fixtures(dir.path(), 4, None);
    let out = dir.path().join("o");
    std::fs::create_dir(&out).unwrap();
    let a = s(&out.join("a.json")).to_string();
    let b = s(&out.join("b.json")).to_string();
    let r = segloss(&[
        "eval",
        "--pred",
        &pd,
        "--truth",
        &td,
        "--classes",
        "3",
        "--shard",
        "0/2",
        "--save-state",
        &a,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = segloss(&[
        "eval",
        "--pred",
        &pd,
        "--truth",
        &td,
        "--classes",
        "4",
        "--shard",
        "1/2",
        "--save-state",
        &b,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = segloss(&["merge", &a, &b]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("settings"), "{}", r.stderr);
    let r = segloss(&["merge", &pd]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}
