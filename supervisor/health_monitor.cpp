#include "supervisor/health_monitor.hpp"

#include <sys/types.h>

#include <algorithm>

#include "shm/process_info.hpp"

namespace shmbus::detail {

namespace {

using sys::HealthReason;
using sys::HealthState;

constexpr std::uint64_t kPidCheckNs = 500'000'000;  // /proc reads: twice a second per agent

std::string_view ring_name(std::uint32_t r) {
  return priority_name(static_cast<Priority>(r));
}

// Keeps the worst finding; on a tie, the first one found (checks run most telling first).
void worse(HealthVerdict& v, HealthState s, HealthReason why, std::string text) {
  if (static_cast<std::uint8_t>(s) > static_cast<std::uint8_t>(v.state)) {
    v.state = s;
    v.reason = why;
    v.text = std::move(text);
  }
}

std::string ms(std::uint64_t ns) {
  return std::to_string(ns / 1'000'000) + " ms";
}

}  // namespace

HealthMonitor::HealthMonitor(Segment& segment, const SupervisorConfig& config)
    : seg_(segment), config_(config), agents_(segment.config().max_agents) {}

HealthVerdict HealthMonitor::judge(std::uint32_t index, const AgentInfo& info, Tracked& st,
                                   std::uint64_t now_ns, const SlowSubscriberMonitor& slow,
                                   std::uint64_t& heartbeat_age_ns) {
  const HealthPolicy& p = config_.health;
  AgentRecord& rec = seg_.agent(index);
  HealthVerdict v;
  v.state = HealthState::kHealthy;
  v.text = "ok";

  // Liveness: the lock says alive (the roster recovered the dead). The pid and start time are
  // a second opinion: a lock held while the process is gone (or its pid now names another
  // process) is an agent nobody can trust.
  if (p.check_pid && info.pid != 0 && now_ns - st.pid_checked_ns >= kPidCheckNs) {
    st.pid_checked_ns = now_ns;
    st.pid_ok = process_alive(static_cast<pid_t>(info.pid), info.start_time);
  }
  if (p.check_pid && !st.pid_ok) {
    worse(v, HealthState::kUnhealthy, HealthReason::kDied,
          "process " + std::to_string(info.pid) + " gone or pid reused");
  }

  const std::uint64_t stalled = slow.stalled_for(index, now_ns);
  const auto stall_ns = static_cast<std::uint64_t>(config_.slow_subscribers.stall_timeout.count());
  if (stalled >= stall_ns) {
    worse(v, HealthState::kUnhealthy, HealthReason::kStalled, "cursor stalled " + ms(stalled));
  } else if (stalled >= stall_ns / 2) {
    worse(v, HealthState::kDegraded, HealthReason::kStalled, "cursor stalled " + ms(stalled));
  }
  if (const std::uint8_t mask = slow.untethered_mask(index); mask != 0) {
    std::string rings;
    for (std::uint32_t r = 0; r < kRingCount; ++r) {
      if ((mask & (1u << r)) != 0) rings += (rings.empty() ? "" : ",") + std::string(ring_name(r));
    }
    worse(v, HealthState::kDegraded, HealthReason::kStalled, "untethered on " + rings);
  }

  const std::uint64_t beat = rec.heartbeat_ns.load(std::memory_order_relaxed);
  heartbeat_age_ns = now_ns > beat ? now_ns - beat : 0;
  if (heartbeat_age_ns >= static_cast<std::uint64_t>(p.heartbeat_unhealthy.count())) {
    worse(v, HealthState::kUnhealthy, HealthReason::kHeartbeatLate,
          "heartbeat " + ms(heartbeat_age_ns) + " old");
  } else if (heartbeat_age_ns >= static_cast<std::uint64_t>(p.heartbeat_degraded.count())) {
    worse(v, HealthState::kDegraded, HealthReason::kHeartbeatLate,
          "heartbeat " + ms(heartbeat_age_ns) + " old");
  }

  const std::uint32_t streak = rec.handler_error_streak.load(std::memory_order_relaxed);
  if (p.error_streak_unhealthy != 0 && streak >= p.error_streak_unhealthy) {
    worse(v, HealthState::kUnhealthy, HealthReason::kHandlerErrors,
          std::to_string(streak) + " handler failures in a row");
  } else if (p.error_streak_degraded != 0 && streak >= p.error_streak_degraded) {
    worse(v, HealthState::kDegraded, HealthReason::kHandlerErrors,
          std::to_string(streak) + " handler failures in a row");
  }

  // The agent keeps a maximum since we last read it; we hold the worst for latency_hold.
  const std::uint64_t sample = rec.max_delivery_latency_ns.exchange(0, std::memory_order_relaxed);
  if (now_ns - st.latency_at_ns > static_cast<std::uint64_t>(p.latency_hold.count())) {
    st.latency_ns = 0;
  }
  if (sample != 0 && sample >= st.latency_ns) {
    st.latency_ns = sample;
    st.latency_at_ns = now_ns;
  }
  if (st.latency_ns >= static_cast<std::uint64_t>(p.latency_unhealthy.count())) {
    worse(v, HealthState::kUnhealthy, HealthReason::kLatency,
          "delivery latency " + std::to_string(st.latency_ns / 1000) + " us");
  } else if (st.latency_ns >= static_cast<std::uint64_t>(p.latency_degraded.count())) {
    worse(v, HealthState::kDegraded, HealthReason::kLatency,
          "delivery latency " + std::to_string(st.latency_ns / 1000) + " us");
  }
  return v;
}

HealthVerdict HealthMonitor::judge_bus(const AgentRoster& roster, std::uint32_t self,
                                       const BackpressureMonitor& backpressure) const {
  HealthVerdict v;
  v.state = HealthState::kHealthy;
  v.text = "agents healthy, rings below HIGH";
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const sys::BackpressureLevel l = backpressure.ring(r).level;
    if (l == sys::BackpressureLevel::kCritical) {
      worse(v, HealthState::kUnhealthy, HealthReason::kStalled,
            "ring " + std::string(ring_name(r)) + " at CRITICAL");
    } else if (l == sys::BackpressureLevel::kHigh) {
      worse(v, HealthState::kDegraded, HealthReason::kStalled,
            "ring " + std::string(ring_name(r)) + " at HIGH");
    }
  }
  for (std::uint32_t i = 0; i < roster.size(); ++i) {
    if (i == self || !roster.at(i).present) continue;
    const HealthVerdict& a = agents_[i].verdict;
    // One sick agent degrades the bus; the bus itself keeps flowing (untethering, recovery).
    if (a.state == HealthState::kDegraded || a.state == HealthState::kUnhealthy) {
      worse(v, HealthState::kDegraded, a.reason,
            "agent '" + roster.at(i).name + "' " + std::string(health_name(a.state)));
    }
  }
  return v;
}

