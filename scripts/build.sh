#!/usr/bin/env bash
# Configures and builds one flavour of shmbus with Ninja (and ccache when installed).
#   scripts/build.sh [release|asan|tsan] [target...] [-DNAME=VALUE...]
# Build directories: build (release), build-asan, build-tsan. With targets, only those are
# built (demo.sh builds the supervisor, the CLI and the examples only). The configure flags
# depend on nothing but the flavour and SHMBUS_WERROR, so demo.sh, test.sh and CI configure a
# build dir the same way and a second run rebuilds nothing.
#   SHMBUS_WERROR=OFF   warnings are not errors (default ON, as in CI)
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
targets=()
for a in "$@"; do
  case "$a" in
    -*) args+=("$a") ;;
    *) targets+=(--target "$a") ;;
  esac
done
# One value for every caller: demo.sh and test.sh share the release build dir, and a flag that
# differs between them would recompile everything.
args+=(-DSHMBUS_WERROR="${SHMBUS_WERROR:-ON}" -DSHMBUS_BUILD_AGENTS=ON -DSHMBUS_BUILD_TESTS=ON)

generator=Make
command -v ninja >/dev/null && generator=Ninja
[ "$generator" = Ninja ] && args+=(-G Ninja)
if command -v ccache >/dev/null; then
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths under the repo are hashed relative to it, so clones in other folders share the cache.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  # The test binaries use a precompiled header; ccache caches such compiles only with these.
  export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros}"
fi
# A build dir configured with another generator cannot be reused: start its cache afresh.
if [ -f "$dir/CMakeCache.txt" ]; then
  old=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$dir/CMakeCache.txt")
  want="Unix Makefiles"
  [ "$generator" = Ninja ] && want=Ninja
  if [ "$old" != "$want" ]; then
    echo "build.sh: $dir was configured for '$old'; reconfiguring for '$want'"
    rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
  fi
fi
cmake -S . -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
