// Results of shmbus-scaling-bench. A RowSpec names one row of a report table (a
// scenario at one size, one kind of measurement); a ScalingRun is one measurement
// of it; a RowResult gathers the repetitions and aggregates each figure as median
// and range over the successful runs. Every ratio in the reports compares a row
// with its baseline row (baseline_of) measured in the same invocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ipc/latency_stats.hpp"
#include "ipc/spread.hpp"
#include "scaling_options.hpp"

namespace shmbus::bench::scaling {

enum class Measure { kThroughput, kLatency };

struct RowSpec {
  Scenario scenario = Scenario::kFanout;
  Measure measure = Measure::kThroughput;
  int subscribers = 1;
  int producers = 1;
  bool flood = false;  ///< priority: the CRITICAL stream under the LOW flood
  /// "fanout latency, 4 subscribers", "priority, CRITICAL under LOW flood".
  std::string label() const;
};

struct ScalingRun {
  bool ok = false;
  std::string error;  ///< why not ok (wedged, crashed, lost an event...)
  double wall_s = 0;  ///< first fork to last reap
  /// Fan-out throughput: M × N / the longest subscriber interval. Producers: N / interval.
  double rate_per_s = 0;
  double subscriber_rate_min = 0;  ///< fan-out throughput: N / interval, slowest subscriber
  double subscriber_rate_median = 0;
  /// Fan-out latency: over every subscriber's samples. Priority: the CRITICAL events.
  LatencySummary latency;
  double slowest_subscriber_p50_ns = 0;  ///< fan-out latency: largest per-subscriber p50
  double low_rate_per_s = 0;             ///< priority under flood: LOW handled meanwhile
  double low_backlog_min = 0;            ///< LOW events ahead when a CRITICAL one arrived
  double low_backlog_mean = 0;
  double low_half_full_share = 0;  ///< of CRITICAL arrivals that found LOW at least half full
  /// Largest involuntary context switch count of any producer / subscriber process.
  std::uint64_t producer_preemptions = 0;
  std::uint64_t subscriber_preemptions = 0;
};

/// The figures of a run, one getter each, for the reports' tables.
namespace figure {
double aggregate_rate(const ScalingRun& r);
double subscriber_min(const ScalingRun& r);
double subscriber_median(const ScalingRun& r);
double p50(const ScalingRun& r);
double p99(const ScalingRun& r);
double p999(const ScalingRun& r);
double p9999(const ScalingRun& r);
double max(const ScalingRun& r);
double mean(const ScalingRun& r);
double slowest_p50(const ScalingRun& r);
double low_rate(const ScalingRun& r);
double backlog_min(const ScalingRun& r);
double backlog_mean(const ScalingRun& r);
double half_full_share(const ScalingRun& r);
}  // namespace figure

/// A figure of a run, by name, for the JSON report.
struct Metric {
  const char* key;  ///< JSON key
  double (*get)(const ScalingRun&);
};

/// The figures a row of this kind has.
std::span<const Metric> metrics_of(const RowSpec& spec);

struct RowResult {
  RowSpec spec;
  std::vector<ScalingRun> runs;

  std::size_t ok_runs() const;
  /// Median and range of `metric` over the successful runs.
  Spread aggregate(double (*metric)(const ScalingRun&)) const;
  /// "run 2: wedged: ..." for each failed run, joined.
  std::string failures() const;
};

/// The row `row` is compared with: for fan-out and producers the row of the same measure with
/// the fewest subscribers / producers (the 1-process row when it was run); for priority the
/// stream without the flood. `row` itself when it is the baseline; nullptr when none succeeded.
const RowResult* baseline_of(const std::vector<RowResult>& rows, const RowResult& row);

}  // namespace shmbus::bench::scaling
