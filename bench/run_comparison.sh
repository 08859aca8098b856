#!/usr/bin/env bash
# Builds the benchmarks in Release (-O2) in their own build directory, runs every
# transport of shmbus-ipc-bench (--runs 3, latency and throughput), a wake-up-vs-idle-gap
# sweep of the futex peers, shmbus-scaling-bench (fan-out, producers, priority under
# load) and the Google Benchmark micro-benchmarks, and writes:
#   bench/results/latest.md     machine description, DESIGN.md's targets judged, tables
#   bench/results/latest.json   everything, per run (the harnesses' JSON + machine + sweep)
#   bench/results/latency.png   p50/p99/p99.9 per transport (gnuplot)
#   bench/results/throughput.png
#   bench/results/ratios.png    every transport as a ratio to the floor (bench/plot_ratios.sh)
# and replaces the generated block of bench/README.md with latest.md.
#
# Environment: BUILD_DIR (default <repo>/build-bench), RUNS (3), MESSAGES (1000000, per
# latency run), THROUGHPUT_MESSAGES (10000000, per throughput run), GAP_US (10),
# SWEEP_MESSAGES (100000, 0 skips the sweep), SCALING_MESSAGES (1000000, 0 skips the
# scaling runs), MICRO (1, 0 skips the micro-benchmarks), EXTRA_ARGS (passed to
# shmbus-ipc-bench), IDLE_MAX_BUSY (5) and IDLE_WAIT_S (600): other work on the cores
# shows up in the tails, so it first waits up to IDLE_WAIT_S for the machine to be at
# most IDLE_MAX_BUSY % busy, and records how busy it was before and after.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
RUNS="${RUNS:-3}"
MESSAGES="${MESSAGES:-1000000}"
THROUGHPUT_MESSAGES="${THROUGHPUT_MESSAGES:-10000000}"
SCALING_MESSAGES="${SCALING_MESSAGES:-1000000}"
PAIRED_RUNS="${PAIRED_RUNS:-15}"
PAIRED_MESSAGES="${PAIRED_MESSAGES:-100000}"
MICRO="${MICRO:-1}"
GAP_US="${GAP_US:-10}"
SWEEP_MESSAGES="${SWEEP_MESSAGES:-100000}"
SWEEP_GAPS_US=(0 2 5 10 20 50 100)
EXTRA_ARGS="${EXTRA_ARGS:-}"
IDLE_MAX_BUSY="${IDLE_MAX_BUSY:-5}"  # % CPU busy with other work that counts as idle
IDLE_WAIT_S="${IDLE_WAIT_S:-600}"    # how long to wait for that before measuring anyway
OUT="$ROOT/bench/results"
README="$ROOT/bench/README.md"

for tool in cmake jq gnuplot lscpu; do
  command -v "$tool" >/dev/null || { echo "run_comparison.sh: $tool is required" >&2; exit 2; }
