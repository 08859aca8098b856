// What a supervisor tick tells the world: report() logs every change the monitors found and
// publishes it as a sys.* event; take_snapshot() refreshes the SupervisorSnapshot (and so the
// metrics endpoint). Both run on the supervisor's thread, after the checks of supervisor.cpp.
#include <string>

#include "supervisor/supervisor_impl.hpp"
#include "supervisor/supervisor_log.hpp"

namespace shmbus::detail {

namespace {

std::string_view ring_name(std::uint32_t r) {
  return priority_name(static_cast<Priority>(r));
}

}  // namespace

void SupervisorImpl::report() {
  for (const auto& e : left_) {
    if (e.reason == sys::LeaveReason::kDied) {
      log_->warn("agent '{}' (index {}, pid {}) died; record recovered", symbol_view(e.agent),
                 e.agent_index, e.pid);
    } else {
      log_->info("agent '{}' (index {}) left", symbol_view(e.agent), e.agent_index);
    }
    events_.publish(e);
  }
  for (const auto& e : joined_) {
    log_->info("agent '{}' (index {}, pid {}) joined", symbol_view(e.agent), e.agent_index, e.pid);
    events_.publish(e);
  }
  for (const auto& c : closed_) {
    if (c.quarantined) {
      log_->warn(
          "ring {}: closed the claim at position {} of live agent {} stuck {} ms; slot "
          "quarantined",
          ring_name(c.ring), c.position, c.claimant, c.stuck_ns / 1'000'000);
    } else {
      log_->warn("ring {}: closed the abandoned claim at position {} (stuck {} ms)",
                 ring_name(c.ring), c.position, c.stuck_ns / 1'000'000);
    }
  }
  for (const auto& u : untethered_) {
    log_->warn("agent '{}' untethered from ring {} at position {} ({}, {} behind)",
               roster_.at(u.agent).name, ring_name(u.ring), u.position,
               u.stalled ? "stalled" : "too far behind", u.lag);
  }
  for (const auto& g : gaps_) {
    log_->info("agent '{}' missed {} events of ring {}", symbol_view(g.agent), g.missed,
               ring_name(static_cast<std::uint32_t>(g.ring)));
    events_.publish(g);
  }
  for (const auto& e : levels_) {
    const auto lvl =
        e.new_level >= sys::BackpressureLevel::kHigh ? spdlog::level::warn : spdlog::level::info;
    log_->log(lvl, "ring {}: backpressure {} -> {} (fill {} of {})",
              ring_name(static_cast<std::uint32_t>(e.ring)),
              sys::backpressure_level_name(e.old_level), sys::backpressure_level_name(e.new_level),
              e.fill_slots, e.capacity);
    events_.publish(e);
  }
  for (const auto& b : barriers_) {
    if (b.kind == BarrierEnforcement::Kind::kParticipantDropped) {
      log_->warn("barrier '{}': participant '{}' dropped (its agent is gone)", b.barrier,
                 b.participant);
    } else if (b.complete) {
      log_->info("barrier '{}': round {} completed ({} of {})", b.barrier, b.generation, b.arrived,
                 b.participants);
      events_.publish(to_completed_event(b));
    } else {
      log_->warn("barrier '{}': round {} timed out with {} of {} arrived", b.barrier, b.generation,
                 b.arrived, b.participants);
      events_.publish(to_timeout_event(b));
    }
  }
  for (const auto& e : health_changes_) {
    const auto lvl =
        e.new_state >= sys::HealthState::kUnhealthy ? spdlog::level::warn : spdlog::level::info;
    log_->log(lvl, "{} '{}': {} -> {} ({})", e.agent_index == sys::kBusWide ? "bus" : "agent",
              e.agent_index == sys::kBusWide ? std::string_view(bus_name_) : symbol_view(e.agent),
              sys::health_name(e.old_state), sys::health_name(e.new_state), symbol_view(e.text));
    events_.publish(e);
  }
}

void SupervisorImpl::take_snapshot(std::uint64_t now_ns) {
  SupervisorSnapshot s;
  s.bus_name = bus_name_;
  s.epoch = epoch_;
  s.ticks = ticks_;
  s.reattached = reattached_;
  s.bus_health = health_.bus().state;
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const RingFill& f = backpressure_.ring(r);
    RingStatus& rs = s.rings[r];
    rs.ring = static_cast<Priority>(r);
    rs.tail = f.tail;
    rs.fill = f.fill;
    rs.usable = f.usable;
    rs.fill_ratio = f.ratio;
    rs.level = static_cast<sys::BackpressureLevel>(f.level);
    rs.padded = seg_->ring(r).padded.load(std::memory_order_relaxed);
    rs.quarantined = seg_->ring(r).quarantined.load(std::memory_order_relaxed);
  }
  const std::uint32_t self = events_.agent_index();
  for (std::uint32_t i = 0; i < roster_.size(); ++i) {
    const AgentInfo& a = roster_.at(i);
    if (!a.present) continue;
    const AgentRecord& rec = seg_->agent(i);
    AgentStatus st;
    st.index = i;
    st.epoch = a.epoch;
    st.pid = a.pid;
    st.name = a.name;
    if (i != self) {
      st.health = health_.agent(i).state;
      st.reason = health_.agent(i).reason;
    } else {
      st.health = sys::HealthState::kHealthy;
    }
    const std::uint64_t beat = rec.heartbeat_ns.load(std::memory_order_relaxed);
    st.heartbeat_age_ns = now_ns > beat ? now_ns - beat : 0;
    st.error_streak = rec.handler_error_streak.load(std::memory_order_relaxed);
    for (std::uint32_t r = 0; r < kRingCount; ++r) {
      const std::uint32_t f = rec.cursors[r].flags.load(std::memory_order_relaxed);
      if ((f & kReaderActive) != 0)
        st.reading_mask = static_cast<std::uint8_t>(st.reading_mask | (1u << r));
      if ((f & kReaderActive) != 0 && (f & kReaderTethered) != 0) {
        st.tethered_mask = static_cast<std::uint8_t>(st.tethered_mask | (1u << r));
      }
      st.lag[r] = slow_.lag(i, r);
      const RingCounters& c = rec.counters[r];
      st.published[r] = c.published.load(std::memory_order_relaxed);
      st.shed[r] = c.shed.load(std::memory_order_relaxed);
      st.rate_limited[r] = c.rate_limited.load(std::memory_order_relaxed);
      st.missed[r] = c.missed.load(std::memory_order_relaxed);
    }
    st.rate_limit_per_s = rec.rate_limit_per_s.load(std::memory_order_relaxed);
    s.agents.push_back(std::move(st));
  }
  const SegmentHeader& h = seg_->header();
  s.claims_padded = h.claims_padded.load(std::memory_order_relaxed);
  s.agents_recovered = h.agents_recovered.load(std::memory_order_relaxed);
  s.agents_untethered = h.agents_untethered.load(std::memory_order_relaxed);
  s.pinned_slots = pins_.pinned_slots();
  s.system_events_published = events_.published();
  s.system_events_dropped = events_.dropped();
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = std::move(s);
}

}  // namespace shmbus::detail
