// ChildContext: everything a producer or consumer process needs to run one
// measurement, set up by the parent before fork (all pointers are into
// SharedMappings, so they stay valid in the children).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "control_block.hpp"

namespace shmbus::bench {

enum class Mode { kLatency, kThroughput };

inline std::string_view to_string(Mode mode) {
  return mode == Mode::kLatency ? "latency" : "throughput";
}

/// Faults the harness can inject into itself to prove its watchdog (--self-test-fault).
enum class Fault { kNone, kConsumerHang, kConsumerCrash, kProducerHang };

struct ChildContext {
  Mode mode = Mode::kLatency;
  std::size_t message_bytes = 64;
  std::uint64_t warmup = 0;    ///< messages sent first and not measured
  std::uint64_t messages = 0;  ///< measured messages
  std::uint64_t gap_ns = 0;    ///< latency mode: idle time after each ack before the next send
  Fault fault = Fault::kNone;
  ControlBlock* control = nullptr;
  std::uint64_t* one_way_ns = nullptr;     ///< latency: `messages` slots, written by the consumer
  std::uint64_t* round_trip_ns = nullptr;  ///< latency: `messages` slots, written by the producer

  std::uint64_t total() const noexcept { return warmup + messages; }
};

}  // namespace shmbus::bench
