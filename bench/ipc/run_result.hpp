// Results: one RunResult per (transport, mode, size, repetition); CaseResult
// gathers the repetitions of one (transport, mode, size) and aggregates them
// as median and spread (min..max over the successful runs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "child_context.hpp"
#include "latency_stats.hpp"
#include "spread.hpp"
#include "transport.hpp"

namespace shmbus::bench {

struct RunResult {
  bool ok = false;
  std::string error;          ///< why not ok (wedged, crashed, lost a message...)
  LatencySummary one_way;     ///< latency mode
  LatencySummary rtt_half;    ///< latency mode: producer's send -> ack seen, halved
  double messages_per_s = 0;  ///< throughput mode
  std::uint64_t interval_messages = 0;
  double interval_s = 0;
  double wall_s = 0;  ///< fork to reap
  /// Involuntary context switches of the pinned children: non-zero means something else
  /// ran on their cores during the run (the figures include that disturbance).
  std::uint64_t producer_preemptions = 0;
  std::uint64_t consumer_preemptions = 0;
};

struct CaseResult {
  TransportInfo transport;
  Mode mode = Mode::kLatency;
  std::size_t message_bytes = 0;            ///< size actually sent
  std::size_t requested_message_bytes = 0;  ///< --payload
  std::vector<RunResult> runs;

  std::size_t ok_runs() const;
  /// Median and spread of `metric` over the successful runs.
  Spread aggregate(const std::function<double(const RunResult&)>& metric) const;
};

}  // namespace shmbus::bench
