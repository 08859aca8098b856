// Markdown report: the machine, the command line and the method, then one table
// per scenario. Each cell is "median (ratio to the scenario's baseline row)",
// headline figures also with [min – max] over the runs.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "ipc/number_format.hpp"
#include "scaling_report.hpp"

namespace shmbus::bench::scaling {
namespace {

using MetricFn = double (*)(const ScalingRun&);
using FormatFn = std::string (*)(double);

std::string range_text(const Spread& s, FormatFn format) {
  if (format == format_rate)
    return "[" + format_millions(s.min) + "–" + format_millions(s.max) + "]";
  return "[" + format(s.min) + " – " + format(s.max) + "]";
}

/// "median (ratio×)" plus " [min – max]" when `with_range`; "—" without a row.
std::string cell(const RowResult* row, const RowResult* base, MetricFn metric, FormatFn format,
                 bool with_range = false) {
  if (row == nullptr) return "—";
  const Spread s = row->aggregate(metric);
  if (!s.valid) return "failed";
  std::string text = format(s.median);
  if (base != nullptr) {
    const double reference = base->aggregate(metric).median;
    if (reference > 0) text += " (" + format_ratio(s.median / reference) + ")";
  }
  if (with_range && row->ok_runs() > 1) text += " " + range_text(s, format);
  return text;
}

/// Most involuntary context switches of any producer / subscriber process over the runs.
std::string preempted_cell(std::initializer_list<const RowResult*> rows) {
  std::uint64_t producer = 0, subscriber = 0;
  for (const RowResult* row : rows) {
    if (row == nullptr) continue;
    for (const ScalingRun& r : row->runs) {
      if (!r.ok) continue;
      producer = std::max(producer, r.producer_preemptions);
      subscriber = std::max(subscriber, r.subscriber_preemptions);
    }
  }
  return std::to_string(producer) + "/" + std::to_string(subscriber);
}

const RowResult* find_row(const std::vector<RowResult>& rows, Scenario scenario, Measure measure,
                          int size, bool flood = false) {
  for (const RowResult& row : rows) {
    const RowSpec& s = row.spec;
    if (s.scenario != scenario || s.measure != measure || s.flood != flood) continue;
    if (scenario == Scenario::kFanout && s.subscribers != size) continue;
    if (scenario == Scenario::kProducers && s.producers != size) continue;
    return &row;
  }
  return nullptr;
}

/// Starts a sentence: "Median of 3 runs", "One run".
std::string runs_text(int runs) {
  return runs == 1 ? "One run" : "Median of " + std::to_string(runs) + " runs";
}

std::string gap_text(std::uint64_t gap_ns) {
  std::ostringstream text;
  text << static_cast<double>(gap_ns) / 1000.0 << " µs";
  return text.str();
}

void latency_cells(std::ostream& md, const RowResult* row, const RowResult* base) {
  md << " | " << cell(row, base, figure::p50, format_duration_ns, true);
  for (MetricFn metric : {figure::p99, figure::p999, figure::p9999, figure::max}) {
    md << " | " << cell(row, base, metric, format_duration_ns);
  }
}

void fanout_table(std::ostream& md, const std::vector<RowResult>& rows, const ReportContext& ctx) {
  const ScalingOptions& o = ctx.options;
  const RowResult* any = find_row(rows, Scenario::kFanout, Measure::kThroughput, o.subscribers[0]);
  const RowResult* base = any != nullptr ? baseline_of(rows, *any) : nullptr;
  md << "### Fan-out: 1 producer, M subscribers\n\n"
     << "Throughput: the producer publishes " << format_thousands(o.effective_warmup())
     << " warm-up + " << format_thousands(o.messages) << " events of " << o.payload
     << " B back to back; every subscriber checks every sequence number (nothing lost, "
        "duplicated or reordered) and times its "
     << format_thousands(o.messages)
     << " events from its receipt of the last warm-up event; aggregate delivered = M × N / the "
        "longest subscriber interval. Latency: one event in flight; the producer stamps "
        "CLOCK_MONOTONIC into each event just before publish, waits until all M subscribers "
        "have acked it (a counter per subscriber, each on its own cache line), then idles "
     << gap_text(o.fanout_gap_ns())
     << "; each subscriber records now − stamp on entering its handler; percentiles over all "
        "subscribers' samples. "
     << runs_text(o.runs) << "; in brackets the ratio to the "
     << (base != nullptr ? std::to_string(base->spec.subscribers) : std::string("first"))
     << "-subscriber row.\n\n"
     << "| subscribers | rate per subscriber, slowest | rate per subscriber, median | aggregate "
        "delivered | p50 | p99 | p99.9 | p99.99 | max | p50 of the slowest subscriber | "
        "preempted |\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (int m : o.subscribers) {
    const RowResult* tp = find_row(rows, Scenario::kFanout, Measure::kThroughput, m);
    const RowResult* lat = find_row(rows, Scenario::kFanout, Measure::kLatency, m);
    const RowResult* tp_base = tp != nullptr ? baseline_of(rows, *tp) : nullptr;
    const RowResult* lat_base = lat != nullptr ? baseline_of(rows, *lat) : nullptr;
    md << "| " << m << " | " << cell(tp, tp_base, figure::subscriber_min, format_rate) << " | "
       << cell(tp, tp_base, figure::subscriber_median, format_rate) << " | "
       << cell(tp, tp_base, figure::aggregate_rate, format_rate, true);
    latency_cells(md, lat, lat_base);
    md << " | " << cell(lat, lat_base, figure::slowest_p50, format_duration_ns) << " | "
       << preempted_cell({tp, lat}) << " |\n";
  }
  md << "\n";
}

void producers_table(std::ostream& md, const std::vector<RowResult>& rows,
                     const ReportContext& ctx) {
  const ScalingOptions& o = ctx.options;
  const RowResult* any = find_row(rows, Scenario::kProducers, Measure::kThroughput, o.producers[0]);
  const RowResult* base = any != nullptr ? baseline_of(rows, *any) : nullptr;
  md << "### Producers: P producers, 1 subscriber\n\n"
     << "Each producer publishes its share of " << format_thousands(o.effective_warmup())
     << " warm-up + " << format_thousands(o.messages) << " events of " << o.payload
     << " B back to back, each carrying (producer, sequence); the subscriber checks every "
        "producer's order and exactly-once delivery and times the "
     << format_thousands(o.messages) << " events after the first "
     << format_thousands(o.effective_warmup()) << ". " << runs_text(o.runs)
     << "; in brackets the ratio to the "
     << (base != nullptr ? std::to_string(base->spec.producers) : std::string("first"))
     << "-producer row.\n\n"
     << "| producers | aggregate rate | preempted |\n|---|---|---|\n";
  for (int p : o.producers) {
    const RowResult* row = find_row(rows, Scenario::kProducers, Measure::kThroughput, p);
    const RowResult* row_base = row != nullptr ? baseline_of(rows, *row) : nullptr;
    md << "| " << p << " | " << cell(row, row_base, figure::aggregate_rate, format_rate, true)
       << " | " << preempted_cell({row}) << " |\n";
  }
  md << "\n";
}

void priority_table(std::ostream& md, const std::vector<RowResult>& rows,
                    const ReportContext& ctx) {
  const ScalingOptions& o = ctx.options;
  const RowResult* alone = find_row(rows, Scenario::kPriority, Measure::kLatency, 0, false);
  const RowResult* loaded = find_row(rows, Scenario::kPriority, Measure::kLatency, 0, true);
  const RowResult* base = alone != nullptr && alone->ok_runs() > 0 ? alone : nullptr;
  md << "### Priority: CRITICAL latency while a LOW flood saturates the bus\n\n"
     << "One producer publishes CRITICAL events paced (CLOCK_MONOTONIC stamp, publish, wait for "
        "the subscriber's ack, idle "
     << gap_text(o.critical_gap_ns())
     << "); one subscriber is subscribed to the CRITICAL topic and to a LOW one, and records "
        "now − stamp on entering its CRITICAL handler. Under the flood, a second producer "
        "publishes LOW events back to back for the whole run, its publish waiting whenever the "
        "LOW ring is full, and the CRITICAL stream starts once it has published a ring's "
        "worth; the two producers share a CPU when pinned, and the CRITICAL producer then "
        "sleeps through its gap so the flood runs. "
     << format_thousands(o.messages) << " measured CRITICAL events after "
     << format_thousands(o.effective_warmup())
     << " warm-up ones; both rows run in every repetition. The subscriber spends " << o.low_work_ns
     << " ns of busy work on each LOW event (--low-work-ns), so that the flood outpaces it. "
        "LOW backlog: LOW events published but not yet handled when a measured CRITICAL event "
        "arrived ("
     << o.capacity
     << " = the ring full), and the share of CRITICAL events that found it at "
        "least half full. "
     << runs_text(o.runs) << "; in brackets the ratio under the flood to alone.\n\n"
     << "| CRITICAL stream | p50 | p99 | p99.9 | p99.99 | max | LOW handled meanwhile | LOW "
        "backlog at arrival: min / mean (at least half full) | preempted |\n"
     << "|---|---|---|---|---|---|---|---|---|\n";
  for (const RowResult* row : {alone, loaded}) {
    if (row == nullptr) continue;
    md << "| " << (row->spec.flood ? "under LOW flood" : "alone");
    latency_cells(md, row, base);
    if (!row->spec.flood) {
      md << " | — | — | ";
    } else {
      md << " | " << cell(row, nullptr, figure::low_rate, format_rate, true) << " | ";
      const Spread low_min = row->aggregate(figure::backlog_min);
      const Spread low_mean = row->aggregate(figure::backlog_mean);
      const Spread half_full = row->aggregate(figure::half_full_share);
      if (low_min.valid) {
        char share[16];
        std::snprintf(share, sizeof share, "%.0f%%", half_full.median * 100);
        md << format_thousands(static_cast<std::uint64_t>(low_min.median)) << " / "
           << format_thousands(static_cast<std::uint64_t>(low_mean.median + 0.5)) << " (" << share
           << ") | ";
      } else {
        md << "failed | ";
      }
    }
    md << preempted_cell({row}) << " |\n";
  }
  md << "\n";
}

}  // namespace

