#!/usr/bin/env bash
# Times `segloss eval` against decoding alone and against the Python loop (PIL + numpy,
# multiprocessing), side by side on one generated workload.
#
#   scripts/bench-eval.sh [WORKDIR=target/bench-eval] [PAIRS=200] [SIZE=1024] [JOBS=2]
#
# Generates PAIRS pairs of SIZE x SIZE binary 8-bit PNG masks once (cargo example
# `gen_masks`), then runs each contender REPEAT times (default 3) and reports the best
# wall-clock time of each and the two ratios the issue sets targets for:
#   eval / decode-only  <= 1.3      python / eval  >= 3
# Needs python3 with pillow and numpy for the Python column (pip install pillow numpy).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/bench-eval}
pairs=${2:-200}
size=${3:-1024}
jobs=${4:-2}
repeat=${REPEAT:-3}

cargo build --release -q -p segloss-cli --bin segloss --example gen_masks
bin=target/release/segloss
if [ ! -f "$work/.done-$pairs-$size" ]; then
    rm -rf "$work"
    target/release/examples/gen_masks "$work" "$pairs" "$size"
    touch "$work/.done-$pairs-$size"
fi

best() { # best wall time in seconds of "$@" over $repeat runs; output of the last run in $work/last.out
    local best_t=""
    for _ in $(seq "$repeat"); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" >"$work/last.out" 2>"$work/last.err"
        t1=$(date +%s.%N)
        best_t=$(python3 -c "t=$t1-$t0; b='$best_t'; print(t if not b else min(t, float(b)))")
    done
    echo "$best_t"
}

decode=$(best "$bin" eval --pred "$work/pred" --truth "$work/truth" --jobs "$jobs" --decode-only)
evalt=$(best "$bin" eval --pred "$work/pred" --truth "$work/truth" --jobs "$jobs" --format json)
cp "$work/last.out" "$work/segloss.json"
py="" pydec=""
if python3 -c "import PIL, numpy" 2>/dev/null; then
    pydec=$(best python3 scripts/eval_python_baseline.py --pred "$work/pred" --truth "$work/truth" --workers "$jobs" --decode-only)
    py=$(best python3 scripts/eval_python_baseline.py --pred "$work/pred" --truth "$work/truth" --workers "$jobs")
    cp "$work/last.out" "$work/python.json"
    # Both tools must agree on the counts.
    python3 - "$work/segloss.json" "$work/python.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["classes"][0]
p = json.load(open(sys.argv[2]))
assert (r["tp"], r["fp"], r["fn"], r["tn"]) == (p["tp"], p["fp"], p["fn"], p["tn"]), (r, p)
print("counts agree:", {k: p[k] for k in ("tp", "fp", "fn", "tn")})
PY
else
    echo "python3 with pillow+numpy not found: Python column skipped" >&2
fi

python3 - "$pairs" "$size" "$jobs" "$decode" "$evalt" "$pydec" "$py" <<'PY'
import sys
pairs, size, jobs = sys.argv[1:4]
dec, ev = float(sys.argv[4]), float(sys.argv[5])
pydec = float(sys.argv[6]) if sys.argv[6] else None
py = float(sys.argv[7]) if sys.argv[7] else None
mpx = int(pairs) * int(size) ** 2 * 2 / 1e6
print(f"workload: {pairs} pairs of {size}x{size} binary PNG, {jobs} jobs (best of runs, wall clock)")
print(f"  segloss eval --decode-only   {dec:8.3f} s   {mpx/dec:8.1f} Mpx/s decoded")
print(f"  segloss eval                 {ev:8.3f} s   {mpx/ev:8.1f} Mpx/s")
if py is not None:
    print(f"  python PIL decode only       {pydec:8.3f} s")
    print(f"  python PIL+numpy counts      {py:8.3f} s")
print(f"eval / decode-only = {ev/dec:.3f}   (target <= 1.3)")
if py is not None:
    print(f"python / eval      = {py/ev:.2f}    (target >= 3)")
PY
