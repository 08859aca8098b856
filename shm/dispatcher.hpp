// Dispatcher: the subscribing half of an agent (owned by BusImpl). One RingReader
// per priority, the subscription table, dispatch of each event to its handlers
// (strict priority across rings, the delivery-latency histogram, the handler
// budget, HandlerIsolation on failure), gap reports, and the idle wait (spin,
// yield or futex) of poll_wait, run and wait_for. Dispatching thread only, except
// stop(). Not API.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "shm/agent_table.hpp"
#include "shm/handler_isolation.hpp"
#include "shm/publisher.hpp"
#include "shm/ring/ring_reader.hpp"
#include "shm/segment.hpp"
#include "shm/shared_topics.hpp"
#include "shm/subscriptions.hpp"
#include "shm/topic_registry.hpp"
#include "shmbus/handler.hpp"

namespace shmbus::detail {

class Dispatcher {
 public:
  Dispatcher() = default;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;
  /// Binds to agent `self` of `segment`. `publisher` carries the sys.error events of handler
  /// isolation; `last_recover_ns` is shared with it (the process's last sweep of dead agents).
  /// Cold; all referenced objects outlive this one.
  void init(Segment& segment, std::uint32_t self, const AgentOptions& options, SharedTopics& topics,
            Publisher& publisher, std::atomic<std::uint64_t>& last_recover_ns);

  Result<SubscriptionId> subscribe(std::string_view pattern, Handler handler,
                                   HandlerOptions options, bool once);
  Result<void> unsubscribe(SubscriptionId id);
  Result<OwnedEvent> wait_for(std::string_view pattern, std::chrono::nanoseconds timeout,
                              std::function<bool(const EventView&)> predicate);
  std::size_t poll(std::size_t max_events) noexcept;
  std::size_t poll_wait(std::size_t max_events, std::uint64_t timeout_ns) noexcept;
  void run(std::uint64_t deadline_ns);
  /// Any thread.
  void stop() noexcept;
  void set_gap_handler(std::function<void(Priority, std::uint64_t)> handler) {
    gap_handler_ = std::move(handler);
  }
  void heartbeat() noexcept;
  std::uint64_t events_missed() const noexcept { return missed_total_; }
  /// The dispatcher's copy of a registered topic (name, size); nullptr when unknown.
  const CachedTopic* topic(TopicId id) noexcept;

 private:
  void activate_readers();
  void dispatch(std::uint32_t ring, const ReadEvent& event) noexcept;
  void record_latency(std::uint64_t latency_ns) noexcept;
  void refresh_handler_counts() noexcept;
  void report_gap(std::uint32_t ring) noexcept;  // before the first event after the gap
  void report_gaps() noexcept;
  bool any_pending() const noexcept;
  void idle_wait(std::uint64_t deadline_ns, std::uint32_t idle_rounds) noexcept;
  void recover_stuck() noexcept;

  Segment* seg_ = nullptr;
  AgentRecord* rec_ = nullptr;
  std::uint32_t self_ = kNoAgent;
  std::uint32_t max_topics_ = 0;
  std::uint32_t history_depth_ = 0;
  bool start_from_history_ = false;
  WaitStrategy wait_ = WaitStrategy::kSpinYield;
  std::uint64_t heartbeat_period_ns_ = 0;
  std::uint64_t handler_budget_ns_ = 0;

  SharedTopics* topics_ = nullptr;
  std::vector<CachedTopic> topics_cache_;  // our own copy: no lock on dispatch
  RingReader readers_[kRingCount];
  // Per ring, the event poll() holds back (position + 1, 0 = none) and the higher rings' tails
  // when it was first seen: it waits only for the claims made before then (see poll()).
  std::uint64_t held_[kRingCount] = {};
  std::uint64_t held_tails_[kRingCount][kRingCount] = {};
  std::unique_ptr<SubscriptionTable> subs_;
  HandlerIsolation isolation_;
  std::function<void(Priority, std::uint64_t)> gap_handler_;
  std::uint64_t missed_total_ = 0;
  bool readers_active_ = false;
  bool in_dispatch_ = false;
  std::atomic<bool> stop_{false};
  std::uint64_t last_heartbeat_ns_ = 0;
  std::atomic<std::uint64_t>* last_recover_ns_ = nullptr;  // publishers and dispatcher, relaxed
  std::uint64_t last_stuck_check_ns_ = 0;
};

}  // namespace shmbus::detail
