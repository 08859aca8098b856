// The supervisor in a process of its own, as in production, for multi-process tests: forked,
// stopped cleanly by SIGTERM (whether it arrives before or after the supervisor started), and
// waited for until its heartbeat shows in the segment. Header-only: the test binaries that use
// it link the supervisor; shmbus_testing does not.
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "shm/segment.hpp"
#include "shmbus/supervisor.hpp"
#include "testing/test_support.hpp"

namespace shmbus::testing {

namespace supervisor_process {
inline std::atomic<Supervisor*> g_running{nullptr};
inline std::atomic<bool> g_stop_requested{false};
inline void on_sigterm(int) {
  g_stop_requested.store(true);
  if (Supervisor* s = g_running.load()) s->stop();
}
}  // namespace supervisor_process

/// The supervisor of a multi-process test that must lose nothing: it checks every 5 ms, pads a
/// stuck claim after 40 ms, tells dead agents by their pid, and never untethers a subscriber
/// (each must get every committed event). Rings of `ring_capacity` slots, no history.
inline SupervisorConfig lossless_supervisor_config(const std::string& bus,
                                                   std::uint32_t ring_capacity,
                                                   std::uint32_t max_agents,
                                                   std::uint32_t max_topics) {
  using namespace std::chrono_literals;
  SupervisorConfig sc;
  sc.bus.name = bus;
  sc.bus.ring_capacity = {ring_capacity, ring_capacity, ring_capacity, ring_capacity};
  sc.bus.history_depth = 0;
  sc.bus.max_agents = max_agents;
  sc.bus.max_topics = max_topics;
  sc.check_period = 5ms;
  sc.unblock_timeout = 40ms;
  sc.slow_subscribers.untether = false;
  sc.slow_subscribers.stall_timeout = 10s;
  sc.health.check_pid = true;
  return sc;
}

/// Forks a child that runs a Supervisor of `config` until SIGTERM, then shuts it down. The
/// child exits 0 after a clean shutdown, 10 when the supervisor could not start, 12 when its
/// shutdown failed.
inline Child fork_supervisor(const SupervisorConfig& config) {
  return Child::fork([config] {
    namespace sp = supervisor_process;
    struct sigaction sa {};
    sa.sa_handler = sp::on_sigterm;
    sigaction(SIGTERM, &sa, nullptr);
    auto sup = Supervisor::start(config);
    if (!sup) return 10;
    sp::g_running.store(&sup.value());
    if (sp::g_stop_requested.load()) sup->stop();
    sup->run();
    sp::g_running.store(nullptr);
    return sup->shutdown() ? 0 : 12;
  });
}

/// True once the supervisor of `bus` is alive in its segment; false when `child` died first or
/// `timeout` passed.
inline bool supervisor_up(const std::string& bus, Child& child,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  eventually(
      [&] {
        auto s = detail::Segment::open(bus);
        return (s && s.value()->supervisor_alive()) || !child.running();
      },
      timeout);
  auto s = detail::Segment::open(bus);
  return child.running() && s && s.value()->supervisor_alive();
}

}  // namespace shmbus::testing
