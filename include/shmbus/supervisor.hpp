// The supervisor: creates a bus segment (or re-attaches to a live one after its own restart)
// and, on a short period, enforces the rules a bus of independent processes needs:
// backpressure levels, untethering of slow subscribers, agent and bus health, recovery of dead
// agents, closing of stuck claims and per-agent publish rate limits. Changes go out as sys.*
// events (catalog.hpp). Used by shmbus-supervisor and driven in-process by tests; never in
// the data path.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "shmbus/catalog.hpp"
#include "shmbus/config.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"

namespace shmbus {

namespace detail {
class SupervisorImpl;
}

/// Backpressure levels per ring, from its fill: how far the slowest tethered subscriber is
/// behind the tail, as a fraction of the ring's usable capacity (capacity less history_depth,
/// where publishers find the ring full).
struct BackpressurePolicy {
  /// Fill at which a ring enters WARNING, HIGH and CRITICAL; ascending, each in (0, 1].
  double warning = 0.50;
  double high = 0.75;
  double critical = 0.90;
  /// A level is left only once the fill is this far below its threshold...
  double hysteresis = 0.05;
  /// ...and it has been held this long (raising is immediate). Shedding at CRITICAL drains a
  /// ring quickly; without a dwell a flooded ring would flap between HIGH and CRITICAL.
  std::chrono::nanoseconds min_dwell = std::chrono::milliseconds(100);
  /// LOW events per second each publisher may send while their ring is at HIGH or above.
  std::uint32_t low_rate_at_high_per_s = 1000;
};

/// Slow subscribers: a tethered subscriber that stays behind is untethered, so producers stop
/// waiting for it. It later gets a gap notice for what it missed and re-tethers once caught up.
struct SlowSubscriberPolicy {
  /// false: never untether (producers wait for every subscriber, up to their publish timeout).
  bool untether = true;
  /// Lag, as a fraction of the ring's usable capacity, from which a subscriber counts as behind.
  double lag = 0.90;
  /// How long a subscriber may stay behind past `lag` before it is untethered.
  std::chrono::nanoseconds behind_for = std::chrono::milliseconds(500);
  /// A cursor that does not move while an event waits for it this long is stalled: untethered
  /// (and UNHEALTHY). Half of it makes the agent DEGRADED.
  std::chrono::nanoseconds stall_timeout = std::chrono::milliseconds(1000);
};

/// Thresholds of the health an agent is judged to have. Each check gives DEGRADED or
/// UNHEALTHY; the agent's health is the worst of them. Death (liveness lock released) is DEAD.
struct HealthPolicy {
  std::chrono::nanoseconds heartbeat_degraded = std::chrono::milliseconds(1000);
  std::chrono::nanoseconds heartbeat_unhealthy = std::chrono::milliseconds(5000);
  /// Consecutive handler failures (AgentRecord::handler_error_streak).
  std::uint32_t error_streak_degraded = 3;
  std::uint32_t error_streak_unhealthy = 10;
  /// Delivery latency (AgentRecord::max_delivery_latency_ns), held for `latency_hold`.
  std::chrono::nanoseconds latency_degraded = std::chrono::milliseconds(10);
  std::chrono::nanoseconds latency_unhealthy = std::chrono::milliseconds(100);
  std::chrono::nanoseconds latency_hold = std::chrono::milliseconds(1000);
  /// Also compare the record's pid and process start time with /proc: a live lock whose process
  /// is gone (or whose pid was reused) makes the agent UNHEALTHY. Turn off across PID namespaces.
  bool check_pid = true;
};

/// Flood protection: publish rate limits per agent (events per second over all priorities;
/// 0 = unlimited), written into each agent's record when it joins.
struct RateLimitPolicy {
  std::uint64_t default_per_s = 0;
  /// Overrides by agent name.
  std::vector<std::pair<std::string, std::uint64_t>> per_agent;
};

/// Where shmbus-supervisor serves Prometheus metrics unless told otherwise: loopback only.
inline constexpr const char* kDefaultMetricsAddress = "127.0.0.1:9464";

struct SupervisorConfig {
  /// Bus name and the geometry a new segment gets. A live segment being re-attached keeps its
  /// own geometry.
  BusConfig bus;
  /// Period of the checks.
  std::chrono::nanoseconds check_period = std::chrono::milliseconds(10);
  /// A claimed slot that stays uncommitted this long while subscribers wait at it is closed
  /// (padded). A live claimant's slot is also quarantined; its commit then reports kAborted.
  std::chrono::nanoseconds unblock_timeout = std::chrono::milliseconds(100);
  BackpressurePolicy backpressure;
  SlowSubscriberPolicy slow_subscribers;
  HealthPolicy health;
  RateLimitPolicy rate_limits;
  /// Publish sys.* events (health, backpressure, gap, agent joined/left) as this agent.
  bool system_events = true;
  std::string agent_name = "supervisor";
  /// On shutdown: keep the segment (agents go on without a supervisor), else remove it.
  bool keep_segment = false;
  /// On shutdown: remove the segment even while live agents still map it.
  bool force_remove = false;
  /// Serve Prometheus metrics (GET /metrics) on "HOST:PORT"; a bare "PORT" binds 127.0.0.1, and
  /// port 0 picks a free one (see Supervisor::metrics_port()). Empty: no endpoint. The library
  /// default is empty so embedded supervisors open no port; shmbus-supervisor defaults to
  /// kDefaultMetricsAddress. Scrapes read the segment on the endpoint's own thread.
  std::string metrics_address;
};

/// Checks a SupervisorConfig; returns an empty string when valid, else the first problem.
std::string validate_supervisor_config(const SupervisorConfig& config);

/// One ring as the supervisor last saw it.
struct RingStatus {
  Priority ring = Priority::kCritical;
  std::uint64_t tail = 0;
  std::uint64_t fill = 0;    ///< tail less the slowest tethered cursor
  std::uint64_t usable = 0;  ///< capacity less history_depth
  double fill_ratio = 0;     ///< fill / usable
  catalog::BackpressureLevel level = catalog::BackpressureLevel::kNormal;
  std::uint64_t padded = 0;       ///< slots padded (stuck claims, quarantined laps)
  std::uint64_t quarantined = 0;  ///< stuck claims of live producers quarantined
};

/// One agent as the supervisor last saw it.
struct AgentStatus {
  std::uint32_t index = 0;
  std::uint32_t epoch = 0;
  std::uint32_t pid = 0;
  std::string name;
  catalog::HealthState health = catalog::HealthState::kUnknown;
  catalog::HealthReason reason = catalog::HealthReason::kUnknown;
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
  catalog::HealthState bus_health = catalog::HealthState::kUnknown;
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
