#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds the normal, ASan+UBSan and TSan
# flavours, and runs ctest on each; then builds the fuzz targets with clang and runs each for a
# bounded time (scripts/fuzz.sh). Exits non-zero if any test or fuzz target fails.
#   scripts/test.sh            all three flavours, then fuzz
#   scripts/test.sh release    one flavour (or: fuzz)
#   SHMBUS_FUZZ_SECONDS=N      per fuzz target (default 8: 10 targets, 80 s, plus the build)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
flavours=("${@:-release asan tsan fuzz}")
read -r -a flavours <<<"${flavours[*]}"
status=0
for f in "${flavours[@]}"; do
  if [ "$f" = fuzz ]; then
    echo "=== fuzz: build and run each target ${SHMBUS_FUZZ_SECONDS:-8} s"
    scripts/fuzz.sh --seconds "${SHMBUS_FUZZ_SECONDS:-8}" || status=1
    continue
  fi
  echo "=== $f: build"
  scripts/build.sh "$f"
  dir=build
  [ "$f" = release ] || dir="build-$f"
  echo "=== $f: test"
  # Sanitizer flavours run the same tests with fewer events (SHMBUS_TEST_SCALE).
  scale=1
  case "$f" in asan) scale=0.25 ;; tsan) scale=0.1 ;; esac
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 report_signal_unsafe=0 suppressions=$PWD/tests/tsan.supp"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  if ! SHMBUS_TEST_SCALE=$scale ctest --test-dir "$dir" --output-on-failure -j 2 --timeout 900; then
    status=1
  fi
done
exit $status
