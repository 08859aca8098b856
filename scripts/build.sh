#!/usr/bin/env bash
# Configures and builds one flavour of shmbus.
#   scripts/build.sh [release|asan|tsan] [extra cmake args...]
# Build directories: build (release), build-asan, build-tsan.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
shift || true
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DSHMBUS_SANITIZE=address -DSHMBUS_BUILD_BENCH=OFF) ;;
  tsan) dir=build-tsan; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMBUS_SANITIZE=thread -DSHMBUS_BUILD_BENCH=OFF) ;;
  *) echo "unknown flavour '$flavour' (release|asan|tsan)" >&2; exit 2 ;;
esac
werror=OFF
if [ "${CI:-}" = "true" ]; then werror=ON; fi
cmake -S . -B "$dir" -DSHMBUS_WERROR="$werror" "${args[@]}" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
