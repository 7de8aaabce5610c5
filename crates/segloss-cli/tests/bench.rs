//! `segloss bench` end to end: tiny shapes, JSON parsed back.

use std::process::Command;

fn segloss() -> Command {
    Command::new(env!("CARGO_BIN_EXE_segloss"))
}

/// Runs `segloss bench ARGS --format json` and parses its one line of output.
fn bench_json(args: &[&str]) -> serde_json::Value {
    let out = segloss()
        .arg("bench")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("segloss runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "segloss bench {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON line expected: {stdout}"
    );
    serde_json::from_str(&stdout).expect("valid JSON")
}

#[test]
fn bench_prints_one_json_object_with_the_documented_fields() {
    for (loss, shape, dims) in [
        ("stream", "2,1,8,8", vec![2, 1, 8, 8]),
        ("stream-index", "2,3,4,4,4", vec![2, 3, 4, 4, 4]),
    ] {
        for threads in ["1", "2"] {
            let v = bench_json(&[
                "--loss",
                loss,
                "--shape",
                shape,
                "--reps",
                "3",
                "--threads",
                threads,
            ]);
            assert_eq!(v["loss"], loss);
            assert_eq!(v["shape"], serde_json::json!(dims));
            assert_eq!(v["threads"].to_string(), threads);
            assert_eq!(v["reps"], 3);
            assert_eq!(v["idle_us"], 0);
            assert_eq!(v["pinned"], false);
            let median = v["median_ms"].as_f64().expect("median_ms is a number");
            let min = v["min_ms"].as_f64().expect("min_ms is a number");
            assert!(min > 0.0 && min <= median, "min {min}, median {median}");
            assert!(v["gelem_per_s"].as_f64().is_some_and(|g| g > 0.0));
        }
    }
}

/// The kernel names `segloss bench --help` lists.
fn listed_kernels() -> Vec<String> {
    let out = segloss()
        .args(["bench", "--help"])
        .output()
        .expect("segloss runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    // The possible values of --loss (the first list), up to the next option.
    let section = help
        .split("Possible values:")
        .nth(1)
        .and_then(|rest| rest.split("--shape").next())
        .expect("--loss is documented")
        .to_owned();
    section
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split(':').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bench_help_lists_the_loss_names() {
    let names = listed_kernels();
    for name in [
        "stream",
        "stream-index",
        "focal",
        "dice-focal",
        "dice-ce",
        "dice-focal-softmax",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
}

#[test]
fn every_listed_kernel_runs_and_reports_a_finite_loss() {
    let names = listed_kernels();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let v = bench_json(&["--loss", name, "--shape", "2,3,5,7", "--reps", "1"]);
        assert_eq!(v["loss"], name.as_str());
        if name.starts_with("stream") {
            assert!(v["value"].is_null(), "{name}: {v}");
        } else {
            let value = v["value"].as_f64().expect("a loss value");
            assert!(value.is_finite() && value >= 0.0, "{name}: {value}");
        }
    }
}

#[test]
fn bench_rejects_bad_arguments_as_usage_errors() {
    for args in [
        &["--loss", "stream", "--shape", "2,1"][..],
        &["--loss", "stream", "--shape", "2,0,4"],
        &["--loss", "stream", "--shape", "2,x,4"],
        &["--loss", "no-such-loss", "--shape", "2,1,4"],
        &["--loss", "stream", "--shape", "2,1,4", "--threads", "0"],
        &["--loss", "stream-index", "--shape", "2,1,4"],
        &["--loss", "stream", "--shape", "2,1,4", "--idle-us", "-1"],
        &[
            "--loss",
            "stream",
            "--shape",
            "2,1,4",
            "--idle-us",
            "10000001",
        ],
        &[
            "--loss",
            "dice",
            "--shape",
            "2,1,4",
            "--impl",
            "burn-fused",
            "--idle-us",
            "10",
        ],
    ] {
        let out = segloss()
            .arg("bench")
            .args(args)
            .output()
            .expect("segloss runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed a result");
        assert!(!out.stderr.is_empty(), "{args:?} said nothing");
    }
}

/// The possible values of `--impl` that `segloss bench --help` lists.
fn listed_impls() -> Vec<String> {
    let out = segloss()
        .args(["bench", "--help"])
        .output()
        .expect("segloss runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let section = help
        .split("--impl <IMP>")
        .nth(1)
        .and_then(|rest| rest.split("Possible values:").nth(1))
        .and_then(|rest| rest.split("\n  -").next())
        .expect("--impl is documented with its values")
        .to_owned();
    section
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split(':').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bench_help_lists_the_implementations_and_core_is_the_default() {
    assert_eq!(listed_impls(), ["core", "burn-fused", "burn-composed"]);
    let v = bench_json(&["--loss", "dice", "--shape", "2,1,4,4", "--reps", "1"]);
    assert_eq!(v["impl"], "core");
}

/// Every loss runs under every implementation on the same generated inputs, and the burn
/// losses (built from the same options as the core ones) give the core's value.
#[test]
fn burn_implementations_give_the_core_value_of_every_listed_loss() {
    for name in listed_kernels().iter().filter(|n| !n.starts_with("stream")) {
        let args = [
            "--loss", name, "--shape", "2,3,5,7", "--reps", "2", "--seed", "7",
        ];
        let core = bench_json(&args);
        let core_value = core["value"].as_f64().expect("a loss value");
        for imp in ["burn-fused", "burn-composed"] {
            let v = bench_json(&[&args[..], &["--impl", imp, "--threads", "2"]].concat());
            assert_eq!(v["impl"], imp);
            assert_eq!(v["loss"], name.as_str());
            assert_eq!(v["shape"], serde_json::json!([2, 3, 5, 7]));
            let median = v["median_ms"].as_f64().expect("median_ms is a number");
            let min = v["min_ms"].as_f64().expect("min_ms is a number");
            assert!(min > 0.0 && min <= median, "{name} {imp}: {v}");
            let value = v["value"].as_f64().expect("a loss value");
            // The burn value is stored as f32.
            assert!(
                (value - core_value).abs() <= 1e-5 * core_value.abs().max(1e-3),
                "{name} {imp}: {value} vs core {core_value}"
            );
        }
    }
}

#[test]
fn burn_implementations_reject_the_streaming_floors_as_usage_errors() {
    for imp in ["burn-fused", "burn-composed"] {
        let out = segloss()
            .args([
                "bench", "--loss", "stream", "--shape", "2,1,4", "--impl", imp,
            ])
            .output()
            .expect("segloss runs");
        assert_eq!(out.status.code(), Some(2), "{imp}");
        assert!(out.stdout.is_empty(), "{imp} printed a result");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--impl"), "{imp}: {stderr}");
    }
}

#[test]
fn bench_idles_before_each_call_without_timing_the_idle() {
    let reps = 4u32;
    let idle_us = 50_000u32;
    let start = std::time::Instant::now();
    let v = bench_json(&[
        "--loss",
        "focal",
        "--shape",
        "1,1,8,8",
        "--reps",
        &reps.to_string(),
        "--threads",
        "2",
        "--idle-us",
        &idle_us.to_string(),
    ]);
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(v["idle_us"], idle_us);
    // Warm-up plus timed calls each slept first; none of it is in the timings.
    let slept = f64::from((reps + 1) * idle_us) * 1e-6;
    assert!(wall >= slept, "ran {wall} s, slept at least {slept} s");
    let median = v["median_ms"].as_f64().expect("median_ms is a number");
    assert!(
        median < f64::from(idle_us) * 1e-3,
        "the idle time leaked into the timing: median {median} ms"
    );
    let plain = bench_json(&["--loss", "focal", "--shape", "1,1,8,8", "--reps", "1"]);
    assert_eq!(v["value"], plain["value"], "the idle time changed the loss");
}

#[cfg(target_os = "linux")]
#[test]
fn bench_pins_its_threads_and_computes_the_same_loss() {
    let args = [
        "--loss",
        "dice-focal",
        "--shape",
        "2,1,16,16",
        "--reps",
        "2",
    ];
    let pinned = bench_json(&[&args[..], &["--threads", "2", "--pin-threads"]].concat());
    assert_eq!(pinned["pinned"], true);
    assert_eq!(pinned["threads"], 2);
    let plain = bench_json(&args);
    assert_eq!(plain["pinned"], false);
    assert_eq!(pinned["value"], plain["value"], "pinning changed the loss");
}

#[cfg(not(target_os = "linux"))]
#[test]
fn bench_refuses_to_pin_off_linux() {
    let out = segloss()
        .args([
            "bench",
            "--loss",
            "focal",
            "--shape",
            "1,1,8,8",
            "--pin-threads",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Linux only"));
}
