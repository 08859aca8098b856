// StuckClaimMonitor (supervisor/stuck_claim_monitor.*) in-process with a fake clock: a claimed,
// uncommitted slot a subscriber waits at is padded after the unblock timeout; a live
// producer's slot is quarantined first and released once its claim word moves on; a slot
// committed in time, or one nobody waits at, is left alone.
#include "supervisor/stuck_claim_monitor.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "supervisor/slot_pins.hpp"
#include "testing/monitor_bus.hpp"

namespace shmbus {
namespace {

using testing::kT0;
using testing::MonitorBus;
using testing::ms;

class StuckClaimMonitorTest : public ::testing::Test {
 protected:
  std::vector<detail::ClosedClaim> check(std::uint64_t now_ns) {
    std::vector<detail::ClosedClaim> closed;
    monitor_.check(now_ns, closed);
    return closed;
  }
  std::uint64_t seq(std::uint32_t ring, std::uint64_t position) const {
    return bus_.seg().slot(ring, position).seq.load();
  }

  MonitorBus bus_{"claimmon"};
  detail::SlotPins pins_{bus_.seg()};
  detail::StuckClaimMonitor monitor_{bus_.seg(), pins_, bus_.config};
};

TEST_F(StuckClaimMonitorTest, SlotASubscriberWaitsAtIsPaddedAfterTheUnblockTimeout) {
  const std::uint32_t reader = bus_.add_agent("reader");
  bus_.publish(2, 3);
  const std::uint64_t stuck = bus_.claim(2);  // nobody's claim word names it (died mid-claim)
  bus_.publish(2, 2);                         // later events wait behind it
  bus_.subscribe(reader, 2, stuck);

  EXPECT_TRUE(check(kT0).empty());
  EXPECT_TRUE(check(kT0 + ms(99)).empty());
  const auto closed = check(kT0 + ms(100));  // unblock_timeout
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].ring, 2u);
  EXPECT_EQ(closed[0].position, stuck);
  EXPECT_EQ(closed[0].stuck_ns, ms(100));
  EXPECT_EQ(closed[0].claimant, detail::kNoAgent);
  EXPECT_FALSE(closed[0].quarantined);
  EXPECT_EQ(seq(2, stuck), (stuck + 1) | detail::kSeqPad);
  EXPECT_EQ(bus_.seg().slot(2, stuck).quarantine.load(), 0u);
  EXPECT_EQ(bus_.seg().ring(2).padded.load(), 1u);
  EXPECT_EQ(bus_.seg().header().claims_padded.load(), 1u);
  EXPECT_TRUE(check(kT0 + ms(200)).empty()) << "padded: the subscriber moves past it";
}

TEST_F(StuckClaimMonitorTest, LiveClaimantIsQuarantinedUntilItsClaimWordMovesOn) {
  const std::uint32_t producer = bus_.add_agent("producer");
  const std::uint32_t reader = bus_.add_agent("reader");
  const std::uint64_t stuck = bus_.claim(0);
  bus_.record(producer).claiming[0].store((stuck + 1) | detail::kClaimConfirmed);
  bus_.subscribe(reader, 0, stuck);

  EXPECT_TRUE(check(kT0).empty());
  const auto closed = check(kT0 + ms(100));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].claimant, producer);
  EXPECT_TRUE(closed[0].quarantined);
  EXPECT_EQ(seq(0, stuck), (stuck + 1) | detail::kSeqPad);
  EXPECT_EQ(bus_.seg().slot(0, stuck).quarantine.load(), stuck + 1);
  EXPECT_EQ(bus_.seg().ring(0).quarantined.load(), 1u);
  ASSERT_EQ(pins_.pins().size(), 1u);
  EXPECT_EQ(pins_.pins()[0].kind, detail::PinKind::kClaim);
  EXPECT_EQ(pins_.pins()[0].agent, producer);

  monitor_.release_pins();  // its claim word still names the slot: it may still write there
  EXPECT_EQ(pins_.pins().size(), 1u);
  bus_.record(producer).claiming[0].store(0);  // its commit failed (kAborted); it moved on
  monitor_.release_pins();
  EXPECT_TRUE(pins_.pins().empty());
  EXPECT_EQ(bus_.seg().slot(0, stuck).quarantine.load(), 0u);
}

TEST_F(StuckClaimMonitorTest, DeadClaimantIsNotQuarantined) {
  const std::uint32_t producer = bus_.add_agent("producer");
  const std::uint32_t reader = bus_.add_agent("reader");
  const std::uint64_t stuck = bus_.claim(1);
  bus_.record(producer).claiming[1].store(stuck + 1);  // unconfirmed, and the process is gone
  bus_.kill_agent(producer);
  bus_.subscribe(reader, 1, stuck);
  EXPECT_TRUE(check(kT0).empty());
  const auto closed = check(kT0 + ms(100));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].claimant, detail::kNoAgent);
  EXPECT_FALSE(closed[0].quarantined);
  EXPECT_TRUE(pins_.pins().empty());
}

TEST_F(StuckClaimMonitorTest, CommittedInTimeIsLeftAlone) {
  const std::uint32_t reader = bus_.add_agent("reader");
  const std::uint64_t slow = bus_.claim(3);
  bus_.subscribe(reader, 3, slow);
  EXPECT_TRUE(check(kT0).empty());
  bus_.seg().slot(3, slow).seq.store(slow + 1);  // the producer commits late, but in time
  EXPECT_TRUE(check(kT0 + ms(100)).empty());
  EXPECT_EQ(seq(3, slow), slow + 1);
  EXPECT_EQ(bus_.seg().header().claims_padded.load(), 0u);
}

TEST_F(StuckClaimMonitorTest, OnlyWaitingSubscribersStartTheClock) {
  const std::uint32_t reader = bus_.add_agent("reader");
  const std::uint64_t open = bus_.claim(0);
  // Nobody reads the ring: nothing waits, however long the claim takes.
  EXPECT_TRUE(check(kT0).empty());
  EXPECT_TRUE(check(kT0 + ms(1000)).empty());
  // A subscriber arrives: the timeout runs from when it was first seen waiting.
  bus_.subscribe(reader, 0, open);
  EXPECT_TRUE(check(kT0 + ms(2000)).empty());
  // It stops reading for a while: the candidate is forgotten, and the clock restarts.
  bus_.cursor(reader, 0).flags.store(0);
  EXPECT_TRUE(check(kT0 + ms(2050)).empty());
  bus_.subscribe(reader, 0, open);
  EXPECT_TRUE(check(kT0 + ms(2100)).empty());
  EXPECT_TRUE(check(kT0 + ms(2199)).empty());
  EXPECT_EQ(check(kT0 + ms(2200)).size(), 1u);
}

}  // namespace
}  // namespace shmbus
