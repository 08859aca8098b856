#!/usr/bin/env bash
# Prints the markdown table of DESIGN.md's performance targets, judged on a report of
# shmbus-ipc-bench (its --json-file output, or bench/results/latest.json):
#   bench/targets_table.sh bench/results/latest.json
# Each target is a ratio between shmbus and a reference measured in the same invocation.
# Runs are interleaved across transports, so run i of shmbus is paired with run i of the
# reference; the table gives the median of those per-run ratios, their range, and in how
# many runs the target held. When the report has a "paired" member (run_comparison.sh's
# many short alternating latency runs, see bench/README.md), latency targets are judged
# on it, and the p50 target is also split by how far apart the two vCPUs were in each run
# (the cache-line bounce of that run). Nothing here is typed in: every figure comes from
# the report.
set -euo pipefail

report="${1:?usage: targets_table.sh REPORT.json}"
command -v jq >/dev/null || { echo "targets_table.sh: jq is required" >&2; exit 2; }

jq -r '
  def source(m): if m == "latency" and (.paired? | type) == "object" then .paired else . end;
  def per_run(t; m; b; f):
    [ source(m).results[] | select(.transport == t and .mode == m and .message_bytes == b)
      | .runs[] | if .ok then f else null end ];
  # Keeps the entries of `a` whose run had a cache-line bounce p50 below (near) or at or
  # above (far) 200 ns; the others become null.
  def placement(a; near):
    per_run("cache-line"; "latency"; 56; .one_way.p50_ns) as $c
    | [ range(0; a | length) as $i
        | if $c[$i] == null then null
          elif (($c[$i] < 200) == near) then a[$i] else null end ];
  def median: sort | if length == 0 then null
                     elif length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def ratios(a; b): [ range(0; [a, b | length] | min) as $i
                      | select(a[$i] != null and b[$i] != null and b[$i] > 0) | a[$i] / b[$i] ];
  def fixed(d): (. * pow(10; d) | round) as $n | ($n | tostring) as $s
                | if d == 0 then $s
                  else ($s | length) as $l
                       | (if $l <= d then ("0" * (d - $l + 1)) + $s else $s end)
                       | .[0:length - d] + "." + .[length - d:] end;
  def dur: if . == null then "—" elif . < 10000 then (. / 1000 | fixed(2)) + " µs"
           elif . < 100000 then (. / 1000 | fixed(1)) + " µs"
           else (. / 1000 | fixed(0)) + " µs" end;
  def rate: if . == null then "—" else (. / 1000000 | fixed(2)) + " M/s" end;
  # bound: the ratio must be <= bound (le) or >= bound (ge)
  def row_of(name; t; ref; $a; $r; fmt; cmp; bound):
    ratios($a; $r) as $q
    | ($q | median) as $med
    | [ $q[] | select(if cmp == "le" then . <= bound else . >= bound end) ] as $held
    | "| \(name) | `\(t)` \($a | map(select(. != null)) | median | fmt) | `\(ref)` \($r | map(select(. != null)) | median | fmt) | "
      + (if $med == null then "— | no run in this state |"
         else "\($med | fixed(3))× [\($q | min | fixed(3))–\($q | max | fixed(3))] | "
              + (if (cmp == "le" and $med <= bound) or (cmp == "ge" and $med >= bound)
                 then "met" else "missed" end)
              + " (held in \($held | length) of \($q | length) runs) |" end);
  def row(name; t; ref; m; b; f; fmt; cmp; bound):
    row_of(name; t; ref; per_run(t; m; b; f); per_run(ref; m; b; f); fmt; cmp; bound);
  def placement_row(name; near):
    per_run("shmbus-spin"; "latency"; 64; .one_way.p50_ns) as $a
    | per_run("spsc-ring"; "latency"; 64; .one_way.p50_ns) as $r
    | row_of(name; "shmbus-spin"; "spsc-ring"; placement($a; near); placement($r; near); dur;
             "le"; 1.5);
  "| target (DESIGN.md) | shmbus, median | reference, median | ratio per run: median [range] | verdict |",
  "|---|---|---|---|---|",
  row("busy-spin one-way p50 ≤ 1.5× the floor"; "shmbus-spin"; "spsc-ring"; "latency"; 64;
      .one_way.p50_ns; dur; "le"; 1.5),
  (if (.paired? | type) == "object" then
     placement_row("… in runs on near vCPUs (cache-line bounce < 0.2 µs)"; true),
     placement_row("… in runs on far vCPUs (cache-line bounce ≥ 0.2 µs)"; false)
   else empty end),
  row("busy-spin one-way p99.9 ≤ 3× the floor"; "shmbus-spin"; "spsc-ring"; "latency"; 64;
      .one_way.p99_9_ns; dur; "le"; 3),
  row("64-B throughput ≥ 0.5× the floor"; "shmbus-spin"; "spsc-ring"; "throughput"; 64;
      .messages_per_s; rate; "ge"; 0.5),
  row("blocking wake-up p50 ≤ 1.2× a bare futex wake"; "shmbus-block"; "futex-wake"; "latency";
      64; .one_way.p50_ns; dur; "le"; 1.2),
  row("blocking wake-up p99.9 ≤ 1.2× a bare futex wake"; "shmbus-block"; "futex-wake"; "latency";
      64; .one_way.p99_9_ns; dur; "le"; 1.2)
' "$report"
