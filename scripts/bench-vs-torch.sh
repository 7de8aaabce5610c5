#!/usr/bin/env bash
# Side-by-side timing of segloss and the PyTorch ecosystem (forward + backward, CPU), in one
# run, as a markdown table with ratios and the targets of issue 3.
#
#   scripts/bench-vs-torch.sh            # needs: cargo, python3 with torch, torchvision, monai
#   REPS=20 scripts/bench-vs-torch.sh    # more repetitions (default 10)
#   ROUNDS=5 scripts/bench-vs-torch.sh   # repeat the whole comparison 5 times (default 1)
#   TORCH_REFERENCE=path/to/torch_reference.py scripts/bench-vs-torch.sh
#
# Every figure is the median over REPS calls after one warm-up (segloss bench, and
# shared/bench/torch_reference.py with the same shapes, seeds aside); a second table gives
# the same comparison by each side's fastest call. PyTorch runs on one
# thread; segloss on 1 and 2 threads; "floor" is segloss bench's streaming pass (read logits
# and targets, write one f32 per logit) at the same shape and thread count.
# With ROUNDS > 1 every case is timed once per round, the rounds interleaved (PyTorch, then
# ours, case after case), so a burst of load on a shared host lands in one round rather than
# on one side. Each ratio is then computed within its round, the table gives the median over
# the rounds (each time column: the median of the rounds' medians), and each target says in
# how many rounds it was met.
# On Linux a third segloss column runs 2 threads with --pin-threads (each pool thread on its
# own CPU; on small VMs the scheduler can stack both threads on one CPU, see
# docs/kernel-performance.md), and "1t/2t pin" is its speed-up over one thread.
# Exit status: 0 when every case ran (targets missed are reported, not fatal), 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
reference=${TORCH_REFERENCE:-$root/../shared/bench/torch_reference.py}
reps=${REPS:-10}
rounds=${ROUNDS:-1}
[[ $reps =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || {
    echo "error: REPS and ROUNDS must be positive integers (got REPS=$reps ROUNDS=$rounds)" >&2
    exit 1
}
[[ -f $reference ]] || { echo "error: $reference not found (set TORCH_REFERENCE)" >&2; exit 1; }
python3 -c 'import torch, torchvision, monai' 2>/dev/null || {
    echo "error: python3 cannot import torch, torchvision and monai" >&2
    echo "       pip install torch torchvision monai segmentation-models-pytorch" >&2
    exit 1
}

echo "building segloss (release)..." >&2
cargo build --release --quiet -p segloss-cli --manifest-path "$root/Cargo.toml"
segloss=$root/target/release/segloss

results=$(mktemp)
trap 'rm -f "$results"' EXIT

# record ROW COLUMN COMMAND...: runs COMMAND (which prints one JSON object) and appends
# {"round", "row", "col", "data"} to the results, or {"round", "row", "col", "error"} if it
# fails.
record() {
    local row=$1 col=$2
    shift 2
    echo "  [$round/$rounds] $row / $col: $*" >&2
    local out
    if out=$("$@" 2>&1 | tail -n 1) && [[ $out == \{* ]]; then
        printf '{"round": %d, "row": "%s", "col": "%s", "data": %s}\n' \
            "$round" "$row" "$col" "$out" >>"$results"
    else
        printf '{"round": %d, "row": "%s", "col": "%s", "error": %s}\n' "$round" "$row" "$col" \
            "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$out")" >>"$results"
    fi
}

# row LABEL OUR_LOSS FLOOR SHAPE TORCH_CASE
row() {
    local label=$1 ours=$2 floor=$3 shape=$4 torch=$5
    record "$label" torch python3 "$reference" "$torch" --shape "$shape" --threads 1 \
        --reps "$reps" --format json
    for t in 1 2; do
        record "$label" "floor$t" "$segloss" bench --loss "$floor" --shape "$shape" \
            --threads "$t" --reps "$reps" --format json
        record "$label" "ours$t" "$segloss" bench --loss "$ours" --shape "$shape" \
            --threads "$t" --reps "$reps" --format json
    done
    if [[ $(uname -s) == Linux ]]; then
        record "$label" ours2p "$segloss" bench --loss "$ours" --shape "$shape" \
            --threads 2 --pin-threads --reps "$reps" --format json
    fi
}

echo "timing (REPS=$reps, ROUNDS=$rounds)..." >&2
for round in $(seq "$rounds"); do
    row "binary focal (vs torchvision sigmoid_focal_loss)" focal stream 8,1,512,512 tv_focal
    row "binary Dice+focal (vs MONAI DiceFocalLoss)" dice-focal stream 8,1,512,512 monai_dicefocal
    row "multi-class Dice+CE (vs MONAI DiceCELoss)" dice-ce stream-index 2,4,96,96,96 \
        monai_dicece_mc
    row "multi-class Dice+focal (vs MONAI DiceFocalLoss)" dice-focal-softmax stream-index \
        2,4,96,96,96 monai_dicefocal_mc
done

python3 - "$results" "$rounds" <<'PY'
import json, statistics, sys

# rounds[row][round][(stat, col)] = ms, stat "median" or "min"; shapes[row] = shape.
rounds, shapes, errors = {}, {}, []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "error" in r:
        errors.append(f"round {r['round']}, {r['row']} / {r['col']}: {r['error']}")
        continue
    shapes[r["row"]] = r["data"]["shape"]
    cell = rounds.setdefault(r["row"], {}).setdefault(r["round"], {})
    for stat in ("median", "min"):
        cell[(stat, r["col"])] = r["data"][f"{stat}_ms"]
    cell[("median", r["col"] + "_cpu")] = r["data"].get("cpu_median_ms")
n_rounds = int(sys.argv[2])

# (minimum speed-up over PyTorch, maximum ratio to the floor or None) per row.
targets = {
    "binary focal": (20, 3),
    "binary Dice+focal": (20, None),
    "multi-class Dice+CE": (10, None),
    "multi-class Dice+focal": (10, None),
}

def fmt(v, unit=""):
    return "n/a" if v is None else f"{v:.2f}{unit}"

def ratio(a, b):
    return None if a is None or b is None else a / b

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def met(values, ok):
    """'✓' or '✗' for one round; 'k/R' rounds met for several."""
    hits = sum(1 for v in values if v is not None and ok(v))
    if n_rounds == 1:
        return "✓" if hits else "✗"
    return f"{hits}/{n_rounds}"

def table(stat):
    """The table of one statistic of each side's calls ("median" or "min")."""
    for name, by_round in rounds.items():
        rs = [{col: v for (st, col), v in r.items() if st == stat} for r in by_round.values()]
        col = lambda c: median(r.get(c) for r in rs)
        speeds = [ratio(r.get("torch"), r.get("ours1")) for r in rs]
        floors = [ratio(r.get("ours1"), r.get("floor1")) for r in rs]
        floors_cpu = [ratio(r.get("ours1_cpu"), r.get("floor1_cpu")) for r in rs]
        scales = [ratio(r.get("ours1"), r.get("ours2")) for r in rs]
        pinned = [ratio(r.get("ours1"), r.get("ours2p")) for r in rs]
        key = next((k for k in targets if name.startswith(k)), None)
        checks = []
        if key:
            min_speed, max_floor = targets[key]
            checks.append(f"≥{min_speed}× PyTorch {met(speeds, lambda v: v >= min_speed)}")
            if max_floor:
                checks.append(f"≤{max_floor}× floor {met(floors, lambda v: v <= max_floor)}")
        checks.append(f"2t ≥1.7× {met(scales, lambda v: v >= 1.7)}")
        if any(v is not None for v in pinned):
            checks.append(f"2t pin ≥1.7× {met(pinned, lambda v: v >= 1.7)}")
        shape = "×".join(map(str, shapes[name]))
        cpu = f" ({fmt(median(floors_cpu), '×')})" if stat == "median" else ""
        print(f"| {name} | {shape} | {fmt(col('torch'))} | {fmt(col('floor1'))} "
              f"| {fmt(col('ours1'))} | {fmt(col('ours2'))} | {fmt(col('ours2p'))} "
              f"| {fmt(col('floor2'))} "
              f"| {fmt(median(speeds), '×')} | {fmt(median(floors), '×')}{cpu} "
              f"| {fmt(median(scales), '×')} | {fmt(median(pinned), '×')} "
              f"| {', '.join(checks)} |")

over = "" if n_rounds == 1 else f", median over {n_rounds} interleaved rounds"
within = ("" if n_rounds == 1 else " Each ratio is taken within a round, then the median over "
          "rounds; the targets give the rounds that met them.")
print(f"Median of each side's calls{over}: wall time per forward+backward call, in ms; "
      f"CPU = process CPU time of the same calls.{within}\n")
print("| case | shape | PyTorch 1t | floor 1t | ours 1t | ours 2t | ours 2t pin | floor 2t "
      "| PyTorch/ours 1t | ours/floor 1t (CPU) | 1t/2t | 1t/2t pin | targets |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
table("median")
# On a shared host a burst of load slows some calls; each side's fastest call is its
# speed with the least interference, so the same table by minimum shows the code apart
# from the host (both sides measured alike).
print(f"\nMinimum of each side's calls{over} (the same runs).{within}\n")
print("| case | shape | PyTorch 1t | floor 1t | ours 1t | ours 2t | ours 2t pin | floor 2t "
      "| PyTorch/ours 1t | ours/floor 1t | 1t/2t | 1t/2t pin | targets |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
table("min")
if errors:
    print("\nFailed runs:")
    for e in errors:
        print(f"- {e}")
    sys.exit(1)
PY
