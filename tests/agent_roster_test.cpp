// AgentRoster (supervisor/agent_roster.*) in-process with a fake clock: the first update takes a
// baseline, later ones report who joined and who left (detached or died), dead agents are
// recovered (their confirmed claims padded, their records freed), recoveries done by others
// count as deaths, and joining agents get their configured publish rate limit.
#include "supervisor/agent_roster.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "testing/monitor_bus.hpp"

namespace shmbus {
namespace {

using testing::kT0;
using testing::MonitorBus;
using testing::ms;

class AgentRosterTest : public ::testing::Test {
 protected:
  void update(std::uint64_t now_ns, std::uint32_t self = detail::kNoAgent) {
    joined_.clear();
    left_.clear();
    roster_.update(self, now_ns, joined_, left_);
  }

  MonitorBus bus_{"roster"};
  detail::AgentRoster roster_{bus_.seg(), bus_.config};
  std::vector<sys::AgentJoined> joined_;
  std::vector<sys::AgentLeft> left_;
};

TEST_F(AgentRosterTest, FirstUpdateIsABaselineAndSetsRateLimits) {
  bus_.config.rate_limits.default_per_s = 1000;
  bus_.config.rate_limits.per_agent = {{"flood", 10}};
  const std::uint32_t a = bus_.add_agent("calm");
  const std::uint32_t b = bus_.add_agent("flood");
  update(kT0);
  EXPECT_TRUE(joined_.empty()) << "agents already there at start are no news";
  EXPECT_TRUE(left_.empty());
  ASSERT_TRUE(roster_.at(a).present);
  EXPECT_EQ(roster_.at(a).name, "calm");
  EXPECT_EQ(roster_.at(a).pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_TRUE(roster_.is(b, bus_.record(b).epoch));
  EXPECT_EQ(bus_.record(a).rate_limit_per_s.load(), 1000u);
  EXPECT_EQ(bus_.record(b).rate_limit_per_s.load(), 10u);
  EXPECT_FALSE(roster_.at(2).present);
}

TEST_F(AgentRosterTest, JoinAndDetach) {
  update(kT0);
  const std::uint32_t a = bus_.add_agent("newcomer");
  update(kT0 + ms(10));
  ASSERT_EQ(joined_.size(), 1u);
  EXPECT_EQ(joined_[0].agent_index, a);
  EXPECT_EQ(joined_[0].agent_epoch, bus_.record(a).epoch);
  EXPECT_EQ(joined_[0].pid, ::getpid());
  EXPECT_EQ(joined_[0].join_mono_ns, kT0 + ms(10));
  EXPECT_EQ(symbol_view(joined_[0].agent), "newcomer");

  bus_.record(a).counters[0].published.store(7);
  bus_.record(a).counters[3].consumed.store(5);
  update(kT0 + ms(15));
  const std::uint32_t epoch = bus_.record(a).epoch;
  bus_.detach_agent(a);
  update(kT0 + ms(20));
  EXPECT_TRUE(joined_.empty());
  ASSERT_EQ(left_.size(), 1u);
  EXPECT_EQ(left_[0].reason, sys::LeaveReason::kDetached);
  EXPECT_EQ(left_[0].agent_index, a);
  EXPECT_EQ(left_[0].agent_epoch, epoch);
  EXPECT_EQ(left_[0].events_published, 7u) << "totals as last seen before it went";
  EXPECT_EQ(left_[0].events_consumed, 5u);
  EXPECT_FALSE(roster_.is(a, epoch));
}

TEST_F(AgentRosterTest, DeadAgentIsRecoveredAndLeavesAsDied) {
  const std::uint32_t a = bus_.add_agent("doomed");
  const std::uint32_t b = bus_.add_agent("survivor");
  update(kT0);
  // It died between its tail CAS (confirmed) and its commit.
  const std::uint64_t pos = bus_.claim(1);
  bus_.record(a).claiming[1].store((pos + 1) | detail::kClaimConfirmed);
  bus_.kill_agent(a);
  update(kT0 + ms(10));
  ASSERT_EQ(left_.size(), 1u);
  EXPECT_EQ(left_[0].agent_index, a);
  EXPECT_EQ(left_[0].reason, sys::LeaveReason::kDied);
  EXPECT_EQ(symbol_view(left_[0].agent), "doomed");
  EXPECT_EQ(bus_.record(a).state.load(), static_cast<std::uint32_t>(detail::AgentState::kFree));
  EXPECT_EQ(bus_.seg().slot(1, pos).seq.load(), (pos + 1) | detail::kSeqPad);
  EXPECT_EQ(bus_.seg().header().agents_recovered.load(), 1u);
  EXPECT_FALSE(roster_.at(a).present);
  EXPECT_TRUE(roster_.at(b).present);
  update(kT0 + ms(20));
  EXPECT_TRUE(left_.empty()) << "reported once";
}

TEST_F(AgentRosterTest, RecoveryByAnotherProcessCountsAsDeath) {
  const std::uint32_t a = bus_.add_agent("doomed");
  (void)bus_.add_agent("survivor");
  update(kT0);
  bus_.kill_agent(a);
  // Someone else (an agent stuck on the dead peer, or a registration) sweeps it first.
  auto other = detail::Segment::open(bus_.name());
  ASSERT_TRUE(other);
  ASSERT_EQ(detail::sweep_dead_agents(**other).size(), 1u);
  update(kT0 + ms(10));
  ASSERT_EQ(left_.size(), 1u);
  EXPECT_EQ(left_[0].agent_index, a);
  EXPECT_EQ(left_[0].reason, sys::LeaveReason::kDied);
}

TEST_F(AgentRosterTest, SelfIsNeverReported) {
  update(kT0);
  const std::uint32_t self = bus_.add_agent("supervisor");
  const std::uint32_t other = bus_.add_agent("other");
  update(kT0 + ms(10), self);
  ASSERT_EQ(joined_.size(), 1u);
  EXPECT_EQ(joined_[0].agent_index, other);
  bus_.detach_agent(self);
  update(kT0 + ms(20), self);
  EXPECT_TRUE(left_.empty());
}

}  // namespace
}  // namespace shmbus
