// Percentiles by the nearest-rank method: the smallest sample with at least q of
// all samples at or below it.
#include "latency_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace shmbus::bench {
namespace {

double nearest_rank(std::span<const std::uint64_t> sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(q * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

}  // namespace

LatencySummary summarize_latencies(std::span<std::uint64_t> samples) {
  LatencySummary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.count = samples.size();
  s.min_ns = static_cast<double>(samples.front());
  s.max_ns = static_cast<double>(samples.back());
  const long double sum = std::accumulate(samples.begin(), samples.end(), 0.0L);
  s.mean_ns = static_cast<double>(sum / static_cast<long double>(samples.size()));
  s.p50_ns = nearest_rank(samples, 0.50);
  s.p99_ns = nearest_rank(samples, 0.99);
  s.p999_ns = nearest_rank(samples, 0.999);
  s.p9999_ns = nearest_rank(samples, 0.9999);
  return s;
}

LatencySummary scaled(const LatencySummary& s, double factor) {
  LatencySummary out = s;
  for (double* field : {&out.min_ns, &out.mean_ns, &out.p50_ns, &out.p99_ns, &out.p999_ns,
                        &out.p9999_ns, &out.max_ns}) {
    *field *= factor;
  }
  return out;
}

}  // namespace shmbus::bench
