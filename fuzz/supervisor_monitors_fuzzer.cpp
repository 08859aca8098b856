// Fuzz target: one supervisor tick over a segment image, as SupervisorImpl::tick runs it: the
// agent roster (recovering records no process holds: all of them here), stuck claims, slow
// subscribers, backpressure, health and barrier enforcement, at three times of a fake clock so
// timeouts expire. The supervisor is the one process every other relies on; nothing in these
// bytes may crash or hang it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_segment.hpp"
#include "shm/segment.hpp"
#include "supervisor/agent_roster.hpp"
#include "supervisor/backpressure_monitor.hpp"
#include "supervisor/barrier_enforcer.hpp"
#include "supervisor/health_monitor.hpp"
#include "supervisor/slot_pins.hpp"
#include "supervisor/slow_subscriber_monitor.hpp"
#include "supervisor/stuck_claim_monitor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  using namespace std::chrono_literals;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size, {.skip_waits = true, .fresh_control_mutex = true});
  auto seg = detail::Segment::open(fs.bus_name(), 0ns);
  if (!seg) return 0;
  detail::Segment& s = **seg;
  SupervisorConfig config;
  config.bus = s.bus_config();
  config.check_period = 5ms;
  config.unblock_timeout = 40ms;
  detail::SlotPins pins(s);
  detail::AgentRoster roster(s, config);
  detail::StuckClaimMonitor stuck(s, pins, config);
  detail::SlowSubscriberMonitor slow(s, pins, config);
  detail::BackpressureMonitor backpressure(s, config);
  detail::HealthMonitor health(s, config);
  const std::uint32_t self = detail::kNoAgent;  // no record of our own
  std::vector<sys::AgentJoined> joined;
  std::vector<sys::AgentLeft> left;
  std::vector<detail::ClosedClaim> closed;
  std::vector<detail::UntetherAction> untethered;
  std::vector<sys::GapNotice> gaps;
  std::vector<sys::BackpressureChange> levels;
  std::vector<sys::AgentHealthChange> changes;
  std::size_t barrier_events = 0;
  backpressure.adopt_levels();
  // A fake CLOCK_MONOTONIC far from 0; the later ticks pass every timeout of the config.
  for (const std::uint64_t now :
       {1'000'000'000'000ull, 1'000'050'000'000ull, 1'060'000'000'000ull}) {
    joined.clear();
    left.clear();
    closed.clear();
    untethered.clear();
    gaps.clear();
    levels.clear();
    changes.clear();
    roster.update(self, now, joined, left);
    stuck.check(now, closed);
    slow.check(now, roster, self, untethered, gaps);
    stuck.release_pins();
    backpressure.check(now, levels);
    health.check(now, roster, self, slow, backpressure, left, changes);
    detail::enforce_barriers(
        s, now, [&](const detail::BarrierEnforcement&) { ++barrier_events; }, self);
  }
  volatile std::size_t sink = barrier_events + closed.size() + gaps.size() + changes.size();
  (void)sink;
  return 0;
}
