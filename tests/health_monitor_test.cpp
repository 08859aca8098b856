// HealthMonitor (supervisor/health_monitor.*) in-process with a fake clock, fed by the roster,
// the slow-subscriber and the backpressure monitors as the supervisor runs them each tick:
// heartbeat age, handler error streaks, delivery latency (held for latency_hold), a stalled
// cursor and death each set the agent's verdict; the bus follows its agents and rings. Verdicts
// land in the segment (AgentRecord::health, SegmentHeader::bus_health); changes are reported.
#include "supervisor/health_monitor.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "supervisor/agent_roster.hpp"
#include "supervisor/backpressure_monitor.hpp"
#include "supervisor/slot_pins.hpp"
#include "supervisor/slow_subscriber_monitor.hpp"
#include "testing/monitor_bus.hpp"

namespace shmbus {
namespace {

using sys::HealthReason;
using sys::HealthState;
using testing::kT0;
using testing::MonitorBus;
using testing::ms;

class HealthMonitorTest : public ::testing::Test {
 protected:
  // One supervisor tick in the supervisor's order; returns the health changes.
  std::vector<sys::AgentHealthChange> tick(std::uint64_t now_ns) {
    std::vector<sys::AgentJoined> joined;
    std::vector<sys::AgentLeft> left;
    roster_.update(detail::kNoAgent, now_ns, joined, left);
    std::vector<detail::UntetherAction> untethered;
    std::vector<sys::GapNotice> gaps;
    slow_.check(now_ns, roster_, detail::kNoAgent, untethered, gaps);
    std::vector<sys::BackpressureChange> bp;
    backpressure_.check(now_ns, bp);
    std::vector<sys::AgentHealthChange> changes;
    health_.check(now_ns, roster_, detail::kNoAgent, slow_, backpressure_, left, changes);
    return changes;
  }
  // Ticks with the agent's heartbeat fresh.
  std::vector<sys::AgentHealthChange> beat_and_tick(std::uint32_t agent, std::uint64_t now) {
    bus_.record(agent).heartbeat_ns.store(now);
    return tick(now);
  }
  HealthState stored(std::uint32_t agent) const {
    return static_cast<HealthState>(bus_.record(agent).health.load());
  }
  HealthState stored_bus() const {
    return static_cast<HealthState>(bus_.seg().header().bus_health.load());
  }

  MonitorBus bus_{"healthmon"};
  detail::SlotPins pins_{bus_.seg()};
  detail::AgentRoster roster_{bus_.seg(), bus_.config};
  detail::SlowSubscriberMonitor slow_{bus_.seg(), pins_, bus_.config};
  detail::BackpressureMonitor backpressure_{bus_.seg(), bus_.config};
  detail::HealthMonitor health_{bus_.seg(), bus_.config};
};

TEST_F(HealthMonitorTest, HeartbeatAgeDegradesThenMakesUnhealthy) {
  const std::uint32_t a = bus_.add_agent("worker", kT0);
  auto changes = tick(kT0);
  // The bus's first verdict is news; an agent's first HEALTHY verdict is not.
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].agent_index, sys::kBusWide);
  EXPECT_EQ(changes[0].old_state, HealthState::kUnknown);
  EXPECT_EQ(changes[0].new_state, HealthState::kHealthy);
  EXPECT_EQ(health_.agent(a).state, HealthState::kHealthy);
  EXPECT_EQ(stored(a), HealthState::kHealthy);

  EXPECT_TRUE(tick(kT0 + ms(999)).empty());
  changes = tick(kT0 + ms(1000));  // heartbeat_degraded
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].agent_index, a);
  EXPECT_EQ(changes[0].old_state, HealthState::kHealthy);
  EXPECT_EQ(changes[0].new_state, HealthState::kDegraded);
  EXPECT_EQ(changes[0].reason, HealthReason::kHeartbeatLate);
  EXPECT_EQ(changes[0].heartbeat_age_ns, ms(1000));
  EXPECT_EQ(symbol_view(changes[0].agent), "worker");
  EXPECT_EQ(stored(a), HealthState::kDegraded);
  // One sick agent degrades the bus.
  EXPECT_EQ(changes[1].agent_index, sys::kBusWide);
  EXPECT_EQ(changes[1].new_state, HealthState::kDegraded);
  EXPECT_EQ(stored_bus(), HealthState::kDegraded);

  changes = tick(kT0 + ms(5000));  // heartbeat_unhealthy
  ASSERT_EQ(changes.size(), 1u) << "the bus stays DEGRADED";
  EXPECT_EQ(changes[0].new_state, HealthState::kUnhealthy);
  EXPECT_EQ(stored(a), HealthState::kUnhealthy);

  changes = beat_and_tick(a, kT0 + ms(5001));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].old_state, HealthState::kUnhealthy);
  EXPECT_EQ(changes[0].new_state, HealthState::kHealthy);
  EXPECT_EQ(changes[1].new_state, HealthState::kHealthy);
  EXPECT_EQ(stored_bus(), HealthState::kHealthy);
}

