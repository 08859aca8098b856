// The public Supervisor handle and SupervisorImpl: start (create or re-attach, supervisor
// lock), the tick, run/stop, and shutdown. The checks themselves live in the monitors.
#include "shmbus/supervisor.hpp"

#include <unistd.h>

#include <string>

#include "shm/agent_table.hpp"
#include "shm/clock.hpp"
#include "shm/futex.hpp"
#include "shm/metrics_collector.hpp"
#include "shm/process_info.hpp"
#include "shm/supervisor_impl.hpp"
#include "shm/supervisor_log.hpp"

namespace shmbus::detail {

namespace {

std::string_view ring_name(std::uint32_t r) {
  return priority_name(static_cast<Priority>(r));
}

std::uint32_t live_agents(Segment& seg, std::uint32_t except) {
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < seg.config().max_agents; ++i) {
    if (i == except) continue;
    if (seg.agent(i).state.load(std::memory_order_acquire) ==
            static_cast<std::uint32_t>(AgentState::kActive) &&
        seg.agent_alive(i)) {
      ++n;
    }
  }
  return n;
}

}  // namespace

SupervisorImpl::SupervisorImpl(std::unique_ptr<Segment> segment, const SupervisorConfig& config,
                               bool reattached, std::uint64_t epoch)
    : config_(config),
      seg_(std::move(segment)),
      bus_name_(seg_->bus_name()),
      reattached_(reattached),
      epoch_(epoch),
      log_(supervisor_logger()),
      pins_(*seg_),
      roster_(*seg_, config_),
      stuck_(*seg_, pins_, config_),
      slow_(*seg_, pins_, config_),
      backpressure_(*seg_, config_),
      health_(*seg_, config_) {}

Result<std::unique_ptr<SupervisorImpl>> SupervisorImpl::start(const SupervisorConfig& config) {
  if (auto e = validate_supervisor_config(config); !e.empty()) {
    return make_error(Errc::kInvalidArgument, "supervisor config: " + e);
  }
  auto log = supervisor_logger();
  const std::string& name = config.bus.name;
  std::unique_ptr<Segment> seg;
  bool reattached = false;
  auto created = Segment::create(config.bus);
  if (created) {
    seg = std::move(created.value());
  } else if (created.code() == Errc::kAlreadyExists) {
    // Live processes hold it: agents running on while the supervisor restarted (or another
    // supervisor, which the lock below tells). Re-attach and resume.
    auto opened = Segment::open(name);
    if (!opened) return opened.error();
    seg = std::move(opened.value());
    reattached = true;
  } else {
    return created.error();
  }
  if (!seg->locks().try_lock(kSupervisorLockByte)) {
    const std::uint32_t pid = seg->header().supervisor_pid.load(std::memory_order_relaxed);
    return make_error(Errc::kBusy, "bus '" + name + "': another supervisor" +
                                       (pid != 0 ? " (pid " + std::to_string(pid) + ")" : "") +
                                       " is already running on it; refusing to start a second one");
  }
  SegmentHeader& h = seg->header();
  const std::uint64_t epoch = h.supervisor_epoch.fetch_add(1, std::memory_order_acq_rel) + 1;
  h.supervisor_pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
  h.supervisor_start_time.store(process_start_time(::getpid()), std::memory_order_relaxed);
  h.supervisor_heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
  h.low_rate_at_high_per_s.store(config.backpressure.low_rate_at_high_per_s,
                                 std::memory_order_relaxed);

  auto impl = std::unique_ptr<SupervisorImpl>(
      new SupervisorImpl(std::move(seg), config, reattached, epoch));
  if (reattached) {
    impl->backpressure_.adopt_levels();
    const std::uint64_t adopted = impl->pins_.adopt_existing();
    const BusConfig bc = impl->seg_->bus_config();
    log->info(
        "bus '{}': re-attached to the live segment as supervisor epoch {} ({} live agents, rings "
        "{}/{}/{}/{}, {} quarantined slots adopted)",
        name, epoch, live_agents(*impl->seg_, kNoAgent), bc.ring_capacity[0], bc.ring_capacity[1],
        bc.ring_capacity[2], bc.ring_capacity[3], adopted);
  } else {
    log->info("bus '{}': created segment {} ({} bytes) as supervisor epoch {}", name,
              shm_file_path(name), impl->seg_->size(), epoch);
  }
  if (config.system_events) {
    auto opened = impl->events_.open(name, config.agent_name);
    if (!opened && opened.code() == Errc::kAlreadyExists) {
      // A live agent took our name; speak under a unique one rather than not at all.
      opened = impl->events_.open(
          name, config.agent_name.substr(0, 20) + "." + std::to_string(::getpid()));
    }
    if (!opened) {
      log->error("bus '{}': system events disabled: {}", name, opened.message());
    }
  }
  if (!config.metrics_address.empty()) {
    // Metrics are optional, the supervisor is not: a port in use (a second bus's supervisor on
    // the default port) is logged and the bus is run without an endpoint (metrics_port() 0).
    auto served = MetricsServer::start(name, config.metrics_address);
    if (served) {
      impl->metrics_ = std::make_unique<MetricsServer>(std::move(served.value()));
      log->info("bus '{}': metrics on http://{}/metrics (port {})", name,
                metrics_bind_address(config.metrics_address), impl->metrics_->port);
    } else {
      log->error("bus '{}': no metrics endpoint: {}", name, served.message());
    }
  }
  return impl;
}

std::uint16_t SupervisorImpl::metrics_port() const noexcept {
  return metrics_ ? metrics_->port : 0;
}

