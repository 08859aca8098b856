// ProcessPair: forks the producer and the consumer process of one run, pins
// each to its CPU, and waits for both with a watchdog: a child that fails makes
// the parent kill the other at once; a run that makes no progress for
// `stall_timeout_ns`, or exceeds `hard_timeout_ns`, gets both children killed
// and is reported as wedged. SIGINT/SIGTERM to the parent end the run the same way.
// A two-child ProcessGroup (process_group.hpp) watching the ControlBlock.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "control_block.hpp"
#include "process_group.hpp"

namespace shmbus::bench {

struct PairOptions {
  std::optional<int> producer_cpu;
  std::optional<int> consumer_cpu;
  std::uint64_t stall_timeout_ns = 10'000'000'000;
  std::uint64_t hard_timeout_ns = 900'000'000'000;
};

struct PairOutcome {
  ChildOutcome producer;
  ChildOutcome consumer;
  bool stalled = false;    ///< watchdog: no progress for stall_timeout_ns
  bool timed_out = false;  ///< watchdog: hard_timeout_ns exceeded
  bool interrupted = false;
  bool ok() const noexcept {
    return producer.ok() && consumer.ok() && !stalled && !timed_out && !interrupted;
  }
  std::string describe() const;
};

/// Forks both children and waits as described above. `on_attached` runs in the parent
/// once the control block shows both ready flags (at most once).
PairOutcome run_process_pair(const ChildMain& producer_main, const ChildMain& consumer_main,
                             ControlBlock& control, const std::function<void()>& on_attached,
                             const PairOptions& options);

}  // namespace shmbus::bench
