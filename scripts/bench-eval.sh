#!/usr/bin/env bash
# Times `segloss eval` against decoding alone and against the Python loop (PIL + numpy,
# multiprocessing), side by side on one generated workload.
#
#   scripts/bench-eval.sh [WORKDIR=target/bench-eval] [PAIRS=200] [SIZE=1024] [JOBS=2]
#
# Generates PAIRS pairs of SIZE x SIZE binary 8-bit PNG masks once (cargo example
# `gen_masks`), then runs each contender REPEAT times (default 5, interleaved) and reports
# the best wall-clock and CPU times of each and the two ratios the issue sets targets for:
#   eval / decode-only  <= 1.3      python / eval  >= 3
# Needs python3 with pillow and numpy for the Python column (pip install pillow numpy).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/bench-eval}
pairs=${2:-200}
size=${3:-1024}
jobs=${4:-2}
repeat=${REPEAT:-5}

cargo build --release -q -p segloss-cli --bin segloss --example gen_masks
bin=target/release/segloss
if [ ! -f "$work/.done-$pairs-$size" ]; then
    rm -rf "$work"
    target/release/examples/gen_masks "$work" "$pairs" "$size"
    touch "$work/.done-$pairs-$size"
fi

# Interleaved rounds: each round runs every contender once, so load changes on a shared
# machine hit all of them alike. Reports the minimum wall time and the minimum CPU time
# (user + sys of the process and its children, less sensitive to other load).
python3 - "$work" "$repeat" "$jobs" "$pairs" "$size" "$bin" <<'PY'
import json, os, resource, subprocess, sys, time
work, repeat, jobs, pairs, size, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
pred, truth = f"{work}/pred", f"{work}/truth"
try:
    import PIL, numpy  # noqa: F401
    have_py = True
except ImportError:
    have_py = False
    print("python3 with pillow+numpy not found: Python column skipped", file=sys.stderr)
py = [sys.executable, "scripts/eval_python_baseline.py", "--pred", pred, "--truth", truth, "--workers", jobs]
contenders = {
    "segloss eval --decode-only": [binary, "eval", "--pred", pred, "--truth", truth, "--jobs", jobs, "--decode-only"],
    "segloss eval": [binary, "eval", "--pred", pred, "--truth", truth, "--jobs", jobs, "--format", "json"],
}
if have_py:
    contenders["python PIL decode only"] = py + ["--decode-only"]
    contenders["python PIL+numpy counts"] = py
wall = {k: [] for k in contenders}
cpu = {k: [] for k in contenders}
outputs = {}
for _ in range(repeat):
    for name, cmd in contenders.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        t1 = time.perf_counter()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall[name].append(t1 - t0)
        cpu[name].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        outputs[name] = out
if have_py:
    r = json.loads(outputs["segloss eval"])["classes"][0]
    p = json.loads(outputs["python PIL+numpy counts"])
    assert (r["tp"], r["fp"], r["fn"], r["tn"]) == (p["tp"], p["fp"], p["fn"], p["tn"]), (r, p)
    print("counts agree:", {k: p[k] for k in ("tp", "fp", "fn", "tn")})
mpx = pairs * size * size * 2 / 1e6
print(f"workload: {pairs} pairs of {size}x{size} binary PNG, {jobs} jobs, {repeat} interleaved rounds")
print(f"  {'':28} {'wall min':>9} {'wall med':>9} {'cpu min':>9}")
for name in contenders:
    w = sorted(wall[name]); c = min(cpu[name])
    print(f"  {name:28} {w[0]:8.3f}s {w[len(w)//2]:8.3f}s {c:8.3f}s")
def ratio(a, b, what):
    return f"{min(wall[a])/min(wall[b]):.3f} wall, {min(cpu[a])/min(cpu[b]):.3f} cpu"
print(f"eval / decode-only = {ratio('segloss eval', 'segloss eval --decode-only', '')}   (target <= 1.3)")
if have_py:
    print(f"python / eval      = {ratio('python PIL+numpy counts', 'segloss eval', '')}   (target >= 3)")
PY
