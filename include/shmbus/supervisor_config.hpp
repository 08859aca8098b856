// Configuration of the supervisor: its policies (backpressure, slow subscribers, health, rate
// limits), the metrics endpoint and the bus geometry it creates, with their validation. Used by
// Supervisor::start (supervisor.hpp), the supervisor's monitors and shmbus-supervisor's config
// file.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "shmbus/config.hpp"

namespace shmbus {

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

}  // namespace shmbus
