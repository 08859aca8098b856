// Bus: one process's handle on a shared-memory event bus. Attaching registers
// an agent record; the handle publishes into the per-priority rings and
// dispatches events of the topics it subscribed to. The main user-facing type.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/claim.hpp"
#include "shmbus/config.hpp"
#include "shmbus/event.hpp"
#include "shmbus/handler.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/sys_events.hpp"
#include "shmbus/topic.hpp"

namespace shmbus {

namespace detail {
class BusImpl;
struct BusAccess;  // the library's own way in (shm/bus_access.hpp); not API
}  // namespace detail

/// Threading: one Bus may publish from several threads at once; dispatching (poll/run,
/// on/off/wait_for) belongs to one thread at a time. stop() may be called from any thread.
/// Per-producer FIFO holds per publishing thread.
class Bus {
 public:
  /// Embedded mode: creates the segment described by `config` and attaches to it as an agent.
  /// The segment is removed when this Bus is destroyed. Errors: kInvalidArgument (config),
  /// kAlreadyExists (a live segment of that name), kPermission, kSystem.
  static Result<Bus> create(const BusConfig& config, const AgentOptions& options);

  /// Attaches to the live bus `bus_name` as agent `options.name`. Errors: kNotFound (no such
  /// bus), kVersionMismatch, kCorrupt, kNotReady, kAlreadyExists (live agent of that name),
  /// kCapacityExceeded (agent table full), kInvalidArgument (bad name).
  static Result<Bus> attach(std::string_view bus_name, const AgentOptions& options);

  /// Unlinks the segment of `bus_name`. Refuses (kBusy) while live agents hold it unless `force`.
  static Result<void> remove(std::string_view bus_name, bool force = false);

  Bus(Bus&&) noexcept;
  Bus& operator=(Bus&&) noexcept;
  ~Bus();

  // ---- topics ----------------------------------------------------------------------------
  /// Registers (or finds) a topic. `payload_size` 0 means variable-size bytes; otherwise every
  /// publish on it must carry exactly that many bytes. Re-registering with another size or
  /// schema is kInvalidArgument; a full registry is kCapacityExceeded.
  Result<TopicId> register_topic(std::string_view name, std::uint32_t payload_size = 0,
                                 std::uint16_t schema_version = 0);
  /// Looks a registered topic up by name (kNotFound when none).
  Result<TopicId> find_topic(std::string_view name);
  /// Name of a registered topic id; empty when unknown.
  std::string_view topic_name(TopicId id);

  template <typename T>
  Result<Topic<T>> topic(std::string_view name) {
    auto id = register_topic(name, sizeof(T), schema_version_of<T>());
    if (!id) return id.error();
    return Topic<T>{*id};
  }

  // ---- publishing (hot path: noexcept, no allocation, no system call unless a
  //      subscriber sleeps or the ring is full and the policy waits) ----------------------
  PublishStatus publish(TopicId topic, std::span<const std::byte> payload,
                        Priority priority = Priority::kNormal) noexcept;
  PublishStatus publish(TopicId topic, const void* data, std::size_t size,
                        Priority priority = Priority::kNormal) noexcept {
    return publish(topic, std::span<const std::byte>(static_cast<const std::byte*>(data), size),
                   priority);
  }
  /// Like publish(), but a full ring returns kFull at once even under FullPolicy::kWait, and
  /// that kFull is not counted (as full or dropped): the caller is expected to publish() the
  /// event next, which waits and counts. For bindings that must drop a lock (Python's GIL)
  /// before waiting but not on every call. Admission (shedding, rate limits) runs on both
  /// calls, but a try that returns kFull gives its rate-limit charge back: the event is charged
  /// once, by the publish() that follows. Any other outcome is publish()'s.
  PublishStatus try_publish(TopicId topic, const void* data, std::size_t size,
                            Priority priority = Priority::kNormal) noexcept;
  /// Publishes `count` payloads of `item_size` bytes each, laid end to end at `data`, in order:
  /// the same as `count` publish() calls that stop at the first status but kOk (each event its
  /// own slot, claim, commit, producer sequence and timestamp; the same admission, shedding,
  /// rate limits, full-ring policy and counters per event), for less per event: the topic and
  /// size checks are made once, and the counters, the heartbeat and the check for sleeping
  /// subscribers once per stretch of up to 32 events (a sleeper is woken at the latest when the
  /// stretch holding its event is committed, and before the batch waits on a full ring).
  /// Returns how many were published (a prefix of the batch) and kOk, or the status that
  /// stopped the next one. A bad item size is kBadSize with nothing published.
  PublishBatchResult publish_batch(TopicId topic, const void* data, std::size_t item_size,
                                   std::size_t count,
                                   Priority priority = Priority::kNormal) noexcept;
  /// publish_batch() as try_publish() is publish(): a full ring stops the batch with kFull at
  /// once even under FullPolicy::kWait, that kFull uncounted and its event's rate-limit charge
  /// given back; the caller publish_batch()es the rest (from `published` on) next.
  PublishBatchResult try_publish_batch(TopicId topic, const void* data, std::size_t item_size,
                                       std::size_t count,
                                       Priority priority = Priority::kNormal) noexcept;
  template <typename T>
  PublishStatus publish(Topic<T> topic, const T& value,
                        Priority priority = Priority::kNormal) noexcept {
    return publish(topic.id, &value, sizeof(T), priority);
  }

