// The supervisor: creates a bus segment (or re-attaches to a live one after its own restart)
// and, on a short period, enforces the rules a bus of independent processes needs:
// backpressure levels, untethering of slow subscribers, agent and bus health, recovery of dead
// agents, closing of stuck claims and per-agent publish rate limits. Changes go out as sys.*
// events (sys_events.hpp). Used by shmbus-supervisor and driven in-process by tests; never in
// the data path.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "shmbus/config.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/supervisor_config.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus {

namespace detail {
class SupervisorImpl;
}

/// One ring as the supervisor last saw it.
struct RingStatus {
  Priority ring = Priority::kCritical;
  std::uint64_t tail = 0;
  std::uint64_t fill = 0;    ///< tail less the slowest tethered cursor
  std::uint64_t usable = 0;  ///< capacity less history_depth
  double fill_ratio = 0;     ///< fill / usable
  sys::BackpressureLevel level = sys::BackpressureLevel::kNormal;
  std::uint64_t padded = 0;       ///< slots padded (stuck claims, quarantined laps)
  std::uint64_t quarantined = 0;  ///< stuck claims of live producers quarantined
};

/// One agent as the supervisor last saw it.
struct AgentStatus {
  std::uint32_t index = 0;
  std::uint32_t epoch = 0;
  std::uint32_t pid = 0;
  std::string name;
  sys::HealthState health = sys::HealthState::kUnknown;
  sys::HealthReason reason = sys::HealthReason::kUnknown;
  std::uint64_t heartbeat_age_ns = 0;
  std::uint32_t error_streak = 0;
  std::uint8_t reading_mask = 0;   ///< bit r: reads ring r
  std::uint8_t tethered_mask = 0;  ///< bit r: tethered on ring r
  std::array<std::uint64_t, kPriorityCount> lag{};
  std::array<std::uint64_t, kPriorityCount> published{};
  std::array<std::uint64_t, kPriorityCount> shed{};
  std::array<std::uint64_t, kPriorityCount> rate_limited{};
  std::array<std::uint64_t, kPriorityCount> missed{};
  std::uint64_t rate_limit_per_s = 0;
};

/// A plain copy of the supervisor's view, for the CLI and metrics. Taken at the end of a tick.
struct SupervisorSnapshot {
  std::string bus_name;
  std::uint64_t epoch = 0;  ///< supervisor_epoch in the segment
  std::uint64_t ticks = 0;
  bool reattached = false;  ///< started on a live segment rather than creating one
  sys::HealthState bus_health = sys::HealthState::kUnknown;
  std::array<RingStatus, kPriorityCount> rings{};
  std::vector<AgentStatus> agents;  ///< live agents, the supervisor's own included
  std::uint64_t claims_padded = 0;
  std::uint64_t agents_recovered = 0;
  std::uint64_t agents_untethered = 0;
  std::uint64_t pinned_slots = 0;  ///< slots quarantined right now
  std::uint64_t system_events_published = 0;
  std::uint64_t system_events_dropped = 0;  ///< sys.* events that found their ring full
};

/// Threading: tick() and run() belong to one thread; stop() may be called from any thread or a
/// signal handler; snapshot() from any thread.
class Supervisor {
 public:
  /// Creates the bus segment, or re-attaches when a live segment of that name exists (agents
  /// running on after a supervisor restart), and takes the bus's supervisor lock. Errors:
  /// kInvalidArgument (config), kBusy (another supervisor runs on this bus), kVersionMismatch /
  /// kCorrupt / kNotReady (the existing segment), kPermission, kSystem. A metrics address that
  /// cannot be bound is not an error: it is logged and metrics_port() stays 0.
  static Result<Supervisor> start(const SupervisorConfig& config);

  Supervisor(Supervisor&&) noexcept;
  Supervisor& operator=(Supervisor&&) noexcept;
  /// Calls shutdown() if it was not called.
  ~Supervisor();

  /// One round of checks. Tests call it directly; run() calls it every check_period.
  void tick();
  /// Ticks every check_period until stop().
  void run();
  /// Makes run() return soon. Any thread; async-signal-safe.
  void stop() noexcept;
  /// Leaves the bus: resets backpressure levels, releases the supervisor lock and removes the
  /// segment unless keep_segment (or while live agents map it, unless force_remove; that case
  /// is not an error: it is logged and the segment is kept).
  Result<void> shutdown();

  SupervisorSnapshot snapshot() const;
  bool reattached() const noexcept;
  std::uint64_t epoch() const noexcept;
  const std::string& bus_name() const noexcept;
  /// The port the metrics endpoint listens on; 0 when metrics are off or could not be bound.
  std::uint16_t metrics_port() const noexcept;

 private:
  explicit Supervisor(std::unique_ptr<detail::SupervisorImpl> impl);
  std::unique_ptr<detail::SupervisorImpl> impl_;
};

}  // namespace shmbus
