// Row labels, metrics, aggregation over runs, baselines.
#include "scaling_result.hpp"

#include <algorithm>

namespace shmbus::bench::scaling {

namespace figure {

double aggregate_rate(const ScalingRun& r) {
  return r.rate_per_s;
}
double subscriber_min(const ScalingRun& r) {
  return r.subscriber_rate_min;
}
double subscriber_median(const ScalingRun& r) {
  return r.subscriber_rate_median;
}
double p50(const ScalingRun& r) {
  return r.latency.p50_ns;
}
double p99(const ScalingRun& r) {
  return r.latency.p99_ns;
}
double p999(const ScalingRun& r) {
  return r.latency.p999_ns;
}
double p9999(const ScalingRun& r) {
  return r.latency.p9999_ns;
}
double max(const ScalingRun& r) {
  return r.latency.max_ns;
}
double mean(const ScalingRun& r) {
  return r.latency.mean_ns;
}
double slowest_p50(const ScalingRun& r) {
  return r.slowest_subscriber_p50_ns;
}
double low_rate(const ScalingRun& r) {
  return r.low_rate_per_s;
}
double backlog_min(const ScalingRun& r) {
  return r.low_backlog_min;
}
double backlog_mean(const ScalingRun& r) {
  return r.low_backlog_mean;
}
double half_full_share(const ScalingRun& r) {
  return r.low_half_full_share;
}

}  // namespace figure

namespace {

using namespace figure;

constexpr Metric kFanoutThroughput[] = {{"aggregate_per_s", aggregate_rate},
                                        {"subscriber_min_per_s", subscriber_min},
                                        {"subscriber_median_per_s", subscriber_median}};
constexpr Metric kProducersThroughput[] = {{"aggregate_per_s", aggregate_rate}};
constexpr Metric kFanoutLatency[] = {{"p50_ns", p50},
                                     {"p99_ns", p99},
                                     {"p99_9_ns", p999},
                                     {"p99_99_ns", p9999},
                                     {"max_ns", max},
                                     {"mean_ns", mean},
                                     {"slowest_subscriber_p50_ns", slowest_p50}};
constexpr Metric kCriticalAlone[] = {{"p50_ns", p50},      {"p99_ns", p99}, {"p99_9_ns", p999},
                                     {"p99_99_ns", p9999}, {"max_ns", max}, {"mean_ns", mean}};
constexpr Metric kCriticalUnderFlood[] = {{"p50_ns", p50},
                                          {"p99_ns", p99},
                                          {"p99_9_ns", p999},
                                          {"p99_99_ns", p9999},
                                          {"max_ns", max},
                                          {"mean_ns", mean},
                                          {"low_per_s", low_rate},
                                          {"low_backlog_min", backlog_min},
                                          {"low_backlog_mean", backlog_mean},
                                          {"low_half_full_share", half_full_share}};

}  // namespace

std::string RowSpec::label() const {
  switch (scenario) {
    case Scenario::kFanout:
      return std::string("fanout ") + (measure == Measure::kLatency ? "latency" : "throughput") +
             ", " + std::to_string(subscribers) +
             (subscribers == 1 ? " subscriber" : " subscribers");
    case Scenario::kProducers:
      return "producers throughput, " + std::to_string(producers) +
             (producers == 1 ? " producer" : " producers");
    case Scenario::kPriority:
      return flood ? "priority, CRITICAL under LOW flood" : "priority, CRITICAL alone";
  }
  return "?";
}

std::span<const Metric> metrics_of(const RowSpec& spec) {
  switch (spec.scenario) {
    case Scenario::kFanout:
      return spec.measure == Measure::kLatency ? std::span<const Metric>(kFanoutLatency)
                                               : std::span<const Metric>(kFanoutThroughput);
    case Scenario::kProducers:
      return kProducersThroughput;
    case Scenario::kPriority:
      return spec.flood ? std::span<const Metric>(kCriticalUnderFlood)
                        : std::span<const Metric>(kCriticalAlone);
  }
  return {};
}

std::size_t RowResult::ok_runs() const {
  return static_cast<std::size_t>(
      std::count_if(runs.begin(), runs.end(), [](const ScalingRun& r) { return r.ok; }));
}

Spread RowResult::aggregate(double (*metric)(const ScalingRun&)) const {
  std::vector<double> values;
  for (const ScalingRun& run : runs) {
    if (run.ok) values.push_back(metric(run));
  }
  return spread_of(std::move(values));
}

std::string RowResult::failures() const {
  std::string text;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].ok) continue;
    if (!text.empty()) text += " | ";
    text += "run " + std::to_string(i + 1) + ": " + runs[i].error;
  }
  return text;
}

const RowResult* baseline_of(const std::vector<RowResult>& rows, const RowResult& row) {
  const RowResult* best = nullptr;
  for (const RowResult& candidate : rows) {
    const RowSpec& c = candidate.spec;
    if (c.scenario != row.spec.scenario || c.measure != row.spec.measure) continue;
    if (candidate.ok_runs() == 0) continue;
    if (c.scenario == Scenario::kPriority) {
      if (!c.flood) return &candidate;
      continue;
    }
    const int size = c.scenario == Scenario::kFanout ? c.subscribers : c.producers;
    const int best_size = best == nullptr                   ? 0
                          : c.scenario == Scenario::kFanout ? best->spec.subscribers
                                                            : best->spec.producers;
    if (best == nullptr || size < best_size) best = &candidate;
  }
  return best;
}

}  // namespace shmbus::bench::scaling