done
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# ---- build (Release, -O2 for everything, no sanitizers) -------------------------------
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
common=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DSHMBUS_SANITIZE=)
if [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then generator=(); fi  # keep the existing generator
if cmake -S "$ROOT" -B "$BUILD_DIR" "${generator[@]}" "${common[@]}" -DSHMBUS_BUILD_BENCH=ON \
     -DSHMBUS_BUILD_TESTS=OFF -DSHMBUS_BUILD_AGENTS=OFF -DSHMBUS_INSTALL=OFF >"$TMP/configure.log" 2>&1 &&
   cmake --build "$BUILD_DIR" --target shmbus-ipc-bench shmbus-scaling-bench publish_bench \
     barrier_bench -j "$(nproc)" >"$TMP/build.log" 2>&1; then
  BIN="$BUILD_DIR/bench/shmbus-ipc-bench"
  SCALING_BIN="$BUILD_DIR/bench/shmbus-scaling-bench"
  MICRO_BINS=("$BUILD_DIR/bench/publish_bench" "$BUILD_DIR/bench/barrier_bench")
  build_note="built from the top-level project"
else
  echo "run_comparison.sh: the top-level project did not configure or build" \
       "(see below); building bench/ standalone, peers only" >&2
  tail -n 20 "$TMP/configure.log" "$TMP/build.log" 2>/dev/null >&2 || true
  STANDALONE="$BUILD_DIR/bench-only"
  sa_generator=()
  [[ -f "$STANDALONE/CMakeCache.txt" ]] || { command -v ninja >/dev/null && sa_generator=(-G Ninja); }
  cmake -S "$ROOT/bench" -B "$STANDALONE" "${sa_generator[@]}" "${common[@]}" >/dev/null
  cmake --build "$STANDALONE" --target shmbus-ipc-bench -j "$(nproc)" >/dev/null
  BIN="$STANDALONE/shmbus-ipc-bench"
  SCALING_BIN=""
  MICRO_BINS=()
  build_note="built from bench/ standalone (the library did not build): peers only"
fi
echo "harness: $BIN ($build_note)"

# ---- wait for an idle machine -------------------------------------------------------------
# Percentage of CPU time used by anything over a 2-second window (/proc/stat).
cpu_busy_percent() {
  local a b
  a=($(head -n1 /proc/stat)); sleep 2; b=($(head -n1 /proc/stat))
  local total=0 idle i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  idle=$(( (b[4] - a[4]) + (b[5] - a[5]) ))
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
# Idle means three 2-second samples in a row at most IDLE_MAX_BUSY % busy (builds and
# test suites come in bursts, one quiet sample proves little).
busiest_of_three() {
  local worst=0 b _
  for _ in 1 2 3; do b="$(cpu_busy_percent)"; ((b > worst)) && worst=$b; done
  echo "$worst"
}
busy_before="$(busiest_of_three)"
waited=0
while [[ "$busy_before" -gt "$IDLE_MAX_BUSY" && "$waited" -lt "$IDLE_WAIT_S" ]]; do
  echo "machine is up to ${busy_before}% busy with other work; waiting for it to go idle" \
       "(${waited}/${IDLE_WAIT_S} s)" >&2
  sleep 24; waited=$((waited + 30))
  busy_before="$(busiest_of_three)"
done
if [[ "$busy_before" -gt "$IDLE_MAX_BUSY" ]]; then
  echo "run_comparison.sh: measuring on a machine ${busy_before}% busy with other work:" \
       "expect noisy tails (recorded in the report)" >&2
fi

# ---- machine ------------------------------------------------------------------------
cpu_model="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
hypervisor="$(lscpu | sed -n 's/^Hypervisor vendor:[[:space:]]*//p' | head -n1)"
cpus="$(nproc)"
kernel="$(uname -sr)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
revision="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null || true)" ]]; then revision+=" (with uncommitted changes)"; fi
echo "$cpu_model, $cpus CPUs, $kernel, load average $load_before"

# ---- the comparison -------------------------------------------------------------------
status=0
# shellcheck disable=SC2086
"$BIN" --transport all --mode all --runs "$RUNS" --messages "$MESSAGES" \
  --throughput-messages "$THROUGHPUT_MESSAGES" --gap-us "$GAP_US" \
  --json-file "$TMP/main.json" --markdown "$TMP/tables.md" --plot-dir "$TMP" $EXTRA_ARGS ||
  status=$?
if [[ $status -ne 0 && $status -ne 1 ]]; then
  echo "run_comparison.sh: the harness exited with $status" >&2
  exit "$status"
fi

# ---- paired latency: shmbus beside its reference in many short alternating runs ------------
# On a VM the two vCPUs move between near and far host cores (the cache-line bounce goes
# from 0.1 to 0.3 µs) every few seconds to minutes, so two 10-second runs can see different
# machines. Runs of a few hundred ms, alternating (runs are interleaved across transports),
# put each shmbus run next to its reference run; targets_table.sh judges latency on these.
echo 'null' >"$TMP/paired.json"
: >"$TMP/paired.md"
if [[ -n "$SCALING_BIN" && "$PAIRED_RUNS" -gt 0 ]]; then
  paired_ok=1
  for set in shmbus-spin,cache-line,spsc-ring shmbus-block,futex-wake; do
    "$BIN" --transport "$set" --mode latency --runs "$PAIRED_RUNS" --messages "$PAIRED_MESSAGES" \
      --gap-us "$GAP_US" --json-file "$TMP/paired.$set.json" \
      --markdown "$TMP/paired.$set.md" >/dev/null || paired_ok=0
  done
  if [[ $paired_ok -eq 1 ]]; then
    jq -s '.[0] as $a | .[1] as $b | $a | .results += $b.results' "$TMP/paired.shmbus-spin,cache-line,spsc-ring.json" \
      "$TMP/paired.shmbus-block,futex-wake.json" >"$TMP/paired.json" 2>/dev/null ||
      echo 'null' >"$TMP/paired.json"
    cat "$TMP/paired.shmbus-spin,cache-line,spsc-ring.md" "$TMP/paired.shmbus-block,futex-wake.md" \
      >"$TMP/paired.md"
  else
    echo "run_comparison.sh: a paired latency run failed; targets judged on the main runs" >&2
    status=1
  fi
fi