TEST_F(HealthMonitorTest, HandlerErrorStreak) {
  const std::uint32_t a = bus_.add_agent("handler");
  (void)tick(kT0);
  bus_.record(a).handler_error_streak.store(3);  // error_streak_degraded
  auto changes = beat_and_tick(a, kT0 + ms(10));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kDegraded);
  EXPECT_EQ(changes[0].reason, HealthReason::kHandlerErrors);
  bus_.record(a).handler_error_streak.store(10);  // error_streak_unhealthy
  changes = beat_and_tick(a, kT0 + ms(20));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kUnhealthy);
  EXPECT_EQ(changes[0].reason, HealthReason::kHandlerErrors);
  bus_.record(a).handler_error_streak.store(0);
  changes = beat_and_tick(a, kT0 + ms(30));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kHealthy);
}

TEST_F(HealthMonitorTest, DeliveryLatencyIsHeldForTheHoldTime) {
  const std::uint32_t a = bus_.add_agent("late");
  (void)tick(kT0);
  bus_.record(a).max_delivery_latency_ns.store(ms(20));  // over latency_degraded (10 ms)
  auto changes = beat_and_tick(a, kT0 + ms(10));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kDegraded);
  EXPECT_EQ(changes[0].reason, HealthReason::kLatency);
  EXPECT_EQ(bus_.record(a).max_delivery_latency_ns.load(), 0u) << "the sample is taken";
  // No new sample: the worst is held for latency_hold (1 s) from when it was seen.
  EXPECT_TRUE(beat_and_tick(a, kT0 + ms(1010)).empty());
  EXPECT_EQ(stored(a), HealthState::kDegraded);
  changes = beat_and_tick(a, kT0 + ms(1011));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kHealthy);
  bus_.record(a).max_delivery_latency_ns.store(ms(100));  // latency_unhealthy
  changes = beat_and_tick(a, kT0 + ms(1020));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kUnhealthy);
  EXPECT_EQ(changes[0].reason, HealthReason::kLatency);
}

TEST_F(HealthMonitorTest, StalledCursorDegradesThenMakesUnhealthy) {
  const std::uint32_t a = bus_.add_agent("stuck");
  bus_.subscribe(a, 2, 0);
  bus_.publish(2, 1);                    // an event waits at its cursor, which never moves
  (void)beat_and_tick(a, kT0);           // first look: the cursor counts as moved
  (void)beat_and_tick(a, kT0 + ms(10));  // the stall starts here
  EXPECT_TRUE(beat_and_tick(a, kT0 + ms(509)).empty());
  auto changes = beat_and_tick(a, kT0 + ms(510));  // half the stall timeout
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kDegraded);
  EXPECT_EQ(changes[0].reason, HealthReason::kStalled);
  changes = beat_and_tick(a, kT0 + ms(1010));  // the stall timeout (and it is untethered)
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kUnhealthy);
  EXPECT_EQ(changes[0].reason, HealthReason::kStalled);
  EXPECT_EQ(slow_.untethered_mask(a), 1u << 2);
  // It moves again (and is still untethered): DEGRADED, not HEALTHY, until it re-tethers.
  bus_.cursor(a, 2).position.store(1);
  changes = beat_and_tick(a, kT0 + ms(1020));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].new_state, HealthState::kDegraded);
  EXPECT_NE(std::string(symbol_view(changes[0].text)).find("untethered"), std::string::npos);
}

TEST_F(HealthMonitorTest, DeathIsReportedAsDead) {
  const std::uint32_t a = bus_.add_agent("doomed");
  const std::uint32_t epoch = bus_.record(a).epoch;
  (void)tick(kT0);
  bus_.kill_agent(a);
  const auto changes = tick(kT0 + ms(10));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].agent_index, a);
  EXPECT_EQ(changes[0].agent_epoch, epoch);
  EXPECT_EQ(changes[0].old_state, HealthState::kHealthy);
  EXPECT_EQ(changes[0].new_state, HealthState::kDead);
  EXPECT_EQ(changes[0].reason, HealthReason::kDied);
  EXPECT_EQ(symbol_view(changes[0].agent), "doomed");
}

TEST_F(HealthMonitorTest, BusFollowsRingLevels) {
  const std::uint32_t a = bus_.add_agent("reader");
  bus_.subscribe(a, 0, 0);
  bus_.publish(0, 44);  // 44 / 48: CRITICAL
  auto changes = tick(kT0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].agent_index, sys::kBusWide);
  EXPECT_EQ(changes[0].new_state, HealthState::kUnhealthy);
  EXPECT_EQ(health_.bus().state, HealthState::kUnhealthy);
  EXPECT_EQ(stored_bus(), HealthState::kUnhealthy);
  bus_.cursor(a, 0).position.store(8);  // 36 / 48: HIGH (after the dwell)
  changes = beat_and_tick(a, kT0 + ms(100));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().agent_index, sys::kBusWide);
  EXPECT_EQ(changes.back().new_state, HealthState::kDegraded);
}

}  // namespace
}  // namespace shmbus
