// ChildEnv: what one child process of a shmbus-scaling-bench run needs, set up by
// the parent before it forks (the pointers are into SharedMappings, so they stay
// valid in the children), and the steps every child shares. Children are forked
// subscribers first, so subscriber k is slot k of the ScalingControl.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "event_check.hpp"
#include "harness_wait.hpp"
#include "scaling_control.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::bench::scaling {

struct ChildEnv {
  ScalingControl* control = nullptr;
  std::size_t slot = 0;  ///< this child's line, ack and report in `control`
  int rank = 0;          ///< index among the children of its role (producer 2)
  std::string bus_name;
  TopicId data_topic = kInvalidTopic;
  TopicId low_topic = kInvalidTopic;
  TopicId critical_topic = kInvalidTopic;
  std::size_t payload_bytes = 64;
  std::uint64_t warmup = 0;    ///< events first, not measured (all producers together)
  std::uint64_t messages = 0;  ///< measured events (per subscriber; CRITICAL events)
  std::uint64_t gap_ns = 0;    ///< paced runs: idle time after the last ack
  std::uint32_t ring_capacity = 0;
  std::uint64_t low_work_ns = 0;  ///< priority: busy time the subscriber spends per LOW event
  WaitStrategy subscriber_wait = WaitStrategy::kSpinYield;
  int subscribers = 1;  ///< slots [0, subscribers)
  int producers = 1;
  std::optional<std::size_t> flood_slot;  ///< priority under load: the LOW flood's slot
  std::uint64_t* samples = nullptr;       ///< paced runs: `messages` per subscriber, by slot
  HarnessWait wait;                       ///< for the start flag, acks and the gap

  std::uint64_t total() const noexcept { return warmup + messages; }
  ChildLine& line() const noexcept { return control->lines[slot]; }
  ChildReport& report() const noexcept { return control->reports[slot]; }
  std::uint64_t* samples_of(std::size_t subscriber_slot) const noexcept {
    return samples + subscriber_slot * messages;
  }
};

/// This child has attached (and subscribed): the parent starts the run once all have.
inline void mark_ready(const ChildEnv& env) noexcept {
  env.line().ready.store(1, std::memory_order_release);
}

/// Producers start together, once every subscriber is tethered to the rings.
inline void wait_for_go(const ChildEnv& env) noexcept {
  env.wait.until([&] { return env.control->go.load(std::memory_order_acquire) != 0; });
}

/// For the parent's watchdog; cheap enough for every handled event.
inline void note_progress(const ChildEnv& env, std::uint64_t handled) noexcept {
  if (handled % kProgressStride == 0) env.line().progress.store(handled, std::memory_order_relaxed);
}

/// Subscribers: dispatches (waiting with the agent's strategy) until `done()` or a failed
/// check, which it throws. The timeout only bounds how long a poll_wait call may block;
/// a producer that died is the parent's watchdog's business.
template <class Done>
void dispatch_until(Bus& bus, const FirstError& error, Done&& done) {
  constexpr std::size_t kPollBatch = 1024;
  while (!done() && error.ok()) (void)bus.poll_wait(kPollBatch, std::chrono::seconds(1));
  error.throw_if_set();
}

/// Faults the sample pages into this process before the timed loop: after fork, the
/// child maps even the parent's touched pages lazily.
inline void prefault(std::uint64_t* samples, std::uint64_t count) noexcept {
  std::memset(samples, 0, count * sizeof *samples);
}

}  // namespace shmbus::bench::scaling