void HealthMonitor::check(std::uint64_t now_ns, const AgentRoster& roster, std::uint32_t self,
                          const SlowSubscriberMonitor& slow,
                          const BackpressureMonitor& backpressure,
                          const std::vector<sys::AgentLeft>& left,
                          std::vector<sys::AgentHealthChange>& changes) {
  auto emit = [&](std::uint32_t index, std::uint32_t epoch, const std::string& name,
                  HealthState old_state, const HealthVerdict& v, std::uint64_t beat_age) {
    sys::AgentHealthChange e{};
    e.change_mono_ns = now_ns;
    e.heartbeat_age_ns = beat_age;
    e.agent_index = index;
    e.agent_epoch = epoch;
    set_symbol(e.agent, name);
    set_symbol(e.text, v.text);
    e.old_state = old_state;
    e.new_state = v.state;
    e.reason = v.reason;
    changes.push_back(e);
  };

  for (const sys::AgentLeft& l : left) {
    if (l.agent_index >= agents_.size()) continue;
    Tracked& st = agents_[l.agent_index];
    if (l.reason == sys::LeaveReason::kDied) {
      HealthVerdict dead;
      dead.state = HealthState::kDead;
      dead.reason = HealthReason::kDied;
      dead.text = "liveness lock released; record recovered";
      const HealthState old_state =
          st.known && st.epoch == l.agent_epoch ? st.verdict.state : HealthState::kUnknown;
      emit(l.agent_index, l.agent_epoch, std::string(symbol_view(l.agent)), old_state, dead, 0);
    }
    st = Tracked{};
  }

  for (std::uint32_t i = 0; i < roster.size(); ++i) {
    const AgentInfo& info = roster.at(i);
    Tracked& st = agents_[i];
    if (!info.present || i == self) {
      st = Tracked{};
      continue;
    }
    if (!st.known || st.epoch != info.epoch) {
      st = Tracked{};
      st.known = true;
      st.epoch = info.epoch;
      st.latency_at_ns = now_ns;
    }
    std::uint64_t beat_age = 0;
    HealthVerdict v = judge(i, info, st, now_ns, slow, beat_age);
    if (v.state == st.verdict.state) {
      st.verdict.reason = v.reason;
      st.verdict.text = v.text;
      continue;
    }
    const HealthState old_state = st.verdict.state;
    seg_.agent(i).health.store(static_cast<std::uint32_t>(v.state), std::memory_order_relaxed);
    st.verdict = v;
    // An agent's first verdict is news only when it is not HEALTHY.
    if (old_state == HealthState::kUnknown && v.state == HealthState::kHealthy) continue;
    emit(i, info.epoch, info.name, old_state, v, beat_age);
  }

  HealthVerdict b = judge_bus(roster, self, backpressure);
  if (b.state != bus_.state) {
    const HealthState old_state = bus_.state;
    seg_.header().bus_health.store(static_cast<std::uint32_t>(b.state), std::memory_order_relaxed);
    emit(sys::kBusWide, 0, "bus", old_state, b, 0);
  }
  bus_ = b;
}

}  // namespace shmbus::detail
