// LatencySummary: percentiles of one run's latency samples (nearest-rank).
#pragma once

#include <cstdint>
#include <span>

namespace shmbus::bench {

struct LatencySummary {
  std::uint64_t count = 0;
  double min_ns = 0;
  double mean_ns = 0;
  double p50_ns = 0;
  double p99_ns = 0;
  double p999_ns = 0;
  double p9999_ns = 0;
  double max_ns = 0;
};

/// Sorts `samples` in place and summarizes them.
LatencySummary summarize_latencies(std::span<std::uint64_t> samples);

/// Every field except count multiplied by `factor` (rtt -> rtt/2).
LatencySummary scaled(const LatencySummary& summary, double factor);

}  // namespace shmbus::bench
