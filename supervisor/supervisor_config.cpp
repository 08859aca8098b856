// Validation of a SupervisorConfig (the public struct in shmbus/supervisor_config.hpp).
#include <string>

#include "shmbus/supervisor_config.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus {

namespace {
std::string fraction_problem(const char* what, double v) {
  if (!(v > 0.0 && v <= 1.0))
    return std::string(what) + " must be in (0, 1], not " + std::to_string(v);
  return {};
}
}  // namespace

std::string validate_supervisor_config(const SupervisorConfig& c) {
  if (auto e = validate_config(c.bus); !e.empty()) return e;
  using std::chrono::nanoseconds;
  if (c.check_period <= nanoseconds(0) || c.check_period > std::chrono::seconds(10)) {
    return "check_period must be in (0, 10 s]";
  }
  if (c.unblock_timeout <= nanoseconds(0)) return "unblock_timeout must be positive";
  const BackpressurePolicy& b = c.backpressure;
  for (auto [what, v] :
       {std::pair{"backpressure.warning", b.warning}, std::pair{"backpressure.high", b.high},
        std::pair{"backpressure.critical", b.critical}}) {
    if (auto e = fraction_problem(what, v); !e.empty()) return e;
  }
  if (!(b.warning < b.high && b.high < b.critical)) {
    return "backpressure thresholds must ascend: warning < high < critical";
  }
  if (!(b.hysteresis >= 0.0 && b.hysteresis < b.warning)) {
    return "backpressure.hysteresis must be in [0, warning)";
  }
  if (b.min_dwell < nanoseconds(0)) return "backpressure.min_dwell must not be negative";
  const SlowSubscriberPolicy& s = c.slow_subscribers;
  if (auto e = fraction_problem("slow_subscribers.lag", s.lag); !e.empty()) return e;
  if (s.behind_for < nanoseconds(0)) return "slow_subscribers.behind_for must not be negative";
  // A subscriber waiting behind a stuck claim must see it closed before it counts as stalled.
  if (s.stall_timeout <= c.unblock_timeout) {
    return "slow_subscribers.stall_timeout must exceed unblock_timeout";
  }
  const HealthPolicy& h = c.health;
  if (h.heartbeat_degraded <= nanoseconds(0) || h.heartbeat_unhealthy < h.heartbeat_degraded) {
    return "health: 0 < heartbeat_degraded <= heartbeat_unhealthy";
  }
  if (h.error_streak_unhealthy != 0 && h.error_streak_unhealthy < h.error_streak_degraded) {
    return "health: error_streak_degraded <= error_streak_unhealthy";
  }
  if (h.latency_degraded <= nanoseconds(0) || h.latency_unhealthy < h.latency_degraded) {
    return "health: 0 < latency_degraded <= latency_unhealthy";
  }
  if (h.latency_hold < nanoseconds(0)) return "health.latency_hold must not be negative";
  for (const auto& [name, limit] : c.rate_limits.per_agent) {
    if (auto e = validate_agent_name(name); !e.empty()) return "rate_limits.per_agent: " + e;
    (void)limit;
  }
  if (!c.metrics_address.empty()) {
    const auto colon = c.metrics_address.rfind(':');
    const std::string port =
        colon == std::string::npos ? c.metrics_address : c.metrics_address.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
      return "metrics_address must be HOST:PORT or PORT, not '" + c.metrics_address + "'";
    }
  }
  if (c.system_events) {
    if (auto e = validate_agent_name(c.agent_name); !e.empty()) return "agent_name: " + e;
    if (c.bus.max_payload_bytes < sys::kLargestPayloadBytes) {
      return "bus.max_payload_bytes " + std::to_string(c.bus.max_payload_bytes) +
             " cannot carry the system events (sys.* payloads are up to " +
             std::to_string(sys::kLargestPayloadBytes) +
             " bytes): raise it to at least that, or turn system_events off";
    }
  }
  return {};
}

}  // namespace shmbus
