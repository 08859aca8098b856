// The public Supervisor handle and SupervisorImpl: start (create or re-attach, supervisor
// lock), the tick, run/stop, and shutdown. The checks themselves live in the monitors; what a
// tick reports (logs, sys.* events, the snapshot) is in supervisor_report.cpp.
#include "shmbus/supervisor.hpp"

#include <unistd.h>

#include <string>

#include "shm/agent_table.hpp"
#include "shm/clock.hpp"
#include "shm/futex.hpp"
#include "shm/process_info.hpp"
#include "shmbus/sys_events.hpp"
#include "supervisor/metrics_collector.hpp"
#include "supervisor/supervisor_impl.hpp"
#include "supervisor/supervisor_log.hpp"

namespace shmbus::detail {

namespace {

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
  // Supervisors started together race for the name: a file can be judged stale and replaced
  // between one's create (or open) and its lock, so a loser may find the name gone, or a file
  // that never gets ready, or hold the lock of a file the name no longer points to. Each of
  // those is a lost round, not an error: try again, a bounded number of times.
  constexpr int kAttempts = 50;
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt == kAttempts;
    reattached = false;
    auto created = Segment::create(config.bus);
    if (created) {
      seg = std::move(created.value());
    } else if (created.code() == Errc::kAlreadyExists) {
      // Live processes hold it: agents running on while the supervisor restarted (or another
      // supervisor, which the lock below tells). Re-attach and resume.
      auto opened = Segment::open(name);
      if (!opened) {
        // Gone: replaced meanwhile. Not ready or torn: maybe a loser's abandoned file, which
        // the next create replaces, or really broken: a few tries tell them apart.
        const bool lost_round =
            opened.code() == Errc::kNotFound ||
            ((opened.code() == Errc::kNotReady || opened.code() == Errc::kCorrupt) && attempt <= 3);
        if (lost_round && !last) continue;
        return opened.error();
      }
      seg = std::move(opened.value());
      // A segment someone else created, or made world-writable, is not ours to run the bus in.
      if (auto owner = seg->check_owner(config.bus); !owner) return owner.error();
      if (config.system_events && seg->config().max_payload_bytes < sys::kLargestPayloadBytes) {
        return make_error(Errc::kInvalidArgument,
                          "bus '" + name + "': the live segment's max_payload_bytes (" +
                              std::to_string(seg->config().max_payload_bytes) +
                              ") cannot carry the system events (up to " +
                              std::to_string(sys::kLargestPayloadBytes) +
                              " bytes); turn system_events off to supervise it");
      }
      reattached = true;
    } else {
      return created.error();
    }
    const bool locked = seg->locks().try_lock(kSupervisorLockByte);
    // Once locked, the file cannot be judged stale any more; before, it could have been.
    if (seg->names_this_file()) {
      if (locked) break;
      const std::uint32_t pid = seg->header().supervisor_pid.load(std::memory_order_relaxed);
      return make_error(Errc::kBusy,
                        "bus '" + name + "': another supervisor" +
                            (pid != 0 ? " (pid " + std::to_string(pid) + ")" : "") +
                            " is already running on it; refusing to start a second one");
    }
    if (locked) seg->locks().unlock(kSupervisorLockByte);
    if (last) {
      return make_error(Errc::kBusy, "bus '" + name +
                                         "': its segment was replaced under this supervisor " +
                                         std::to_string(kAttempts) + " times while it started");
    }
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
  impl->backpressure_.share_shed_fills();
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
    if (!impl->seg_->replaced().empty()) {
      log->warn("bus '{}': replaced a stale {}", name, impl->seg_->replaced());
    }
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
  if (shut_down_ || !segment_lost_.empty()) return;
  // A file truncated under the mapping would kill us with SIGBUS at the next access: check it
  // every period and give the segment up with a word instead.
  if (std::string lost = seg_->check_intact(); !lost.empty()) {
    log_->error("bus '{}': {}: stopping (agents mapping it will fault too)", bus_name_, lost);
    metrics_.reset();  // its threads read the segment
    events_.neuter();
    seg_->neuter();
    segment_lost_ = std::move(lost);
    stop_.store(true, std::memory_order_release);
    return;
  }
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
  if (!segment_lost_.empty()) {
    events_.close();  // on private zero pages now: frees nothing shared, cannot fault
    return make_error(Errc::kCorrupt, segment_lost_);
  }
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
