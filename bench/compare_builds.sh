#!/usr/bin/env bash
# Before/after check of a change to the core: runs two builds of shmbus-ipc-bench (say, the
# base revision's and the working tree's) alternately, ROUNDS times each, and prints per round
# shmbus's busy-spin p50 ratio to the floor (spsc-ring) and its 64-byte throughput ratio to the
# floor, measured in the same invocation, then the median of each per build. Alternating
# puts each "before" run next to an "after" run, so the VM's vCPU placement, which moves the
# floor itself by 2-4x (bench/README.md), affects both alike; judge on the ratios.
#   bench/compare_builds.sh BEFORE_BIN AFTER_BIN
# Environment: ROUNDS (6), LATENCY_MESSAGES (100000), THROUGHPUT_MESSAGES (10000000).
# Build each side with run_comparison.sh's flags (Release, -O2 -DNDEBUG), e.g. for the base:
#   git archive REV | tar -x -C /tmp/base && cmake -S /tmp/base -B /tmp/base/build-bench \
#     -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DSHMBUS_BUILD_BENCH=ON \
#     -DSHMBUS_BUILD_TESTS=OFF -DSHMBUS_BUILD_AGENTS=OFF && cmake --build ... --target shmbus-ipc-bench
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 BEFORE_BIN AFTER_BIN" >&2; exit 2; }
command -v jq >/dev/null || { echo "compare_builds.sh: jq is required" >&2; exit 2; }
ROUNDS="${ROUNDS:-6}"
LATENCY_MESSAGES="${LATENCY_MESSAGES:-100000}"
THROUGHPUT_MESSAGES="${THROUGHPUT_MESSAGES:-10000000}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# run NAME BIN ROUND: one latency and one throughput invocation; appends "name p50 tput" rows.
run() {
  local name=$1 bin=$2 round=$3 lat thr p50 mps
  "$bin" --transport shmbus-spin,spsc-ring --mode latency --runs 1 \
    --messages "$LATENCY_MESSAGES" --json-file "$TMP/lat.json" >/dev/null 2>&1
  "$bin" --transport shmbus-spin,spsc-ring --mode throughput --runs 1 --payload 64 \
    --throughput-messages "$THROUGHPUT_MESSAGES" --json-file "$TMP/thr.json" >/dev/null 2>&1
  lat=$(jq -r '.results[] | select(.transport=="shmbus-spin") | .ratio_to_floor.p50_ns' "$TMP/lat.json")
  p50=$(jq -r '.results[] | select(.transport=="shmbus-spin") | .median.p50_ns' "$TMP/lat.json")
  thr=$(jq -r '.results[] | select(.transport=="shmbus-spin") | .ratio_to_floor.messages_per_s' \
    "$TMP/thr.json")
  mps=$(jq -r '.results[] | select(.transport=="shmbus-spin") | .median.messages_per_s / 1e6' \
    "$TMP/thr.json")
  printf '%s %s %.3f %.3f %.0f %.2f\n' "$round" "$name" "$lat" "$thr" "$p50" "$mps" |
    tee -a "$TMP/rows"
}

echo "round build p50_ratio throughput_ratio shmbus_p50_ns shmbus_M_per_s"
for r in $(seq "$ROUNDS"); do
  run before "$1" "$r"
  run after "$2" "$r"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for b in before after; do
  p=$(awk -v b=$b '$2==b {print $3}' "$TMP/rows" | median)
  t=$(awk -v b=$b '$2==b {print $4}' "$TMP/rows" | median)
  pn=$(awk -v b=$b '$2==b {print $5}' "$TMP/rows" | median)
  m=$(awk -v b=$b '$2==b {print $6}' "$TMP/rows" | median)
  echo "median $b: busy-spin p50 ${p}x the floor (${pn} ns), 64-B throughput ${t}x the floor" \
    "(${m} M/s)"
done
