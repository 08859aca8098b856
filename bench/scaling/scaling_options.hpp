// ScalingOptions: what the command line of shmbus-scaling-bench asks for (parsed
// in main.cpp with CLI11), and the scenarios it can run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/config.hpp"

namespace shmbus::bench::scaling {

enum class Scenario {
  kFanout,     ///< 1 producer, M subscribers: throughput and paced latency
  kProducers,  ///< P producers, 1 subscriber: throughput
  kPriority,   ///< paced CRITICAL stream, alone and under a saturating LOW flood
};

inline std::string_view scenario_name(Scenario s) {
  switch (s) {
    case Scenario::kFanout:
      return "fanout";
    case Scenario::kProducers:
      return "producers";
    case Scenario::kPriority:
      return "priority";
  }
  return "?";
}

/// "spin", "yield", "block": the --wait values.
inline std::string_view wait_name(WaitStrategy w) {
  switch (w) {
    case WaitStrategy::kBusySpin:
      return "spin";
    case WaitStrategy::kSpinYield:
      return "yield";
    case WaitStrategy::kBlock:
      return "block";
  }
  return "?";
}

/// How a subscriber of that strategy waits, for the reports.
inline std::string_view wait_description(WaitStrategy w) {
  switch (w) {
    case WaitStrategy::kBusySpin:
      return "busy-spin (WaitStrategy::kBusySpin)";
    case WaitStrategy::kSpinYield:
      return "spin, then sched_yield (WaitStrategy::kSpinYield)";
    case WaitStrategy::kBlock:
      return "spin, then sleep on the bus's futex word (WaitStrategy::kBlock)";
  }
  return "?";
}

inline constexpr int kMaxProcessesPerRole = 32;

struct ScalingOptions {
  std::vector<Scenario> scenarios{Scenario::kFanout, Scenario::kProducers, Scenario::kPriority};
  std::vector<int> subscribers{1, 2, 4, 8};  ///< fan-out: M per row
  std::vector<int> producers{1, 2, 3, 4};    ///< producers: P per row
  std::uint64_t messages = 1'000'000;        ///< measured events per run (per subscriber)
  std::int64_t warmup = -1;                  ///< -1: min(messages / 10, 100000), at least 1
  int runs = 3;
  std::size_t payload = 64;  ///< event payload bytes, the 24-byte EventHeader included
  /// Pacing gap after each ack; unset: 10 µs for fan-out latency, 20 µs for the CRITICAL stream.
  std::optional<double> gap_us;
  WaitStrategy wait = WaitStrategy::kSpinYield;
  std::uint32_t capacity = 4096;  ///< slots per bus ring
  /// Priority: busy time the subscriber spends per LOW event. With none, a subscriber on a
  /// CPU of its own keeps up with a flood that shares its CPU with the CRITICAL producer, and
  /// the LOW ring never fills; 500 ns keeps it nearly full on the 2-vCPU reference VM.
  std::uint64_t low_work_ns = 500;
  bool pin = true;
  std::vector<int> cpus;  ///< {producer CPU, subscriber CPU}; empty: the first two allowed
  double stall_timeout_s = 10;
  double timeout_s = 900;
  std::string json_file;
  std::string markdown_file;
  std::string command_line;  ///< as typed, for the reports

  std::uint64_t effective_warmup() const {
    if (warmup >= 0) return warmup > 0 ? static_cast<std::uint64_t>(warmup) : 1;
    const std::uint64_t tenth = messages / 10;
    return tenth < 1 ? 1 : (tenth > 100'000 ? 100'000 : tenth);
  }
  std::uint64_t fanout_gap_ns() const {
    return static_cast<std::uint64_t>(gap_us.value_or(10) * 1e3);
  }
  std::uint64_t critical_gap_ns() const {
    return static_cast<std::uint64_t>(gap_us.value_or(20) * 1e3);
  }
};

}  // namespace shmbus::bench::scaling