# ---- wake-up latency vs. idle gap (blocking peers) -----------------------------------------
echo '[]' >"$TMP/sweep.json"
if [[ "$SWEEP_MESSAGES" -gt 0 ]]; then
  for gap in "${SWEEP_GAPS_US[@]}"; do
    "$BIN" --transport futex-wake,spsc-futex,spsc-ring --mode latency --runs 1 \
      --messages "$SWEEP_MESSAGES" --gap-us "$gap" --json 2>/dev/null >"$TMP/gap.json" || true
    if jq --argjson gap "$gap" --slurpfile run "$TMP/gap.json" \
         '. + [ $run[0].results[] | {gap_us: $gap, transport, ok_runs, median} ]' \
         "$TMP/sweep.json" >"$TMP/sweep.next" 2>/dev/null; then
      mv "$TMP/sweep.next" "$TMP/sweep.json"
    else
      echo "run_comparison.sh: gap sweep at $gap µs produced no results" >&2
    fi
  done
fi
# ---- scaling: fan-out, several producers, CRITICAL under a LOW flood (shmbus only) ---------
echo '{}' >"$TMP/scaling.json"
: >"$TMP/scaling.md"
if [[ -n "$SCALING_BIN" && "$SCALING_MESSAGES" -gt 0 ]]; then
  scaling_status=0
  "$SCALING_BIN" --scenario all --runs "$RUNS" --messages "$SCALING_MESSAGES" \
    --json-file "$TMP/scaling.json" --markdown "$TMP/scaling.md" || scaling_status=$?
  if [[ $scaling_status -ne 0 ]]; then
    echo "run_comparison.sh: shmbus-scaling-bench exited with $scaling_status" >&2
    [[ $scaling_status -eq 1 ]] || exit "$scaling_status"
    status=1
  fi
fi

# ---- micro-benchmarks (Google Benchmark, one process) -------------------------------------
echo '[]' >"$TMP/micro.json"
if [[ "$MICRO" -ne 0 ]]; then
  for bin in "${MICRO_BINS[@]}"; do
    "$bin" --benchmark_format=json --benchmark_min_time=0.5 >"$TMP/one.json" 2>/dev/null ||
      { echo "run_comparison.sh: $bin failed" >&2; status=1; continue; }
    jq --arg bin "$(basename "$bin")" --slurpfile one "$TMP/one.json" \
       '. + [ $one[0].benchmarks[] | {binary: $bin, name, real_time, time_unit,
                                      items_per_second} ]' "$TMP/micro.json" >"$TMP/micro.next"
    mv "$TMP/micro.next" "$TMP/micro.json"
  done
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
busy_after="$(cpu_busy_percent)"

# ---- latest.json ------------------------------------------------------------------------
jq --arg model "$cpu_model" --arg hv "$hypervisor" --argjson nproc "$cpus" --arg kernel "$kernel" \
   --arg started "$started" --arg rev "$revision" --arg lb "$load_before" --arg la "$load_after" \
   --arg note "$build_note" --slurpfile sweep "$TMP/sweep.json" \
   --argjson bb "$busy_before" --argjson ba "$busy_after" \
   --slurpfile scaling "$TMP/scaling.json" --slurpfile micro "$TMP/micro.json" \
   --slurpfile paired "$TMP/paired.json" \
   '.machine.lscpu_model = $model | .machine.hypervisor = $hv | .machine.nproc = $nproc
    | .machine.uname = $kernel
    | .run = {started_utc: $started, revision: $rev, build: $note,
              load_average_before: $lb, load_average_after: $la,
              other_cpu_busy_percent_before: $bb, other_cpu_busy_percent_after: $ba}
    | .gap_sweep = {messages: '"$SWEEP_MESSAGES"', results: $sweep[0]}
    | .scaling = $scaling[0] | .micro = $micro[0]
    | if $paired[0] != null then .paired = $paired[0] else . end' \
   "$TMP/main.json" >"$OUT/latest.json"

