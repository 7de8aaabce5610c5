#!/usr/bin/env bash
# Interleaved A/B timing of two `segloss` builds: is a kernel change faster, on a shared host?
#
#   scripts/ab-bench.sh BASE_BIN NEW_BIN LOSS [LOSS...]
#   ROUNDS=8 SHAPE=2,4,96,96,96 THREADS=1 REPS=15 scripts/ab-bench.sh base new dice-ce ce
#
# Build the two binaries first (for example `git stash; cargo build --release -p segloss-cli;
# cp target/release/segloss /tmp/segloss-base; git stash pop`, then the same for the new one).
# Each round times every loss once with each binary, base then new, so a burst of load on the
# host lands on both sides of one round rather than on one side. For each loss the table gives
# the median over rounds of each side's fastest call and median call, and the median over
# rounds of the per-round speed-up (base time / new time: above 1 means the new build is
# faster). On the 2-core development VM a single run's speed-up moves by ±10% between
# invocations; trust a change that holds in several rounds and in both columns.
# Defaults: ROUNDS=6, SHAPE=8,1,512,512, THREADS=1, REPS=15.
set -euo pipefail

if (($# < 3)); then
    echo "usage: $0 BASE_BIN NEW_BIN LOSS [LOSS...]   (env: ROUNDS, SHAPE, THREADS, REPS)" >&2
    exit 1
fi
base=$1
new=$2
shift 2
rounds=${ROUNDS:-6}
shape=${SHAPE:-8,1,512,512}
threads=${THREADS:-1}
reps=${REPS:-15}
for bin in "$base" "$new"; do
    [[ -x $bin ]] || { echo "error: $bin is not an executable file" >&2; exit 1; }
done
[[ $rounds =~ ^[1-9][0-9]*$ && $reps =~ ^[1-9][0-9]*$ ]] || {
    echo "error: ROUNDS and REPS must be positive integers (got ROUNDS=$rounds REPS=$reps)" >&2
    exit 1
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= rounds; r++)); do
    for loss in "$@"; do
        for side in base new; do
            if [[ $side == base ]]; then bin=$base; else bin=$new; fi
            json=$("$bin" bench --loss "$loss" --shape "$shape" --threads "$threads" \
                --reps "$reps" --format json)
            echo "$r $side $loss $json" >>"$out"
        done
    done
    echo "round $r of $rounds done" >&2
done

python3 - "$out" <<'PY'
import collections, json, statistics as st, sys

runs = collections.defaultdict(dict)  # loss -> round -> side -> (median_ms, min_ms)
for line in open(sys.argv[1]):
    r, side, loss, js = line.split(" ", 3)
    j = json.loads(js)
    runs[loss].setdefault(r, {})[side] = (j["median_ms"], j["min_ms"])

print("| loss | base min ms | new min ms | speed-up (min) | base median ms | new median ms | speed-up (median) |")
print("|---|---|---|---|---|---|---|")
for loss, rounds in runs.items():
    rs = list(rounds.values())
    med = lambda side, k: st.median(v[side][k] for v in rs)
    up = lambda k: st.median(v["base"][k] / v["new"][k] for v in rs)
    print(f"| {loss} | {med('base', 1):.2f} | {med('new', 1):.2f} | {up(1):.2f}x "
          f"| {med('base', 0):.2f} | {med('new', 0):.2f} | {up(0):.2f}x |")
PY
