// An in-process bus for the supervisor's monitor tests (tests/*_monitor_test.cpp,
// agent_roster_test.cpp). Each agent is registered through its own segment handle and the
// monitors read through another, so every liveness lock is on its own open file description
// and looks held by another process, as it does to a real supervisor. Tests stage cursors, claims,
// commits and heartbeats by writing the segment words directly and call check(now) with a fake
// clock: no threads, no sleeps.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "shm/agent_table.hpp"
#include "shm/segment.hpp"
#include "shmbus/supervisor.hpp"
#include "testing/test_support.hpp"

namespace shmbus::testing {

/// Fake CLOCK_MONOTONIC origin: far from 0, so "age = now - word" never underflows.
inline constexpr std::uint64_t kT0 = 1'000'000'000'000;
constexpr std::uint64_t ms(std::uint64_t n) {
  return n * 1'000'000;
}

class MonitorBus {
 public:
  /// Rings of 64 slots with 16 of history (48 usable), `max_agents` records.
  explicit MonitorBus(const std::string& tag, std::uint32_t max_agents = 4)
      : guard_(unique_bus_name(tag)) {
    auto created = detail::Segment::create(small_bus_config(guard_.name(), max_agents, 16));
    if (!created) throw std::runtime_error(created.message());
    creator_ = std::move(*created);
    auto view = detail::Segment::open(guard_.name());
    if (!view) throw std::runtime_error(view.message());
    view_ = std::move(*view);
    config.bus = view_->bus_config();
  }

  /// The supervisor's view of the segment: what the monitors are built on.
  detail::Segment& seg() const { return *view_; }
  const std::string& name() const { return guard_.name(); }

  /// Registers an agent held by this process, with its heartbeat at `now_ns`.
  std::uint32_t add_agent(const std::string& agent, std::uint64_t now_ns = kT0) {
    auto handle = detail::Segment::open(guard_.name());
    if (!handle) throw std::runtime_error(handle.message());
    auto index = detail::register_agent(**handle, agent);
    if (!index) throw std::runtime_error(index.message());
    record(*index).heartbeat_ns.store(now_ns);
    agents_[*index] = std::move(*handle);
    return *index;
  }
  /// What the kernel does when the agent's process dies: its handle (and so its liveness lock)
  /// goes, the record stays ACTIVE until someone recovers it.
  void kill_agent(std::uint32_t index) { agents_.at(index).reset(); }
  /// A clean detach.
  void detach_agent(std::uint32_t index) {
    detail::unregister_agent(*agents_.at(index), index);
    agents_.at(index).reset();
  }

  detail::AgentRecord& record(std::uint32_t index) const { return view_->agent(index); }
  detail::ReaderCursor& cursor(std::uint32_t index, std::uint32_t ring) const {
    return record(index).cursors[ring];
  }
  /// The agent reads `ring` from `position` (tethered: producers wait for it).
  void subscribe(std::uint32_t index, std::uint32_t ring, std::uint64_t position,
                 bool tethered = true) const {
    cursor(index, ring).position.store(position);
    const std::uint32_t tether = tethered ? std::uint32_t{detail::kReaderTethered} : 0u;
    cursor(index, ring).flags.store(std::uint32_t{detail::kReaderActive} | tether);
  }
  std::uint64_t tail(std::uint32_t ring) const { return view_->ring(ring).tail.load(); }
  /// Claims and commits `n` events at the tail (the seq word a producer's commit leaves).
  void publish(std::uint32_t ring, std::uint64_t n) const {
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t p = claim(ring);
      view_->slot(ring, p).seq.store(p + 1);
    }
  }
  /// Moves the tail past one slot without committing it (a claim in progress); its position.
  std::uint64_t claim(std::uint32_t ring) const { return view_->ring(ring).tail.fetch_add(1); }

  SupervisorConfig config;

 private:
  SegmentGuard guard_;  // first: removes the segment after every handle is gone
  std::unique_ptr<detail::Segment> creator_;
  std::unique_ptr<detail::Segment> view_;
  std::map<std::uint32_t, std::unique_ptr<detail::Segment>> agents_;  // by record index
};

}  // namespace shmbus::testing
