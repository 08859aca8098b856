// The agent table: registering an agent record (unique live name, liveness lock,
// pid and start time), freeing it on detach, and recovering the records of dead
// agents (closing their claims, releasing their cursors). Used by BusImpl on
// attach/detach, by producers stuck on a dead reader, and by the supervisor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/result.hpp"

namespace shmbus::detail {

inline constexpr std::uint32_t kNoAgent = 0xFFFFFFFFu;

/// What recovery did for one dead agent (for logs and system events).
struct RecoveredAgent {
  std::uint32_t index = kNoAgent;
  std::string name;
  std::uint32_t pid = 0;
  std::uint32_t claims_padded = 0;
};

/// Registers `name` and takes its liveness lock with `segment.locks()`. Dead records (of
/// that name or any other) met on the way are recovered first.
Result<std::uint32_t> register_agent(Segment& segment, const std::string& name);

/// Frees a record this process registered (clean detach) and drops its liveness lock.
void unregister_agent(Segment& segment, std::uint32_t index);

/// Recovers every ACTIVE or half-registered record whose liveness lock no process holds,
/// except `self` (this handle's own record: its lock is on our own file description).
std::vector<RecoveredAgent> sweep_dead_agents(Segment& segment, std::uint32_t self = kNoAgent);

/// Name of a record, bounded and NUL-safe.
std::string agent_name(const AgentRecord& record);

}  // namespace shmbus::detail
