// AgentRoster: the supervisor's view of the agent table. Each tick it recovers dead agents
// (sweep_dead_agents: confirmed claims padded, cursors released, record freed so the name can
// be used again), then rescans the table to tell who joined and who left (and whether they
// died), and hands joining agents their publish rate limit. The other monitors key their
// per-agent state on (index, epoch) from here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/supervisor_config.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

struct AgentInfo {
  bool present = false;
  std::uint32_t epoch = 0;
  std::uint32_t pid = 0;
  std::uint64_t start_time = 0;
  std::string name;
  std::uint64_t published = 0;  // totals last seen (a dead agent's record is gone when we look)
  std::uint64_t consumed = 0;
};

class AgentRoster {
 public:
  AgentRoster(Segment& segment, const SupervisorConfig& config);

  /// Recovers dead agents and rescans the table. `self` is the supervisor's own agent (no
  /// events about it). The first call only takes the baseline: no joined events.
  void update(std::uint32_t self, std::uint64_t now_ns, std::vector<sys::AgentJoined>& joined,
              std::vector<sys::AgentLeft>& left);

  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(agents_.size()); }
  const AgentInfo& at(std::uint32_t index) const noexcept { return agents_[index]; }
  /// True when record `index` is the live incarnation `epoch` this roster knows.
  bool is(std::uint32_t index, std::uint32_t epoch) const noexcept {
    return index < agents_.size() && agents_[index].present && agents_[index].epoch == epoch;
  }
  /// The publish rate limit configured for an agent name.
  std::uint64_t rate_limit_for(const std::string& name) const noexcept;

 private:
  bool read_identity(std::uint32_t index, AgentInfo& out) const;
  sys::AgentLeft make_left(std::uint32_t index, const AgentInfo& info, sys::LeaveReason why,
                           std::uint64_t now_ns) const;

  Segment& seg_;
  const SupervisorConfig& config_;
  std::vector<AgentInfo> agents_;
  std::uint64_t recovered_seen_ = 0;  // header.agents_recovered at the end of the last update
  bool baseline_taken_ = false;
};

}  // namespace shmbus::detail
