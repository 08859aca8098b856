// A latency summary as JSON, the same keys in every report of both harnesses.
#pragma once

#include <nlohmann/json.hpp>

#include "latency_stats.hpp"

namespace shmbus::bench {

inline nlohmann::json latency_json(const LatencySummary& s) {
  return {{"count", s.count},        {"min_ns", s.min_ns}, {"mean_ns", s.mean_ns},
          {"p50_ns", s.p50_ns},      {"p99_ns", s.p99_ns}, {"p99_9_ns", s.p999_ns},
          {"p99_99_ns", s.p9999_ns}, {"max_ns", s.max_ns}};
}

}  // namespace shmbus::bench
