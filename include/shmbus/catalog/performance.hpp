// Performance payloads of the trading catalogue (perf.*): latency samples and distributions and
// throughput of named stages, published by agents that measure themselves (the core publishes
// none of these). Conventions in catalog/common.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmbus/catalog/common.hpp"

namespace shmbus::catalog {

/// One measured latency of a named stage ("md->signal", "publish->dispatch").
struct LatencySample {
  static constexpr std::string_view kTopic = "perf.latency";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "one latency measurement of a stage";

  std::uint64_t latency_ns{};      ///< the measurement
  std::uint64_t sample_mono_ns{};  ///< CLOCK_MONOTONIC ns at the end of the measured span
  std::uint64_t event_sequence{};  ///< producer sequence of the measured event, 0 none
  std::uint32_t agent_index{};     ///< agent that measured
  std::uint8_t reserved[4]{};
  char stage[kNameLen]{};

  SHMBUS_FIELDS(LatencySample, latency_ns, sample_mono_ns, event_sequence, agent_index, reserved,
                stage);
};
SHMBUS_PAYLOAD_PIN(LatencySample, 64);

/// Latency distribution of a stage over a window.
struct LatencyStats {
  static constexpr std::string_view kTopic = "perf.latency_stats";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "latency percentiles of a stage over a window";

  std::uint64_t window_ns{};  ///< window length
  std::uint64_t count{};      ///< samples in the window
  std::uint64_t min_ns{};
  std::uint64_t p50_ns{};
  std::uint64_t p90_ns{};
  std::uint64_t p99_ns{};
  std::uint64_t p999_ns{};
  std::uint64_t max_ns{};
  std::uint64_t mean_ns{};
  std::uint64_t window_end_mono_ns{};  ///< CLOCK_MONOTONIC ns at the end of the window
  std::uint32_t agent_index{};
  std::uint8_t reserved[4]{};
  char stage[kNameLen]{};

  SHMBUS_FIELDS(LatencyStats, window_ns, count, min_ns, p50_ns, p90_ns, p99_ns, p999_ns, max_ns,
                mean_ns, window_end_mono_ns, agent_index, reserved, stage);
};
SHMBUS_PAYLOAD_PIN(LatencyStats, 120);

/// Events and bytes a stage handled over a window.
struct ThroughputSample {
  static constexpr std::string_view kTopic = "perf.throughput";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "events and bytes of a stage over a window";

  std::uint64_t window_ns{};           ///< window length
  std::uint64_t events{};              ///< events in the window
  std::uint64_t bytes{};               ///< payload bytes in the window
  std::uint64_t events_per_sec{};      ///< events × 1e9 / window_ns, rounded down
  std::uint64_t dropped{};             ///< not published in the window (full, shed, rate-limited)
  std::uint64_t window_end_mono_ns{};  ///< CLOCK_MONOTONIC ns at the end of the window
  std::uint32_t agent_index{};
  std::uint8_t reserved[4]{};
  char stage[kNameLen]{};

  SHMBUS_FIELDS(ThroughputSample, window_ns, events, bytes, events_per_sec, dropped,
                window_end_mono_ns, agent_index, reserved, stage);
};
SHMBUS_PAYLOAD_PIN(ThroughputSample, 88);

#undef SHMBUS_CATALOG_PIN

}  // namespace shmbus::catalog
