// JSON report: configuration, machine, and per row every run plus the median, min,
// max and ratio to the baseline row of each figure. Durations in nanoseconds,
// rates in events per second.
#include <nlohmann/json.hpp>

#include "ipc/latency_json.hpp"

#include "scaling_report.hpp"

namespace shmbus::bench::scaling {
namespace {

using nlohmann::json;

json run_json(const RowSpec& spec, const ScalingRun& r) {
  json run = {{"ok", r.ok},
              {"wall_s", r.wall_s},
              {"producer_preemptions", r.producer_preemptions},
              {"subscriber_preemptions", r.subscriber_preemptions}};
  if (!r.ok) {
    run["error"] = r.error;
    return run;
  }
  if (spec.measure == Measure::kThroughput) {
    run["aggregate_per_s"] = r.rate_per_s;
    if (spec.scenario == Scenario::kFanout) {
      run["subscriber_min_per_s"] = r.subscriber_rate_min;
      run["subscriber_median_per_s"] = r.subscriber_rate_median;
    }
    return run;
  }
  run["latency"] = latency_json(r.latency);
  if (spec.scenario == Scenario::kFanout) {
    run["slowest_subscriber_p50_ns"] = r.slowest_subscriber_p50_ns;
  }
  if (spec.flood) {
    run["low_per_s"] = r.low_rate_per_s;
    run["low_backlog_min"] = r.low_backlog_min;
    run["low_backlog_mean"] = r.low_backlog_mean;
    run["low_half_full_share"] = r.low_half_full_share;
  }
  return run;
}

}  // namespace

std::string json_report(const std::vector<RowResult>& rows, const ReportContext& ctx) {
  const ScalingOptions& o = ctx.options;
  json doc;
  doc["tool"] = "shmbus-scaling-bench";
  doc["command_line"] = o.command_line;
  doc["machine"] = {{"cpu_model", ctx.machine.cpu_model}, {"online_cpus", ctx.machine.online_cpus},
                    {"kernel", ctx.machine.kernel},       {"compiler", ctx.machine.compiler},
                    {"build", ctx.machine.build},         {"optimized", ctx.machine.optimized}};
  json cpus = json::object();
  if (ctx.cpus.producer_cpu) cpus["producers"] = *ctx.cpus.producer_cpu;
  if (ctx.cpus.consumer_cpu) cpus["subscribers"] = *ctx.cpus.consumer_cpu;
  if (!ctx.cpus.note.empty()) cpus["note"] = ctx.cpus.note;
  doc["config"] = {{"messages", o.messages},
                   {"warmup", o.effective_warmup()},
                   {"runs", o.runs},
                   {"payload_bytes", o.payload},
                   {"ring_capacity", o.capacity},
                   {"history_depth", 0},
                   {"subscriber_wait", wait_name(o.wait)},
                   {"fanout_gap_ns", o.fanout_gap_ns()},
                   {"critical_gap_ns", o.critical_gap_ns()},
                   {"low_work_ns", o.low_work_ns},
                   {"cpus", cpus}};

  json results = json::array();
  for (const RowResult& row : rows) {
    const RowSpec& spec = row.spec;
    json item = {{"label", spec.label()},
                 {"scenario", scenario_name(spec.scenario)},
                 {"measure", spec.measure == Measure::kLatency ? "latency" : "throughput"},
                 {"ok_runs", row.ok_runs()}};
    if (spec.scenario == Scenario::kFanout) item["subscribers"] = spec.subscribers;
    if (spec.scenario == Scenario::kProducers) item["producers"] = spec.producers;
    if (spec.scenario == Scenario::kPriority) item["flood"] = spec.flood;
    json runs = json::array();
    for (const ScalingRun& r : row.runs) runs.push_back(run_json(spec, r));
    item["runs"] = std::move(runs);

    const RowResult* base = baseline_of(rows, row);
    json median = json::object(), min = json::object(), max = json::object(),
         ratio = json::object();
    for (const Metric& metric : metrics_of(spec)) {
      const Spread s = row.aggregate(metric.get);
      if (!s.valid) continue;
      median[metric.key] = s.median;
      min[metric.key] = s.min;
      max[metric.key] = s.max;
      if (base == nullptr) continue;
      const double reference = base->aggregate(metric.get).median;
      if (reference > 0) ratio[metric.key] = s.median / reference;
    }
    item["median"] = std::move(median);
    item["min"] = std::move(min);
    item["max"] = std::move(max);
    if (base != nullptr) item["baseline"] = base->spec.label();
    item["ratio_to_baseline"] = std::move(ratio);
    results.push_back(std::move(item));
  }
  doc["results"] = std::move(results);
  return doc.dump(2) + "\n";
}

}  // namespace shmbus::bench::scaling