std::string markdown_report(const std::vector<RowResult>& rows, const ReportContext& ctx) {
  const ScalingOptions& o = ctx.options;
  const MachineInfo& m = ctx.machine;
  std::ostringstream md;
  md << "## Scaling runs (generated by shmbus-scaling-bench)\n\n"
     << "- Machine: " << m.cpu_model << ", " << m.online_cpus << " CPUs online, " << m.kernel
     << "; compiler " << m.compiler << "; build: " << m.build
     << (m.optimized ? "" : " (NOT an optimized NDEBUG build: figures are not comparable)")
     << "\n- Command: `" << o.command_line << "`\n"
     << "- Runs: " << o.runs
     << " per row, interleaved across rows (run 1 of every row, then run 2, ...); every figure "
        "is the median over the successful runs, and ratios compare medians measured in this "
        "invocation.\n"
     << "- Processes: " << pinning_text(ctx.cpus)
     << (ctx.cpus.producer_cpu ? " (processes of one role share that CPU)" : "") << ".\n"
     << "- Subscribers wait by " << wait_description(o.wait)
     << "; the harness's own waits (start flag, acks, pacing gap) busy-spin in a process that "
        "has its CPU to itself and spin, then sched_yield, in one that shares it.\n"
     << "- Bus: embedded (created by the harness, no supervisor), " << o.capacity
     << " slots per ring, history_depth 0, " << o.payload
     << "-byte payloads; publishers wait when a ring is full (FullPolicy::kWait).\n\n";

  for (Scenario scenario : o.scenarios) {
    if (scenario == Scenario::kFanout) fanout_table(md, rows, ctx);
    if (scenario == Scenario::kProducers) producers_table(md, rows, ctx);
    if (scenario == Scenario::kPriority) priority_table(md, rows, ctx);
  }
  md << "Preempted: the most involuntary context switches of any producer / subscriber process "
        "in any run of the row (getrusage). Linux counts a sched_yield that let another process "
        "run as one, so with spin-then-yield waits and several processes on a CPU it is large "
        "by design; with one process per CPU, more than a handful means other work shared the "
        "cores.\n";
  for (const RowResult& row : rows) {
    if (row.ok_runs() != row.runs.size()) {
      md << "\nFailed: " << row.spec.label() << ": " << row.failures() << "\n";
    }
  }
  return md.str();
}

}  // namespace shmbus::bench::scaling
