// What a Barrier handle holds (the pimpl behind shmbus::Barrier): the resolved record, the
// participant's arrive context and the waiter's state. Internal to the barrier facade:
// shm/barrier.cpp (open, arrive, wait_open, become_waiter) and shm/barrier_wait.cpp (the waiter's
// wait for a round).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "shm/barrier_round.hpp"
#include "shm/barrier_table.hpp"
#include "shm/bus_impl.hpp"
#include "shmbus/barrier_types.hpp"
#include "shmbus/result.hpp"

namespace shmbus::detail {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
// Longest single sleep: the waiter re-checks participants' liveness and heartbeats this often.
constexpr std::uint64_t kPollNs = 20'000'000;
constexpr std::uint32_t kSpinsBeforeSleep = 128;
constexpr std::uint32_t kSpinsBeforeYield = 64;

inline std::uint64_t add_sat(std::uint64_t a, std::uint64_t b) noexcept {
  return b > kNever - a ? kNever : a + b;
}

inline std::uint64_t to_ns(std::chrono::nanoseconds d) noexcept {
  return d.count() <= 0 ? 0 : static_cast<std::uint64_t>(d.count());
}

/// Everything behind a Barrier handle.
struct BarrierState {
  BusImpl* impl = nullptr;  // stays put when the Bus handle itself is moved
  BarrierTable table;
  std::uint32_t index = 0;
  std::string name;
  std::uint32_t self = kNoAgent;  // our agent index
  std::uint64_t self_ref = 0;     // our agent ref (index + epoch)
  std::uint32_t participant = kNoAgent;
  ArriveContext ctx;
  std::uint64_t target = 0;  // round() of the participant side

  bool waiter = false;
  std::uint64_t want = 0;  // the next round the waiter returns
  std::uint64_t lost = 0;  // rounds that could not be read, reported with the next one
  TopicId completed_topic = kInvalidTopic;
  TopicId timeout_topic = kInvalidTopic;
  SealedRound sealed;
  std::uint64_t last_poll_ns = 0;

  explicit BarrierState(Segment& seg) : table(seg) {}

  BarrierHeader& header() const noexcept { return table.header(index); }
  bool gone() const noexcept {
    return header().incarnation.load(std::memory_order_acquire) != ctx.incarnation;
  }
  Error gone_error() const {
    return make_error(Errc::kNotFound, "barrier '" + name + "' was removed");
  }

  // The open round a participant should target now.
  std::uint64_t current_open_round() const noexcept {
    const std::uint64_t r = header().round.load(std::memory_order_acquire);
    return round_gen(r) + (round_closing(r) ? 1 : 0);
  }

  // The agent's heartbeat while it waits here. Only the atomic in the record: another thread may
  // be dispatching on the same Bus (Dispatcher::heartbeat is for the dispatching thread).
  void beat(std::uint64_t now) noexcept {
    impl->record().heartbeat_ns.store(now, std::memory_order_relaxed);
  }

  // The waiter's side (shm/barrier_wait.cpp).
  void publish(const SealedRound& s, std::uint64_t now_ns) noexcept;
  bool close_and_take(std::uint64_t g, BarrierRound& out);
  bool take_closed(std::uint64_t g, BarrierRound& out);
  void poll_liveness(std::uint64_t now);
  Result<void> wait_round(BarrierRound& out, std::uint64_t timeout_ns, WaitStrategy strategy);
  void sleep_for_arrivals(const RoundScan& scan, std::uint32_t word, std::uint64_t wake_at,
                          WaitStrategy strategy, std::uint32_t& spins) noexcept;
};

}  // namespace shmbus::detail
