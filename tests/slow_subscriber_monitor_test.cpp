// SlowSubscriberMonitor (supervisor/slow_subscriber_monitor.*) in-process with a fake clock: a
// subscriber whose cursor does not move while an event waits is untethered after the stall
// timeout, one busy on another ring is not, one behind past the lag limit is untethered after
// behind_for; the slot at its cursor is pinned first and released once it moves past; growth
// of its missed counter becomes a gap notice.
#include "supervisor/slow_subscriber_monitor.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "supervisor/agent_roster.hpp"
#include "supervisor/slot_pins.hpp"
#include "testing/monitor_bus.hpp"

namespace shmbus {
namespace {

using testing::kT0;
using testing::MonitorBus;
using testing::ms;

class SlowSubscriberMonitorTest : public ::testing::Test {
 protected:
  void tick(std::uint64_t now_ns) {
    std::vector<sys::AgentJoined> joined;
    std::vector<sys::AgentLeft> left;
    roster_.update(detail::kNoAgent, now_ns, joined, left);
    untethered_.clear();
    gaps_.clear();
    monitor_.check(now_ns, roster_, detail::kNoAgent, untethered_, gaps_);
  }
  bool tethered(std::uint32_t agent, std::uint32_t ring) const {
    return (bus_.cursor(agent, ring).flags.load() & detail::kReaderTethered) != 0;
  }