  /// Claims a slot for `size` payload bytes to fill in place.
  Claim claim(TopicId topic, std::uint32_t size, Priority priority = Priority::kNormal) noexcept;
  /// Commits a filled claim. kOk means it will be delivered; kAborted means the supervisor
  /// closed the slot because this publisher stalled past the unblock timeout.
  PublishStatus commit(Claim& claim) noexcept;
  /// Gives a claim back; subscribers skip its slot.
  void cancel(Claim& claim) noexcept;

  // ---- subscribing -----------------------------------------------------------------------
  /// Calls `handler` for every event whose topic matches `pattern`: an exact name,
  /// "prefix.*" (every topic below prefix) or "*". Topics need not exist yet.
  Result<SubscriptionId> on(std::string_view pattern, Handler handler, HandlerOptions options = {});
  /// Like on(), removed after its first call.
  Result<SubscriptionId> once(std::string_view pattern, Handler handler,
                              HandlerOptions options = {});
  /// Every event of every topic.
  Result<SubscriptionId> on_any(Handler handler, HandlerOptions options = {});
  /// Removes a subscription (kNotFound when unknown). Safe inside a handler.
  Result<void> off(SubscriptionId id);

  /// Dispatches until an event matching `pattern` (and `predicate`, when given) arrives and
  /// returns a copy of it; kTimeout after `timeout`. Other handlers keep running meanwhile.
  Result<OwnedEvent> wait_for(std::string_view pattern, std::chrono::nanoseconds timeout,
                              std::function<bool(const EventView&)> predicate = {});

  // ---- dispatching -----------------------------------------------------------------------
  /// Handles up to `max_events` ready events, CRITICAL before HIGH before NORMAL before LOW,
  /// without waiting. Returns how many events were consumed (matched or not).
  std::size_t poll(std::size_t max_events = 1u << 20) noexcept;
  /// Like poll(), but when nothing is ready waits with the agent's wait strategy (spin, yield
  /// or futex) up to `timeout` for the first event. Returns 0 on timeout or stop().
  std::size_t poll_wait(std::size_t max_events, std::chrono::nanoseconds timeout) noexcept;
  /// Dispatches with the agent's wait strategy until stop().
  void run();
  /// Dispatches until stop() or until `duration` has passed.
  void run_for(std::chrono::nanoseconds duration);
  /// Makes run()/run_for()/wait_for() return soon. Any thread, async-signal-safe.
  void stop() noexcept;

  // ---- information -----------------------------------------------------------------------
  const std::string& bus_name() const noexcept;
  const std::string& agent_name() const noexcept;
  std::uint32_t agent_index() const noexcept;
  const BusConfig& config() const noexcept;
  /// Events this subscriber missed (lapped while untethered) since attach.
  std::uint64_t events_missed() const noexcept;
  /// The last events still kept in the rings (BusConfig::history_depth per ring survive behind
  /// the slowest subscriber; older ones until overwritten), whatever process published them:
  /// up to `limit` most recent events per ring whose topic matches `pattern`, oldest first,
  /// rings merged by publish timestamp with each ring's own order kept. Copies, flagged
  /// kFlagFromHistory. Any thread; cold path (allocates). kInvalidArgument on a bad pattern.
  Result<std::vector<OwnedEvent>> history(std::string_view pattern, std::size_t limit);
  /// Called on the dispatching thread when this subscriber learns it missed events of a ring
  /// (it was untethered and lapped): the gap notice, with the number of positions lost.
  void on_gap(std::function<void(Priority, std::uint64_t missed)> handler);
  /// Calls `handler(ring, level)` on the dispatching thread for every backpressure level change
  /// the supervisor publishes (sys.backpressure). A subscription like any other: this agent's
  /// cursors then hold producers back, so keep dispatching (poll/run).
  Result<SubscriptionId> on_backpressure(
      std::function<void(Priority ring, sys::BackpressureLevel level)> handler);
  /// Calls `handler` on the dispatching thread for every health change of an agent or of the
  /// bus (agent_index == sys::kBusWide) the supervisor publishes (sys.health).
  Result<SubscriptionId> on_health(std::function<void(const sys::AgentHealthChange&)> handler);
  /// Writes the heartbeat now (dispatchers and publishers also do it as they work).
  void heartbeat() noexcept;

 private:
  friend struct detail::BusAccess;
  explicit Bus(std::unique_ptr<detail::BusImpl> impl);
  std::unique_ptr<detail::BusImpl> impl_;
};

}  // namespace shmbus