SupervisorImpl::~SupervisorImpl() {
  if (!shut_down_) (void)shutdown();
}

void SupervisorImpl::tick() {
  if (shut_down_) return;
  const std::uint64_t now = monotonic_ns();
  seg_->header().supervisor_heartbeat_ns.store(now, std::memory_order_relaxed);
  events_.heartbeat();
  const std::uint32_t self = events_.agent_index();
  joined_.clear();
  left_.clear();
  closed_.clear();
  untethered_.clear();
  gaps_.clear();
  levels_.clear();
  health_changes_.clear();
  barriers_.clear();

  roster_.update(self, now, joined_, left_);
  stuck_.check(now, closed_);
  slow_.check(now, roster_, self, untethered_, gaps_);
  stuck_.release_pins();
  backpressure_.check(now, levels_);
  health_.check(now, roster_, self, slow_, backpressure_, left_, health_changes_);
  // Barrier deadlines and dead participants: rounds close even when their waiter is dead.
  enforce_barriers(
      *seg_, now, [&](const BarrierEnforcement& e) { barriers_.push_back(e); }, self);
  report();
  ++ticks_;
  take_snapshot(now);
}

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
              ring_name(static_cast<std::uint32_t>(e.ring)), backpressure_level_name(e.old_level),
              backpressure_level_name(e.new_level), e.fill_slots, e.capacity);
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
              health_name(e.old_state), health_name(e.new_state), symbol_view(e.text));
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

SupervisorSnapshot SupervisorImpl::snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

void SupervisorImpl::run() {
  const auto period = static_cast<std::uint64_t>(config_.check_period.count());
  std::uint64_t next = monotonic_ns();
  while (!stop_.load(std::memory_order_acquire)) {
    tick();
    next += period;
    std::uint64_t now = monotonic_ns();
    if (next < now) next = now;  // fell behind (descheduled): no burst of catch-up ticks
    while (!stop_.load(std::memory_order_acquire) && now < next) {
      const std::uint32_t word = wake_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) break;
      futex_wait(&wake_, word, next - now);
      now = monotonic_ns();
    }
  }
}

void SupervisorImpl::stop() noexcept {
  stop_.store(true, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_acq_rel);
  futex_wake_all(&wake_);
}

Result<void> SupervisorImpl::shutdown() {
  if (shut_down_) return {};
  shut_down_ = true;
  metrics_.reset();  // no scrape may run while the segment goes
  events_.close();   // frees our own agent record
  // Nobody would lower the levels after us; agents that go on must not shed forever.
  backpressure_.reset_levels();
  SegmentHeader& h = seg_->header();
  h.bus_health.store(static_cast<std::uint32_t>(sys::HealthState::kUnknown),
                     std::memory_order_relaxed);
  h.supervisor_pid.store(0, std::memory_order_relaxed);
  const std::uint32_t live = live_agents(*seg_, kNoAgent);
  seg_->locks().unlock(kSupervisorLockByte);
  seg_.reset();  // drops our creator lock too, so removal sees only the agents
  if (config_.keep_segment) {
    log_->info("bus '{}': supervisor epoch {} stopped; segment kept ({} live agents)", bus_name_,
               epoch_, live);
    return {};
  }
  if (live > 0 && !config_.force_remove) {
    log_->warn(
        "bus '{}': supervisor epoch {} stopped; segment kept: {} live agents still map it "
        "(force removal to unlink anyway)",
        bus_name_, epoch_, live);
    return {};
  }
  auto removed = Segment::remove(bus_name_, config_.force_remove);
  if (!removed) {
    log_->warn("bus '{}': segment not removed: {}", bus_name_, removed.message());
    return removed;
  }
  log_->info("bus '{}': supervisor epoch {} stopped; segment removed", bus_name_, epoch_);
  return {};
}

}  // namespace shmbus::detail

namespace shmbus {

Supervisor::Supervisor(std::unique_ptr<detail::SupervisorImpl> impl) : impl_(std::move(impl)) {}
Supervisor::Supervisor(Supervisor&&) noexcept = default;
Supervisor& Supervisor::operator=(Supervisor&&) noexcept = default;
Supervisor::~Supervisor() = default;

Result<Supervisor> Supervisor::start(const SupervisorConfig& config) {
  try {
    auto impl = detail::SupervisorImpl::start(config);
    if (!impl) return impl.error();
    return Supervisor(std::move(impl.value()));
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("start supervisor: ") + e.what());
  }
}

void Supervisor::tick() {
  try {
    impl_->tick();
  } catch (const std::exception& e) {
    detail::supervisor_logger()->error("supervisor tick failed: {}", e.what());
  }
}

void Supervisor::run() {
  try {
    impl_->run();
  } catch (const std::exception& e) {
    detail::supervisor_logger()->error("supervisor stopped on an error: {}", e.what());
  }
}

void Supervisor::stop() noexcept {
  if (impl_) impl_->stop();
}

Result<void> Supervisor::shutdown() {
  try {
    return impl_->shutdown();
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("supervisor shutdown: ") + e.what());
  }
}

SupervisorSnapshot Supervisor::snapshot() const {
  return impl_->snapshot();
}
bool Supervisor::reattached() const noexcept {
  return impl_->reattached();
}
std::uint64_t Supervisor::epoch() const noexcept {
  return impl_->epoch();
}
const std::string& Supervisor::bus_name() const noexcept {
  return impl_->bus_name();
}
std::uint16_t Supervisor::metrics_port() const noexcept {
  return impl_->metrics_port();
}

}  // namespace shmbus
