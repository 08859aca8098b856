#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in build-fuzz and runs each for a bounded
# time on its committed seed corpus (fuzz/corpus/<target>). Any crash, hang (-timeout),
# sanitizer report or leak fails the run; the input that did it is kept in build-fuzz/artifacts.
#   scripts/fuzz.sh [--seconds N] [--seeds] [--only TARGET] [--jobs N]
#     --seconds N   per target (default 20); 0 builds only
#     --seeds       regenerate fuzz/corpus/*/*.seg from real segments (shmbus_fuzz_seeds) first;
#                   inputs kept from findings (fuzz/corpus/<target>/regress-*) stay
#     --only T      one target (e.g. ring_reader); may be repeated
#     --jobs N      run N targets at once (default 1); each fuzzer is one process
#   SHMBUS_FUZZ_BUILD_DIR=DIR   build dir (default build-fuzz)
# New inputs libFuzzer finds go to build-fuzz/corpus/<target>, never into the committed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=20
SEEDS=0
ONLY=()
JOBS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECS="$2"; shift 2 ;;
    --seeds) SEEDS=1; shift ;;
    --only) ONLY+=("$2"); shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

ALL=(segment_open ring_reader topic_registry agent_table barrier_table dead_letters error_log
     inspect dispatcher supervisor_monitors)
TARGETS=("${ALL[@]}")
[ "${#ONLY[@]}" -gt 0 ] && TARGETS=("${ONLY[@]}")
DIR="${SHMBUS_FUZZ_BUILD_DIR:-build-fuzz}"

args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMBUS_BUILD_FUZZERS=ON -DSHMBUS_BUILD_TESTS=OFF
      -DSHMBUS_BUILD_BENCH=OFF -DSHMBUS_BUILD_AGENTS=ON -DSHMBUS_INSTALL=OFF
      -DSHMBUS_WERROR="${SHMBUS_WERROR:-ON}"
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
command -v ninja >/dev/null && args+=(-G Ninja)
if command -v ccache >/dev/null; then
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
fi
cmake -S . -B "$DIR" "${args[@]}" >/dev/null
build_targets=(--target shmbus_fuzzers)
[ "$SEEDS" = 1 ] && build_targets+=(--target shmbus_fuzz_seeds)
nice -n 10 cmake --build "$DIR" -j 2 "${build_targets[@]}"

if [ "$SEEDS" = 1 ]; then
  dirs=()
  for t in "${ALL[@]}"; do
    # Only the generated seeds: inputs kept from findings (regress-*) stay.
    mkdir -p "fuzz/corpus/$t"
    rm -f "fuzz/corpus/$t"/*.seg
    dirs+=("fuzz/corpus/$t")
  done
  ASAN_OPTIONS=detect_leaks=0 "$DIR/fuzz/shmbus_fuzz_seeds" "${dirs[@]}"
fi
[ "$SECS" = 0 ] && exit 0

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$DIR/artifacts"
run_target() {  # target; prints one summary line, returns non-zero on a finding
  local t="$1" work="$DIR/corpus/$1"
  mkdir -p "$work"
  # -timeout: an input that takes longer than 5 s is a hang. -rss_limit_mb: the largest image
  # is 8 MiB, so a reader that needs more than that much is a finding too.
  if ! nice -n 10 "$DIR/fuzz/${t}_fuzzer" -max_total_time="$SECS" -timeout=5 -rss_limit_mb=2048 \
      -artifact_prefix="$DIR/artifacts/$t-" -print_final_stats=1 "$work" "fuzz/corpus/$t" \
      >"$DIR/artifacts/$t.log" 2>&1; then
    echo "fuzz $t: FAILED (log $DIR/artifacts/$t.log)"
    tail -n 40 "$DIR/artifacts/$t.log"
    return 1
  fi
  echo "fuzz $t: clean for ${SECS}s $({ grep -aE "^stat::number_of_executed_units|^stat::new_units_added" \
      "$DIR/artifacts/$t.log" || true; } | tr -s ' \n' ' ')"
}

status=0
running=()
for t in "${TARGETS[@]}"; do
  echo "=== fuzz $t for ${SECS}s"
  run_target "$t" &
  running+=($!)
  if [ "${#running[@]}" -ge "$JOBS" ]; then
    wait "${running[0]}" || status=1
    running=("${running[@]:1}")
  fi
done
for p in "${running[@]}"; do wait "$p" || status=1; done
# A crashed target cannot remove its segment (shmbus.fuzz-<pid>); those of live fuzzers stay.
for f in /dev/shm/shmbus.fuzz-*; do
  [ -e "$f" ] || continue
  kill -0 "${f##*-}" 2>/dev/null || rm -f "$f"
done
exit $status
