#!/usr/bin/env bash
# Soak: runs the example trading pipeline (supervisor + the demo agents) for a given time at a
# sustained quote rate, with handlers that fail and recover (strategy-1's quote handler throws
# in short bursts that are isolated call by call; strategy-2's in bursts long enough to get it
# unsubscribed, after which it subscribes again: --fail-every/--fail-burst), restarts agents
# and the supervisor on a schedule (SIGKILL, then start
# again: the supervisor must recover their records and a restarted supervisor re-attach), and
# samples every process's memory (/proc/PID/status) and the rings' occupancy (`shmbus status
# --json`) and every agent's health and handler failures every few seconds. Writes rss.csv,
# occupancy.csv, agents.csv, summary.txt and rss.png
# (scripts/soak_plot.sh, gnuplot).
#   scripts/soak.sh [--seconds N] [--interval S] [--rate R] [--restart-every S]
#                   [--supervisor-every S] [--out DIR] [--build DIR] [--bus NAME]
# Defaults: 3600 s, sample every 5 s, 2000 quotes/s, an agent restarted every 60 s, the
# supervisor every 600 s, output in bench/results/soak. Needs a release build of
# shmbus-supervisor, shmbus_cli and shmbus_examples_all (scripts/build.sh release ...).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TOTAL=3600
INTERVAL=5
RATE=2000
RESTART_EVERY=60
SUPERVISOR_EVERY=600
OUT=bench/results/soak
BUILD=build
BUS="soak-$$"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_TOTAL="$2"; shift 2 ;;
    --interval) INTERVAL="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --restart-every) RESTART_EVERY="$2"; shift 2 ;;
    --supervisor-every) SUPERVISOR_EVERY="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --bus) BUS="$2"; shift 2 ;;
    *) echo "soak: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

AGENTS="$BUILD/agents"
SHMBUS="$AGENTS/cli/shmbus"
SUPERVISOR="$AGENTS/supervisor/shmbus-supervisor"
for exe in "$SUPERVISOR" "$SHMBUS" "$AGENTS"/examples/{md_feed,strategy,cio,risk,execution,logger}; do
  [ -x "$exe" ] || { echo "soak: $exe is missing (build it first)" >&2; exit 1; }
done
mkdir -p "$OUT"
LOGS="$(mktemp -d "${TMPDIR:-/tmp}/shmbus-soak.XXXXXX")"

# role -> command line; role -> pid.
declare -A CMD PID
CMD[supervisor]="$SUPERVISOR --bus $BUS"
CMD[cio]="$AGENTS/examples/cio --strategies 3 --bus $BUS"
CMD[risk]="$AGENTS/examples/risk --bus $BUS"
CMD[execution]="$AGENTS/examples/execution --bus $BUS"
CMD[logger]="$AGENTS/examples/logger --bus $BUS --log-level warn"
for i in 1 2 3; do CMD[strategy-$i]="$AGENTS/examples/strategy --id $i --bus $BUS"; done
# Failing handlers: strategy-1 throws 2 calls in a row every 500 quotes (isolated, carries on);
# strategy-2 throws 6 in a row every 5000 (unsubscribed by the bus at 5, subscribes again).
CMD[strategy-1]+=" --fail-every 500 --fail-burst 2"
CMD[strategy-2]+=" --fail-every 5000 --fail-burst 6"
CMD[md_feed]="$AGENTS/examples/md_feed --rate $RATE --bus $BUS"
ROLES=(supervisor cio risk execution logger strategy-1 strategy-2 strategy-3 md_feed)
RESTARTABLE=(cio risk execution logger strategy-1 strategy-2 strategy-3 md_feed)

start_role() {  # role
  # shellcheck disable=SC2086  # the command line is split on purpose
  ${CMD[$1]} >>"$LOGS/$1.log" 2>&1 &
  PID[$1]=$!
}

