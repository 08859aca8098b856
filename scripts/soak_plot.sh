#!/usr/bin/env bash
# Plots a soak's CSVs (scripts/soak.sh) to DIR/rss.png: anonymous RSS of every process over
# time (what a leak grows; restarted processes continue their role's line), and each ring's
# fill in percent (the segment's occupancy).
#   scripts/soak_plot.sh DIR [TITLE]
set -euo pipefail
DIR="${1:?usage: soak_plot.sh DIR [TITLE]}"
TITLE="${2:-shmbus soak}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
roles=$(awk -F, 'NR > 1 && !seen[$2]++ {print $2}' "$DIR/rss.csv")
rss_plot=""
for r in $roles; do
  awk -F, -v r="$r" 'NR > 1 && $2 == r {print $1 / 60, $5 / 1024}' "$DIR/rss.csv" >"$TMP/rss-$r.dat"
  rss_plot+="'$TMP/rss-$r.dat' using 1:2 with lines title '$r',"
done
fill_plot=""
for ring in CRITICAL HIGH NORMAL LOW; do
  awk -F, -v g="$ring" 'NR > 1 && $2 == g {print $1 / 60, $5}' "$DIR/occupancy.csv" \
    >"$TMP/fill-$ring.dat"
  fill_plot+="'$TMP/fill-$ring.dat' using 1:2 with lines title '$ring',"
done
gnuplot <<GP
set terminal pngcairo size 1100,800 noenhanced
set output '$DIR/rss.png'
set multiplot layout 2,1 title '$TITLE'
set key outside right
set grid
set xlabel 'minutes'
set ylabel 'RssAnon (MiB)'
set yrange [0:*]
plot ${rss_plot%,}
set ylabel 'ring fill (% of capacity)'
set yrange [0:*]
plot ${fill_plot%,}
unset multiplot
GP
echo "soak_plot: wrote $DIR/rss.png"
