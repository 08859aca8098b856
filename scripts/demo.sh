#!/usr/bin/env bash
# Runs the example trading pipeline on one bus: installs what is missing (deps.sh), builds
# only the supervisor, the CLI and the examples (build.sh release, the build dir and flags
# test.sh uses, so test.sh afterwards rebuilds none of it), starts the supervisor and every example agent as its own process, shows
# `shmbus top` for DEMO_SECONDS (default 10; 0 = until q or Ctrl-C), then stops everything with
# SIGTERM, waits for it and removes the segment.
#   DEMO_SECONDS=N   how long to watch (0: until q / Ctrl-C)
#   DEMO_BUS=NAME    bus name (default demo)
#   DEMO_RATE=N      quotes per second of md_feed (default 200)
#   DEMO_SKIP_BUILD=1 and DEMO_BUILD_DIR=DIR   reuse an existing build
#   DEMO_PYTHON=0    no Python strategy (strategy-4, agents/python/py_strategy.py, run by
#                    Debian's /usr/bin/python3 beside the three C++ strategies)
set -euo pipefail
cd "$(dirname "$0")/.."

BUS="${DEMO_BUS:-demo}"
WATCH="${DEMO_SECONDS:-10}"
RATE="${DEMO_RATE:-200}"
BUILD="${DEMO_BUILD_DIR:-build}"

if [ "${DEMO_SKIP_BUILD:-0}" != "1" ]; then
  ./scripts/deps.sh
  targets=(shmbus-supervisor shmbus_cli shmbus_examples_all)
  # The Python strategy needs the module (pybind11-dev, from deps.sh).
  [ "${DEMO_PYTHON:-1}" = 1 ] && targets+=(_shmbus)
  ./scripts/build.sh release "${targets[@]}"
fi
AGENTS="$BUILD/agents"
SHMBUS="$AGENTS/cli/shmbus"
for exe in "$AGENTS/supervisor/shmbus-supervisor" "$SHMBUS" "$AGENTS"/examples/{md_feed,strategy,cio,risk,execution,logger}; do
  [ -x "$exe" ] || { echo "demo: $exe is missing (build failed?)" >&2; exit 1; }
done

LOGS="$(mktemp -d "${TMPDIR:-/tmp}/shmbus-demo.XXXXXX")"
SUPERVISOR_PID=""
AGENT_PIDS=()

# Sends SIGTERM to the given pids and waits up to 5 s for them; SIGKILL for what is left.
stop_pids() {
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq 50); do
    local alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "$@"; do
    if kill -0 "$p" 2>/dev/null; then
      echo "demo: pid $p ignored SIGTERM; killing it" >&2
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
}

cleanup() {
  trap - EXIT INT TERM
  echo "demo: stopping agents"
  stop_pids "${AGENT_PIDS[@]}"
  if [ -n "$SUPERVISOR_PID" ]; then
    echo "demo: stopping the supervisor (it removes the segment)"
    stop_pids "$SUPERVISOR_PID"
  fi
  if [ -e "/dev/shm/shmbus.$BUS" ]; then
    echo "demo: removing leftover segment /dev/shm/shmbus.$BUS"
    rm -f "/dev/shm/shmbus.$BUS"
  fi
  echo "demo: logs in $LOGS"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"' INT TERM

echo "demo: starting shmbus-supervisor on bus $BUS"
"$AGENTS/supervisor/shmbus-supervisor" --bus "$BUS" >"$LOGS/supervisor.log" 2>&1 &
SUPERVISOR_PID=$!
for _ in $(seq 100); do
  "$SHMBUS" status --bus "$BUS" >/dev/null 2>&1 && break
  kill -0 "$SUPERVISOR_PID" 2>/dev/null || { cat "$LOGS/supervisor.log" >&2; exit 1; }
  sleep 0.1
done

start_agent() {  # name, command...
  local name="$1"
  shift
  "$@" --bus "$BUS" >"$LOGS/$name.log" 2>&1 &
  AGENT_PIDS+=($!)
  echo "demo: started $name (pid $!)"
}
# strategy-4 is the Python strategy when the module is built; the cio's barrier waits for it too.
STRATEGIES=3
PY_MODULE_DIR="$BUILD/python"
if [ "${DEMO_PYTHON:-1}" = 1 ] && compgen -G "$PY_MODULE_DIR/shmbus/_shmbus*.so" >/dev/null; then
  STRATEGIES=4
fi
start_agent cio "$AGENTS/examples/cio" --strategies "$STRATEGIES"
start_agent risk "$AGENTS/examples/risk"
start_agent execution "$AGENTS/examples/execution"
start_agent logger "$AGENTS/examples/logger"
for i in 1 2 3; do
  start_agent "strategy-$i" "$AGENTS/examples/strategy" --id "$i"
done
if [ "$STRATEGIES" = 4 ]; then
  start_agent strategy-4 env PYTHONPATH="$PY_MODULE_DIR" /usr/bin/python3 agents/python/py_strategy.py --id 4
fi
start_agent md_feed "$AGENTS/examples/md_feed" --rate "$RATE"

if [ "$WATCH" -gt 0 ]; then
  # top draws a frame every 500 ms
  "$SHMBUS" top --bus "$BUS" --iterations "$((WATCH * 2))" || true
else
  "$SHMBUS" top --bus "$BUS" || true
fi
echo
"$SHMBUS" status --bus "$BUS" || true
echo
echo "demo: last log lines"
for f in "$LOGS"/*.log; do
  printf '  %-12s %s\n' "$(basename "$f" .log)" "$(tail -n 1 "$f")"
done
exit 0
