// SystemEvents: how the supervisor speaks on the bus. It attaches to its own segment as an
// ordinary agent ("supervisor"), registers the sys.* catalogue topics it publishes, and
// publishes them on the CRITICAL ring (never shed) with kFlagSystem, returning at once when
// the ring is full (the supervisor never blocks; such events are counted as dropped).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "shmbus/result.hpp"
#include "shmbus/sys_events.hpp"
#include "shmbus/topic.hpp"

namespace shmbus {
class Bus;
}  // namespace shmbus

namespace shmbus::detail {

class SystemEvents {
 public:
  SystemEvents();  // defined where Bus is complete
  ~SystemEvents();
  SystemEvents(const SystemEvents&) = delete;
  SystemEvents& operator=(const SystemEvents&) = delete;

  /// Attaches to `bus_name` as `agent_name` and registers the topics.
  Result<void> open(const std::string& bus_name, const std::string& agent_name);
  /// Detaches (the agent record is freed).
  void close();
  /// The segment was truncated under us: makes this agent's mapping harmless (Segment::neuter).
  void neuter() noexcept;
  bool is_open() const noexcept { return bus_ != nullptr; }
  /// The supervisor's own agent index, 0xFFFFFFFF when not attached.
  std::uint32_t agent_index() const noexcept;
  void heartbeat() noexcept;

  bool publish(const sys::AgentHealthChange& e) noexcept { return send(health_, &e, sizeof e); }
  bool publish(const sys::BackpressureChange& e) noexcept {
    return send(backpressure_, &e, sizeof e);
  }
  bool publish(const sys::GapNotice& e) noexcept { return send(gap_, &e, sizeof e); }
  bool publish(const sys::AgentJoined& e) noexcept { return send(joined_, &e, sizeof e); }
  bool publish(const sys::AgentLeft& e) noexcept { return send(left_, &e, sizeof e); }
  bool publish(const sys::BarrierCompleted& e) noexcept {
    return send(barrier_completed_, &e, sizeof e);
  }
  bool publish(const sys::BarrierTimeout& e) noexcept {
    return send(barrier_timeout_, &e, sizeof e);
  }

  std::uint64_t published() const noexcept { return published_; }
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  bool send(TopicId topic, const void* data, std::size_t size) noexcept;

  std::unique_ptr<Bus> bus_;
  TopicId health_ = kInvalidTopic;
  TopicId backpressure_ = kInvalidTopic;
  TopicId gap_ = kInvalidTopic;
  TopicId joined_ = kInvalidTopic;
  TopicId left_ = kInvalidTopic;
  TopicId barrier_completed_ = kInvalidTopic;
  TopicId barrier_timeout_ = kInvalidTopic;
  std::uint64_t published_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace shmbus::detail