cleanup() {
  trap - EXIT INT TERM
  for r in "${ROLES[@]}"; do
    [ "$r" = supervisor ] && continue
    kill -TERM "${PID[$r]:-}" 2>/dev/null || true
  done
  sleep 1
  kill -TERM "${PID[supervisor]:-}" 2>/dev/null || true
  sleep 1
  for r in "${ROLES[@]}"; do kill -KILL "${PID[$r]:-}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "/dev/shm/shmbus.$BUS"
  echo "soak: logs in $LOGS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_role supervisor
for _ in $(seq 100); do
  "$SHMBUS" status --bus "$BUS" >/dev/null 2>&1 && break
  sleep 0.1
done
for r in "${RESTARTABLE[@]}"; do start_role "$r"; done

RSS_CSV="$OUT/rss.csv"
OCC_CSV="$OUT/occupancy.csv"
echo "t_s,role,pid,rss_kb,rss_anon_kb,rss_shmem_kb" >"$RSS_CSV"
echo "t_s,ring,tail,fill,fill_pct,agents,health,supervisor_alive,restarts" >"$OCC_CSV"
AGENTS_CSV="$OUT/agents.csv"
echo "t_s,agent,pid,health,handler_errors,handler_error_streak" >"$AGENTS_CSV"

restarts=0
supervisor_restarts=0
status_failures=0
start=$(date +%s)
next_restart=$((start + RESTART_EVERY))
next_supervisor=$((start + SUPERVISOR_EVERY))
echo "soak: bus $BUS for ${SECONDS_TOTAL}s, sampling every ${INTERVAL}s into $OUT (logs $LOGS)"
while :; do
  now=$(date +%s)
  t=$((now - start))
  [ "$t" -ge "$SECONDS_TOTAL" ] && break
  # Memory of every role's current process.
  for r in "${ROLES[@]}"; do
    p="${PID[$r]}"
    if [ -r "/proc/$p/status" ]; then
      awk -v t="$t" -v r="$r" -v p="$p" '
        /^VmRSS:/ {rss=$2} /^RssAnon:/ {anon=$2} /^RssShmem:/ {shm=$2}
        END {if (rss != "") printf "%s,%s,%s,%s,%s,%s\n", t, r, p, rss, anon, shm}' \
        "/proc/$p/status" >>"$RSS_CSV"
    fi
  done
  # Occupancy of each ring, the agent count and health, from the CLI.
  if json=$("$SHMBUS" status --bus "$BUS" --json 2>/dev/null); then
    jq -r --arg t "$t" --arg n "$restarts" '. as $s | .rings[] |
      [$t, .priority, .tail, .fill, .fill_pct, ($s.agents | length), $s.health,
       $s.supervisor.alive, $n] | @csv' <<<"$json" | tr -d '"' >>"$OCC_CSV"
    jq -r --arg t "$t" '.agents[] | [$t, .name, .pid, .health, .handler_errors,
       .handler_error_streak] | @csv' <<<"$json" | tr -d '"' >>"$AGENTS_CSV"
  else
    status_failures=$((status_failures + 1))
  fi
  # Restarts: one agent every RESTART_EVERY s (round robin), the supervisor every
  # SUPERVISOR_EVERY s. SIGKILL, so nothing is cleaned up but by the supervisor.
  if [ "$now" -ge "$next_restart" ]; then
    r="${RESTARTABLE[$((restarts % ${#RESTARTABLE[@]}))]}"
    kill -KILL "${PID[$r]}" 2>/dev/null || true
    wait "${PID[$r]}" 2>/dev/null || true
    start_role "$r"
    restarts=$((restarts + 1))
    next_restart=$((now + RESTART_EVERY))
  fi
  if [ "$now" -ge "$next_supervisor" ]; then
    kill -KILL "${PID[supervisor]}" 2>/dev/null || true
    wait "${PID[supervisor]}" 2>/dev/null || true
    start_role supervisor
    supervisor_restarts=$((supervisor_restarts + 1))
    next_supervisor=$((now + SUPERVISOR_EVERY))
  fi
  # Any role that died on its own is a finding: count it and start it again.
  for r in "${ROLES[@]}"; do
    if ! kill -0 "${PID[$r]}" 2>/dev/null; then
      echo "soak: t=${t}s $r (pid ${PID[$r]}) exited on its own" | tee -a "$OUT/summary.txt"
      wait "${PID[$r]}" 2>/dev/null || true
      start_role "$r"
    fi
  done
  sleep "$INTERVAL"
done

# Summary: per role, RSS (and anonymous RSS) in the first and last tenth of the run.
{
  echo "soak of $SECONDS_TOTAL s on $(hostname) ($(nproc) cores), $(date -u +%FT%TZ)"
  echo "command: scripts/soak.sh --seconds $SECONDS_TOTAL --interval $INTERVAL --rate $RATE" \
    "--restart-every $RESTART_EVERY --supervisor-every $SUPERVISOR_EVERY"
  echo "agent restarts: $restarts, supervisor restarts: $supervisor_restarts," \
    "status failures: $status_failures"
  awk -F, -v T="$SECONDS_TOTAL" 'NR > 1 {
      if ($1 < T / 10) {a[$2] += $5; n[$2]++; r0[$2] += $4}
      if ($1 >= T * 9 / 10) {b[$2] += $5; m[$2]++; r1[$2] += $4}
      if ($5 > mx[$2]) mx[$2] = $5
    }
    END {
      printf "%-11s %12s %12s %12s %12s %12s\n", "role", "rss0_kb", "rss1_kb", "anon0_kb",
             "anon1_kb", "anon_max_kb"
      for (r in a) if (m[r] > 0)
        printf "%-11s %12.0f %12.0f %12.0f %12.0f %12.0f\n", r, r0[r] / n[r], r1[r] / m[r],
               a[r] / n[r], b[r] / m[r], mx[r]
    }' "$RSS_CSV"
  awk -F, 'NR > 1 && $5 > mx {mx = $5} NR > 1 {s += $5; n++}
    END {printf "ring fill: mean %.2f%%, max %.2f%% over %d samples\n", s / n, mx, n}' "$OCC_CSV"
  # Handler failures: an agent record's count restarts with each process, so the total is the
  # sum over processes of each one's last count. Health: samples per state and agent.
  awk -F, 'NR > 1 {last[$2 "," $3] = $5; st[$2 "," $4]++; names[$2] = 1}
    END {
      for (k in last) {split(k, a, ","); tot[a[1]] += last[k]}
      printf "%-11s %14s %8s %8s %9s %6s\n", "agent", "handler_errors", "healthy", "degraded",
             "unhealthy", "dead"
      for (n in names)
        printf "%-11s %14d %8d %8d %9d %6d\n", n, tot[n], st[n ",healthy"], st[n ",degraded"],
               st[n ",unhealthy"], st[n ",dead"]
    }' "$AGENTS_CSV"
  for i in 1 2; do
    echo "strategy-$i: $(cat "$LOGS"/strategy-$i.log | grep -c "subscribed again" || true)" \
      "re-subscriptions after the bus unsubscribed its failing handler"
  done
} | tee -a "$OUT/summary.txt"

# Anonymous RSS per process and ring fill over time.
scripts/soak_plot.sh "$OUT" "shmbus soak: $((SECONDS_TOTAL / 60)) min, $RATE quotes/s, handlers failing in bursts (strategy-1, -2), an agent killed every ${RESTART_EVERY} s, the supervisor every ${SUPERVISOR_EVERY} s"
echo "soak: wrote $RSS_CSV, $OCC_CSV, $OUT/summary.txt, $OUT/rss.png"
