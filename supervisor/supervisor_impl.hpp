// SupervisorImpl: behind the public Supervisor handle. Owns the admin view of the segment
// (with the supervisor liveness lock), the system-event agent and the monitors, and runs them
// in order each tick: roster (recover the dead) -> stuck claims -> slow subscribers ->
// backpressure -> health -> barriers (enforce_barriers, supervisor/barrier_enforcer.hpp); then
// logs and publishes what changed. Not API.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/supervisor.hpp"
#include "supervisor/agent_roster.hpp"
#include "supervisor/backpressure_monitor.hpp"
#include "supervisor/barrier_enforcer.hpp"
#include "supervisor/health_monitor.hpp"
#include "supervisor/slot_pins.hpp"
#include "supervisor/slow_subscriber_monitor.hpp"
#include "supervisor/stuck_claim_monitor.hpp"
#include "supervisor/system_events.hpp"

namespace spdlog {
class logger;
}

namespace shmbus::detail {

struct MetricsServer;

class SupervisorImpl {
 public:
  static Result<std::unique_ptr<SupervisorImpl>> start(const SupervisorConfig& config);
  ~SupervisorImpl();
  SupervisorImpl(const SupervisorImpl&) = delete;
  SupervisorImpl& operator=(const SupervisorImpl&) = delete;

  void tick();
  void run();
  void stop() noexcept;
  Result<void> shutdown();
  SupervisorSnapshot snapshot() const;

  bool reattached() const noexcept { return reattached_; }
  std::uint64_t epoch() const noexcept { return epoch_; }
  const std::string& bus_name() const noexcept { return bus_name_; }
  std::uint16_t metrics_port() const noexcept;

 private:
  SupervisorImpl(std::unique_ptr<Segment> segment, const SupervisorConfig& config, bool reattached,
                 std::uint64_t epoch);
  void report();
  void take_snapshot(std::uint64_t now_ns);

  // Declaration order matters: the monitors hold references to config_ and *seg_.
  SupervisorConfig config_;
  std::unique_ptr<Segment> seg_;
  std::string bus_name_;
  bool reattached_ = false;
  std::uint64_t epoch_ = 0;
  std::shared_ptr<spdlog::logger> log_;
  SystemEvents events_;
  SlotPins pins_;
  AgentRoster roster_;
  StuckClaimMonitor stuck_;
  SlowSubscriberMonitor slow_;
  BackpressureMonitor backpressure_;
  HealthMonitor health_;

  // Per-tick findings, kept to reuse their capacity.
  std::vector<sys::AgentJoined> joined_;
  std::vector<sys::AgentLeft> left_;
  std::vector<ClosedClaim> closed_;
  std::vector<UntetherAction> untethered_;
  std::vector<sys::GapNotice> gaps_;
  std::vector<sys::BackpressureChange> levels_;
  std::vector<sys::AgentHealthChange> health_changes_;
  std::vector<BarrierEnforcement> barriers_;

  std::uint64_t ticks_ = 0;
  bool shut_down_ = false;
  // Why the segment can no longer be used (truncated under us); empty while it can.
  std::string segment_lost_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint32_t> wake_{0};  // futex word run() sleeps on between ticks
  // The Prometheus endpoint (metrics_address); its threads only read the segment. Stopped
  // first in shutdown(), before the segment can go.
  std::unique_ptr<MetricsServer> metrics_;
  mutable std::mutex snapshot_mu_;
  SupervisorSnapshot snapshot_;
};

}  // namespace shmbus::detail
