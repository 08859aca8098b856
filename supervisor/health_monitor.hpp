// HealthMonitor: judges each agent HEALTHY, DEGRADED, UNHEALTHY or DEAD from what the
// supervisor sees: its liveness lock (released: DEAD, via the roster), pid and process start
// time against /proc (a reused pid is not the agent), heartbeat age, a cursor that does not
// move while events wait, untethering, handler error streaks and delivery latency; and the bus
// as a whole from its agents and ring levels. Stores the verdicts in the segment
// (AgentRecord::health, SegmentHeader::bus_health) and reports changes for sys.health events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/supervisor_config.hpp"
#include "shmbus/sys_events.hpp"
#include "supervisor/agent_roster.hpp"
#include "supervisor/backpressure_monitor.hpp"
#include "supervisor/slow_subscriber_monitor.hpp"

namespace shmbus::detail {

struct HealthVerdict {
  sys::HealthState state = sys::HealthState::kUnknown;
  sys::HealthReason reason = sys::HealthReason::kUnknown;
  std::string text;
};

class HealthMonitor {
 public:
  HealthMonitor(Segment& segment, const SupervisorConfig& config);

  /// Judges every agent and the bus. `left` are this tick's departures (deaths become DEAD).
  void check(std::uint64_t now_ns, const AgentRoster& roster, std::uint32_t self,
             const SlowSubscriberMonitor& slow, const BackpressureMonitor& backpressure,
             const std::vector<sys::AgentLeft>& left, std::vector<sys::AgentHealthChange>& changes);

  const HealthVerdict& agent(std::uint32_t index) const noexcept { return agents_[index].verdict; }
  const HealthVerdict& bus() const noexcept { return bus_; }

 private:
  struct Tracked {
    bool known = false;
    std::uint32_t epoch = 0;
    HealthVerdict verdict;
    std::uint64_t latency_ns = 0;  // worst delivery latency seen within the hold time
    std::uint64_t latency_at_ns = 0;
    std::uint64_t pid_checked_ns = 0;  // /proc is read at most every kPidCheckNs
    bool pid_ok = true;
  };
  HealthVerdict judge(std::uint32_t index, const AgentInfo& info, Tracked& st, std::uint64_t now_ns,
                      const SlowSubscriberMonitor& slow, std::uint64_t& heartbeat_age_ns);
  HealthVerdict judge_bus(const AgentRoster& roster, std::uint32_t self,
                          const BackpressureMonitor& backpressure) const;

  Segment& seg_;
  const SupervisorConfig& config_;
  std::vector<Tracked> agents_;
  HealthVerdict bus_;
};

}  // namespace shmbus::detail
