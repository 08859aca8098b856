#include "shm/agent_table.hpp"

#include <unistd.h>

#include <cstring>

#include "shm/clock.hpp"
#include "shm/control_mutex.hpp"
#include "shm/process_info.hpp"
#include "shm/ring/slot_seq.hpp"
#include "shmbus/fixed_text.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

namespace {

bool valid_state(std::uint32_t s) {
  return s <= static_cast<std::uint32_t>(AgentState::kActive);
}

// Clears a record to FREE. Caller holds the control mutex.
void clear_record(AgentRecord& rec) {
  for (auto& c : rec.cursors) c.flags.store(0, std::memory_order_release);
  rec.state.store(static_cast<std::uint32_t>(AgentState::kClaiming), std::memory_order_relaxed);
  // Everything but the state word; the state goes last.
  std::memset(reinterpret_cast<std::byte*>(&rec) + sizeof(std::uint32_t), 0,
              sizeof(AgentRecord) - sizeof(std::uint32_t));
  rec.state.store(static_cast<std::uint32_t>(AgentState::kFree), std::memory_order_release);
}

// Closes the dead agent's confirmed claims and frees its record. Caller holds the mutex.
RecoveredAgent recover_locked(Segment& seg, std::uint32_t index) {
  AgentRecord& rec = seg.agent(index);
  RecoveredAgent out;
  out.index = index;
  out.name = agent_name(rec);
  out.pid = rec.pid;
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    // Stop gating producers first.
    rec.cursors[r].flags.store(0, std::memory_order_release);
    std::uint64_t c = rec.claiming[r].load(std::memory_order_acquire);
    if ((c & kClaimConfirmed) != 0) {
      std::uint64_t pos = (c & ~kClaimConfirmed) - 1;
      if (pos < seg.ring(r).tail.load(std::memory_order_acquire) &&
          pad_slot(seg.slot(r, pos), pos)) {
        ++out.claims_padded;
        seg.ring(r).padded.fetch_add(1, std::memory_order_relaxed);
        seg.header().claims_padded.fetch_add(1, std::memory_order_relaxed);
      }
    }
    // An unconfirmed claim word means the agent died around its tail CAS: whether it won is
    // unknown, so that slot is left to the supervisor's unblock timeout (no live claimant).
  }
  clear_record(rec);
  seg.header().agents_recovered.fetch_add(1, std::memory_order_relaxed);
  return out;
}

bool is_dead(Segment& seg, std::uint32_t i) {
  std::uint32_t s = seg.agent(i).state.load(std::memory_order_acquire);
  if (s == static_cast<std::uint32_t>(AgentState::kFree)) return false;
  return !seg.agent_alive(i);
}

}  // namespace

std::string agent_name(const AgentRecord& record) {
  return std::string(symbol_view(record.name));
}

Result<std::uint32_t> register_agent(Segment& seg, const std::string& name) {
  if (auto e = validate_agent_name(name); !e.empty()) return make_error(Errc::kInvalidArgument, e);
  SegmentHeader& h = seg.header();
  ControlLock lock(&h.control_mutex);
  if (!lock.ok()) return make_error(lock.error_code(), "bus " + seg.bus_name() + ": " + lock.error());
  const std::uint32_t n = seg.config().max_agents;
  std::uint32_t free_index = kNoAgent;
  for (std::uint32_t i = 0; i < n; ++i) {
    AgentRecord& rec = seg.agent(i);
    std::uint32_t s = rec.state.load(std::memory_order_acquire);
    if (!valid_state(s)) {
      return make_error(Errc::kCorrupt, "bus " + seg.bus_name() + ": agent record " +
                                            std::to_string(i) + " has invalid state " +
                                            std::to_string(s));
    }
    if (s != static_cast<std::uint32_t>(AgentState::kFree) && is_dead(seg, i)) {
      recover_locked(seg, i);
      s = static_cast<std::uint32_t>(AgentState::kFree);
    }
    if (s == static_cast<std::uint32_t>(AgentState::kFree)) {
      if (free_index == kNoAgent) free_index = i;
      continue;
    }
    if (s == static_cast<std::uint32_t>(AgentState::kActive) && agent_name(rec) == name) {
      return make_error(Errc::kAlreadyExists, "bus " + seg.bus_name() + ": a live agent '" + name +
                                                  "' exists (pid " + std::to_string(rec.pid) + ")");
    }
  }
  if (free_index == kNoAgent) {
    return make_error(Errc::kCapacityExceeded, "bus " + seg.bus_name() + ": all " +
                                                   std::to_string(n) +
                                                   " agent records are in use (max_agents)");
  }
  if (!seg.locks().try_lock(kAgentLockBase + free_index)) {
    return make_error(Errc::kSystem, "bus " + seg.bus_name() + ": liveness lock of agent record " +
                                         std::to_string(free_index) + " is held unexpectedly");
  }
  AgentRecord& rec = seg.agent(free_index);
  rec.state.store(static_cast<std::uint32_t>(AgentState::kClaiming), std::memory_order_relaxed);
  std::memset(reinterpret_cast<std::byte*>(&rec) + sizeof(std::uint32_t), 0,
              sizeof(AgentRecord) - sizeof(std::uint32_t));
  rec.epoch = h.agent_epoch.fetch_add(1, std::memory_order_relaxed) + 1;
  rec.pid = static_cast<std::uint32_t>(::getpid());
  rec.start_time = process_start_time(::getpid());
  rec.attach_time_ns = realtime_ns();
  std::memcpy(rec.name, name.data(), name.size());
  rec.heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
  rec.health.store(static_cast<std::uint32_t>(sys::HealthState::kHealthy),
                   std::memory_order_relaxed);
  rec.state.store(static_cast<std::uint32_t>(AgentState::kActive), std::memory_order_release);
  return free_index;
}

void unregister_agent(Segment& seg, std::uint32_t index) {
  if (index >= seg.config().max_agents) return;
  AgentRecord& rec = seg.agent(index);
  // Cursors stop gating at once, even if the mutex is unavailable.
  for (auto& c : rec.cursors) c.flags.store(0, std::memory_order_release);
  {
    ControlLock lock(&seg.header().control_mutex);
    if (lock.ok()) clear_record(rec);
  }
  seg.locks().unlock(kAgentLockBase + index);
}

std::vector<RecoveredAgent> sweep_dead_agents(Segment& seg, std::uint32_t self) {
  std::vector<RecoveredAgent> out;
  const std::uint32_t n = seg.config().max_agents;
  bool any = false;
  for (std::uint32_t i = 0; i < n && !any; ++i) any = i != self && is_dead(seg, i);
  if (!any) return out;
  ControlLock lock(&seg.header().control_mutex);
  if (!lock.ok()) return out;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (i == self) continue;
    std::uint32_t s = seg.agent(i).state.load(std::memory_order_acquire);
    if (!valid_state(s)) continue;  // corrupt record: left for a human, never indexed further
    if (is_dead(seg, i)) out.push_back(recover_locked(seg, i));
  }
  return out;
}

}  // namespace shmbus::detail