  MonitorBus bus_{"slowmon"};
  detail::SlotPins pins_{bus_.seg()};
  detail::AgentRoster roster_{bus_.seg(), bus_.config};
  detail::SlowSubscriberMonitor monitor_{bus_.seg(), pins_, bus_.config};
  std::vector<detail::UntetherAction> untethered_;
  std::vector<sys::GapNotice> gaps_;
};

TEST_F(SlowSubscriberMonitorTest, StalledSubscriberIsUntetheredWithItsSlotPinned) {
  const std::uint32_t a = bus_.add_agent("stalled");
  bus_.subscribe(a, 1, 0);
  bus_.publish(1, 1);
  tick(kT0);           // first look: counts as a move
  tick(kT0 + ms(10));  // the stall starts
  EXPECT_EQ(monitor_.stalled_for(a, kT0 + ms(500)), ms(490));
  tick(kT0 + ms(1009));
  EXPECT_TRUE(untethered_.empty());
  EXPECT_TRUE(tethered(a, 1));

  tick(kT0 + ms(1010));  // stall_timeout (1 s)
  ASSERT_EQ(untethered_.size(), 1u);
  EXPECT_EQ(untethered_[0].agent, a);
  EXPECT_EQ(untethered_[0].ring, 1u);
  EXPECT_EQ(untethered_[0].position, 0u);
  EXPECT_EQ(untethered_[0].lag, 1u);
  EXPECT_TRUE(untethered_[0].stalled);
  EXPECT_FALSE(tethered(a, 1));
  EXPECT_EQ(bus_.cursor(a, 1).gap_pending.load(), 1u);
  EXPECT_EQ(bus_.cursor(a, 1).untethered_at.load(), 0u);
  EXPECT_EQ(bus_.seg().header().agents_untethered.load(), 1u);
  EXPECT_EQ(monitor_.untethered_mask(a), 1u << 1);
  // The slot it may hold a view of, and the next one it may have taken meanwhile.
  EXPECT_EQ(bus_.seg().slot(1, 0).quarantine.load(), 1u);
  EXPECT_EQ(bus_.seg().slot(1, 1).quarantine.load(), 2u);
  ASSERT_EQ(pins_.pins().size(), 2u);
  EXPECT_EQ(pins_.pins()[0].kind, detail::PinKind::kReader);
  EXPECT_EQ(pins_.pins()[0].agent, a);

  // Once its cursor moves past both, the pins go and the slots are free for producers again.
  bus_.cursor(a, 1).position.store(2);
  tick(kT0 + ms(1020));
  EXPECT_TRUE(pins_.pins().empty());
  EXPECT_EQ(bus_.seg().slot(1, 0).quarantine.load(), 0u);
  EXPECT_EQ(bus_.seg().slot(1, 1).quarantine.load(), 0u);
}

TEST_F(SlowSubscriberMonitorTest, BusyOnAnotherRingIsNotStalled) {
  const std::uint32_t a = bus_.add_agent("busy");
  bus_.subscribe(a, 3, 0);  // LOW: an event waits, the cursor stays
  bus_.subscribe(a, 0, 0);  // CRITICAL: it drains this one
  bus_.publish(3, 1);
  for (std::uint64_t t = 0; t <= 3000; t += 10) {
    bus_.publish(0, 1);
    bus_.cursor(a, 0).position.store(bus_.tail(0));
    tick(kT0 + ms(t));
    ASSERT_TRUE(untethered_.empty()) << "at " << t << " ms";
  }
  EXPECT_EQ(monitor_.stalled_for(a, kT0 + ms(3000)), 0u);
  EXPECT_TRUE(tethered(a, 3));
}

TEST_F(SlowSubscriberMonitorTest, BehindPastTheLagLimitIsUntetheredAfterBehindFor) {
  const std::uint32_t a = bus_.add_agent("behind");
  bus_.subscribe(a, 2, 0);
  bus_.publish(2, 44);  // lag limit: ceil(0.9 * 48) = 44
  // It keeps reading, one event a tick, but never catches up.
  for (std::uint64_t t = 0; t < 500; t += 10) {
    tick(kT0 + ms(t));
    ASSERT_TRUE(untethered_.empty()) << "at " << t << " ms";
    EXPECT_EQ(monitor_.lag(a, 2), 44u);
    bus_.publish(2, 1);
    bus_.cursor(a, 2).position.fetch_add(1);
  }
  tick(kT0 + ms(500));  // behind_for
  ASSERT_EQ(untethered_.size(), 1u);
  EXPECT_FALSE(untethered_[0].stalled);
  EXPECT_EQ(untethered_[0].lag, 44u);
  EXPECT_FALSE(tethered(a, 2));
}

TEST_F(SlowSubscriberMonitorTest, MissedEventsBecomeAGapNoticeAndReTetheringIsSeen) {
  const std::uint32_t a = bus_.add_agent("lapped");
  bus_.subscribe(a, 0, 0);
  bus_.publish(0, 1);
  tick(kT0);
  tick(kT0 + ms(10));
  tick(kT0 + ms(1010));
  ASSERT_EQ(untethered_.size(), 1u);

  // The reader is lapped while untethered: it counts what it lost and moves on.
  bus_.publish(0, 80);
  bus_.record(a).counters[0].missed.store(30);
  bus_.cursor(a, 0).position.store(31);
  tick(kT0 + ms(1020));
  ASSERT_EQ(gaps_.size(), 1u);
  EXPECT_EQ(gaps_[0].agent_index, a);
  EXPECT_EQ(gaps_[0].missed, 30u);
  EXPECT_EQ(gaps_[0].first_missed_position, 0u);
  EXPECT_EQ(gaps_[0].ring, Priority::kCritical);
  EXPECT_EQ(gaps_[0].reason, sys::GapReason::kUntethered);
  EXPECT_EQ(symbol_view(gaps_[0].agent), "lapped");
  EXPECT_EQ(bus_.cursor(a, 0).gap_pending.load(), 0u);
  tick(kT0 + ms(1030));
  EXPECT_TRUE(gaps_.empty()) << "each missed event is reported once";

  // Caught up, it re-tethers itself.
  bus_.cursor(a, 0).position.store(bus_.tail(0));
  bus_.cursor(a, 0).flags.store(detail::kReaderActive | detail::kReaderTethered);
  tick(kT0 + ms(1040));
  EXPECT_EQ(monitor_.untethered_mask(a), 0u);
  EXPECT_TRUE(untethered_.empty());
}

TEST_F(SlowSubscriberMonitorTest, NoUntetheringWhenThePolicySaysSo) {
  bus_.config.slow_subscribers.untether = false;
  const std::uint32_t a = bus_.add_agent("kept");
  bus_.subscribe(a, 0, 0);
  bus_.publish(0, 1);
  tick(kT0);
  tick(kT0 + ms(10));
  tick(kT0 + ms(5000));
  EXPECT_TRUE(untethered_.empty());
  EXPECT_TRUE(tethered(a, 0));
  EXPECT_EQ(monitor_.stalled_for(a, kT0 + ms(5000)), ms(4990)) << "still measured for health";
}

}  // namespace
}  // namespace shmbus
