# Plots the harness's gnuplot data (shmbus-ipc-bench --plot-dir DIR).
# Used by run_comparison.sh:
#   gnuplot -e "datadir='DIR'; outdir='bench/results'; subtitle='...'" bench/plot_results.gp
# Writes outdir/latency.png (p50/p99/p99.9, log scale) and outdir/throughput.png.
if (!exists("subtitle")) subtitle = ""

set terminal pngcairo size 1280,700 noenhanced font "sans,10"
set encoding utf8
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -25 nomirror
set datafile missing "?"

set output outdir."/latency.png"
set title "One-way latency between two pinned processes, median of runs\n".subtitle
set logscale y
set ylabel "microseconds (log scale)"
set format y "%g"
plot datadir."/latency.dat" using 2:xtic(1) title "p50", \
     "" using 3 title "p99", \
     "" using 4 title "p99.9"

set output outdir."/throughput.png"
set title "Throughput, one producer to one consumer, unpaced, median of runs\n".subtitle
set logscale y
set ylabel "million messages/s (log scale)"
set yrange [*:*]
plot datadir."/throughput.dat" using 2:xtic(1) title columnhead(2), \
     "" using 3 title columnhead(3), \
     "" using 4 title columnhead(4)
