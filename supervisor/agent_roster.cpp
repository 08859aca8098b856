#include "supervisor/agent_roster.hpp"

#include <atomic>
#include <cstring>

#include "shm/agent_table.hpp"

namespace shmbus::detail {

AgentRoster::AgentRoster(Segment& segment, const SupervisorConfig& config)
    : seg_(segment), config_(config), agents_(segment.config().max_agents) {
  recovered_seen_ = seg_.header().agents_recovered.load(std::memory_order_relaxed);
}

std::uint64_t AgentRoster::rate_limit_for(const std::string& name) const noexcept {
  for (const auto& [agent, limit] : config_.rate_limits.per_agent) {
    if (agent == name) return limit;
  }
  return config_.rate_limits.default_per_s;
}

bool AgentRoster::read_identity(std::uint32_t i, AgentInfo& out) const {
  const AgentRecord& rec = seg_.agent(i);
  if (rec.state.load(std::memory_order_acquire) !=
      static_cast<std::uint32_t>(AgentState::kActive)) {
    return false;
  }
  out.epoch = rec.epoch;
  out.pid = rec.pid;
  out.start_time = rec.start_time;
  out.name = agent_name(rec);
  // The record may have been freed and reused while we copied: confirm the same incarnation.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (rec.state.load(std::memory_order_relaxed) !=
          static_cast<std::uint32_t>(AgentState::kActive) ||
      rec.epoch != out.epoch) {
    return false;
  }
  out.present = true;
  return true;
}

sys::AgentLeft AgentRoster::make_left(std::uint32_t index, const AgentInfo& info,
                                      sys::LeaveReason why, std::uint64_t now_ns) const {
  sys::AgentLeft e{};
  e.leave_mono_ns = now_ns;
  e.events_published = info.published;
  e.events_consumed = info.consumed;
  e.pid = static_cast<std::int32_t>(info.pid);
  e.agent_index = index;
  e.agent_epoch = info.epoch;
  e.reason = why;
  set_symbol(e.agent, info.name);
  return e;
}

void AgentRoster::update(std::uint32_t self, std::uint64_t now_ns,
                         std::vector<sys::AgentJoined>& joined, std::vector<sys::AgentLeft>& left) {
  const std::uint32_t n = size();
  // Totals first: a dead agent's record is cleared by the sweep below.
  for (std::uint32_t i = 0; i < n; ++i) {
    AgentInfo& a = agents_[i];
    if (!a.present) continue;
    const AgentRecord& rec = seg_.agent(i);
    if (rec.epoch != a.epoch) continue;
    std::uint64_t pub = 0;
    std::uint64_t con = 0;
    for (const RingCounters& c : rec.counters) {
      pub += c.published.load(std::memory_order_relaxed);
      con += c.consumed.load(std::memory_order_relaxed);
    }
    a.published = pub;
    a.consumed = con;
  }

  const std::vector<RecoveredAgent> recovered = sweep_dead_agents(seg_);
  for (const RecoveredAgent& r : recovered) {
    if (r.index >= n) continue;
    AgentInfo info = agents_[r.index];
    if (!info.present || info.name != r.name) {  // died before we ever saw it
      info = AgentInfo{};
      info.name = r.name;
      info.pid = r.pid;
    }
    if (r.index != self) left.push_back(make_left(r.index, info, sys::LeaveReason::kDied, now_ns));
    agents_[r.index] = AgentInfo{};
  }

  // Recoveries done by others (an agent stuck on a dead peer sweeps too, and registration
  // recovers the dead records it meets): agents that vanished meanwhile died.
  const std::uint64_t recovered_now =
      seg_.header().agents_recovered.load(std::memory_order_relaxed);
  std::uint64_t by_others = recovered_now - recovered_seen_ - recovered.size();
  if (recovered_now < recovered_seen_ + recovered.size()) by_others = 0;
  recovered_seen_ = recovered_now;

  for (std::uint32_t i = 0; i < n; ++i) {
    AgentInfo now;
    const bool present = read_identity(i, now);
    AgentInfo& known = agents_[i];
    if (known.present && (!present || now.epoch != known.epoch)) {
      sys::LeaveReason why = sys::LeaveReason::kDetached;
      if (by_others > 0) {
        why = sys::LeaveReason::kDied;
        --by_others;
      }
      if (i != self) left.push_back(make_left(i, known, why, now_ns));
      known = AgentInfo{};
    }
    if (!present || known.present) continue;
    known = now;
    if (i == self) continue;
    seg_.agent(i).rate_limit_per_s.store(rate_limit_for(known.name), std::memory_order_relaxed);
    if (!baseline_taken_) continue;
    sys::AgentJoined e{};
    e.join_mono_ns = now_ns;
    e.pid = static_cast<std::int32_t>(known.pid);
    e.agent_index = i;
    e.agent_epoch = known.epoch;
    e.process_start_ticks = known.start_time;
    set_symbol(e.agent, known.name);
    joined.push_back(e);
  }
  baseline_taken_ = true;
}

}  // namespace shmbus::detail
