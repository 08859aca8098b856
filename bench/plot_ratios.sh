#!/usr/bin/env bash
# Plots every transport as a ratio to the floor (spsc-ring) measured in the same run, from
# a shmbus-ipc-bench report (bench/results/latest.json):
#   bench/plot_ratios.sh bench/results/latest.json bench/results
# writes ratios.png: one-way latency p50 and p99.9 (lower is better) and throughput per
# message size (higher is better), log scale, a line at 1 (the floor). The ratios are the
# harness's own (median of the transport over median of the floor), nothing recomputed.
set -euo pipefail

report="${1:?usage: plot_ratios.sh REPORT.json OUTDIR [SUBTITLE]}"
outdir="${2:?usage: plot_ratios.sh REPORT.json OUTDIR [SUBTITLE]}"
subtitle="${3:-}"
for tool in jq gnuplot; do
  command -v "$tool" >/dev/null || { echo "plot_ratios.sh: $tool is required" >&2; exit 2; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# transport  p50-ratio  p99.9-ratio   ("?" where missing)
jq -r '.results[] | select(.mode == "latency" and .ok_runs > 0)
       | "\(.transport) \(.ratio_to_floor.p50_ns // "?") \(.ratio_to_floor.p99_9_ns // "?")"' \
  "$report" >"$tmp/latency.dat"
# header of sizes, then transport and one ratio per size
sizes="$(jq -r '[.results[] | select(.mode == "throughput") | .message_bytes] | unique
                | map(tostring) | join(" ")' "$report")"
{
  echo "transport $sizes"
  jq -r --arg sizes "$sizes" '
    ($sizes | split(" ") | map(tonumber)) as $s
    | [.results[] | select(.mode == "throughput")] as $t
    | ($t | reduce (.[] | .transport) as $n ([]; if index([$n]) then . else . + [$n] end))[]
    | . as $n
    | "\($n) " + ([ $s[] as $b
                    | first(($t[] | select(.transport == $n and .message_bytes == $b
                                           and .ok_runs > 0)
                             | .ratio_to_floor.messages_per_s), "?") ]
                  | map(tostring) | join(" "))' "$report"
} >"$tmp/throughput.dat"

columns="$(echo "$sizes" | wc -w)"
gnuplot <<EOF
set terminal pngcairo size 1400,650 noenhanced font "sans,10"
set encoding utf8
set output "$outdir/ratios.png"
set multiplot layout 1,2 title "Each transport as a ratio to the floor (spsc-ring, busy-spin) in the same run\n$subtitle"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -30 nomirror
set datafile missing "?"
set logscale y
set format y "%g×"
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 front
set title "One-way latency / floor (lower is better)"
plot "$tmp/latency.dat" using 2:xtic(1) title "p50", "" using 3 title "p99.9"
set title "Throughput / floor (higher is better)"
plot for [i=2:$((columns + 1))] "$tmp/throughput.dat" using i:xtic(1) title columnheader(i)." B"
unset multiplot
EOF
echo "wrote $outdir/ratios.png"