# ---- latest.md --------------------------------------------------------------------------
# Formats nanoseconds (or null) read on stdin as the harness does: "7.65 µs", "57.5 µs", "1.05 ms".
us() {
  jq -r 'def fixed(d): (. * pow(10; d) | round) as $n | ($n | tostring) as $s
           | if d == 0 then $s
             else ($s | length) as $l | (if $l <= d then ("0" * (d - $l + 1)) + $s else $s end)
                  | .[0:length - d] + "." + .[length - d:] end;
         if . == null then "—"
         else (. / 1000) as $us
           | if $us < 10 then ($us | fixed(2)) + " µs"
             elif $us < 100 then ($us | fixed(1)) + " µs"
             elif $us < 1000 then ($us | fixed(0)) + " µs"
             else ($us / 1000 | fixed(2)) + " ms" end end'
}
{
  echo "## Cross-process comparison (generated by bench/run_comparison.sh)"
  echo
  echo "- Machine: $cpu_model${hypervisor:+ ($hypervisor guest)}, $cpus CPUs (nproc), $kernel"
  echo "- Run: $started, revision $revision; $build_note; load average before $load_before, after $load_after; CPU busy with other work before ${busy_before}%, after ${busy_after}%"
  echo "- Harness: \`shmbus-ipc-bench --transport all --mode all --runs $RUNS --messages $MESSAGES --throughput-messages $THROUGHPUT_MESSAGES --gap-us $GAP_US\`"
  echo
  echo "### DESIGN.md's targets, judged on this run"
  echo
  "$ROOT/bench/targets_table.sh" "$OUT/latest.json"
  echo
  if [[ -s "$TMP/paired.md" ]]; then
    echo "Latency targets are judged on $PAIRED_RUNS short alternating runs of $PAIRED_MESSAGES messages"
    echo "(tables at the end of this section); throughput on the main runs below."
    echo
  fi
  cat "$TMP/tables.md"
  if [[ "$SWEEP_MESSAGES" -gt 0 ]]; then
    echo
    echo "### Wake-up latency vs. how long the consumer has been idle"
    echo
    echo "p50 / p99.9 one-way latency, 1 run of $SWEEP_MESSAGES messages per gap. Gap 0: the"
    echo "next message arrives while the blocking consumer is still on its way to sleep."
    echo
    echo "| gap after ack | futex-wake p50 | futex-wake p99.9 | spsc-futex p50 | spsc-futex p99.9 | spsc-ring p50 | spsc-ring p99.9 |"
    echo "|---|---|---|---|---|---|---|"
    for gap in "${SWEEP_GAPS_US[@]}"; do
      row="| $gap µs"
      for t in futex-wake spsc-futex spsc-ring; do
        for k in p50_ns p99_9_ns; do
          row+=" | $(jq --argjson g "$gap" --arg t "$t" --arg k "$k" \
                       'first(.[] | select(.gap_us == $g and .transport == $t) | .median[$k]) // null' \
                       "$TMP/sweep.json" | us)"
        done
      done
      echo "$row |"
    done
  fi
  if [[ -s "$TMP/paired.md" ]]; then
    echo
    echo "### Paired short runs (what the latency targets are judged on)"
    echo
    echo "\`shmbus-ipc-bench --mode latency --runs $PAIRED_RUNS --messages $PAIRED_MESSAGES --gap-us $GAP_US\`, once with"
    echo "\`--transport shmbus-spin,cache-line,spsc-ring\` and once with \`--transport shmbus-block,futex-wake\`."
    echo
    sed 's/^### /#### /' "$TMP/paired.md"
  fi
  echo
  echo "Plots: [latency.png](latency.png), [throughput.png](throughput.png), [ratios.png](ratios.png) (every transport as a ratio to the floor)."
  if [[ -s "$TMP/scaling.md" ]]; then
    echo
    cat "$TMP/scaling.md"
  fi
  if [[ "$(jq length "$TMP/micro.json")" -gt 0 ]]; then
    echo
    echo "## Micro-benchmarks (one process, Google Benchmark)"
    echo
    echo "| benchmark | time per iteration | items/s |"
    echo "|---|---|---|"
    jq -r '.[] | "| `\(.binary)` \(.name) | \(.real_time * 10 | round / 10) \(.time_unit) | "
                 + (if .items_per_second then (.items_per_second / 10000 | round / 100 | tostring)
                    + " M/s" else "—" end) + " |"' "$TMP/micro.json"
  fi
} >"$OUT/latest.md"

# ---- plots --------------------------------------------------------------------------------
gnuplot -e "datadir='$TMP'; outdir='$OUT'; subtitle='$cpu_model, $cpus CPUs, $kernel; $started'" \
  "$ROOT/bench/plot_results.gp"

"$ROOT/bench/plot_ratios.sh" "$OUT/latest.json" "$OUT" "$cpu_model, $cpus CPUs; $started"

# ---- bench/README.md: replace the generated block --------------------------------------
begin='<!-- BEGIN run_comparison.sh output: generated, do not edit by hand -->'
end='<!-- END run_comparison.sh output -->'
if [[ -f "$README" ]] && grep -qF "$begin" "$README" && grep -qF "$end" "$README"; then
  awk -v begin="$begin" -v end="$end" -v body="$OUT/latest.md" '
    $0 == begin { print; while ((getline line < body) > 0) {
                    sub(/\]\(latency\.png\)/, "](results/latency.png)", line);
                    sub(/\]\(throughput\.png\)/, "](results/throughput.png)", line);
                    sub(/\]\(ratios\.png\)/, "](results/ratios.png)", line);
                    print line } skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$README" >"$TMP/README.md"
  cp "$TMP/README.md" "$README"
  echo "updated the generated block of bench/README.md"
fi

echo "wrote $OUT/latest.md, latest.json, latency.png, throughput.png, ratios.png"
exit "$status"
