// Regression tests for what the fuzz targets (fuzz/) found in the readers of segment memory:
// one test per finding, staging the bytes the fuzzer's input had in a real in-process segment,
// and running the reader in a forked child so a hang or a crash fails the test instead of the
// suite. The inputs themselves also sit in the fuzz corpus, so every fuzz run replays them.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "shm/barrier_layout.hpp"
#include "shm/barrier_registry.hpp"
#include "shm/barrier_round.hpp"
#include "shm/barrier_table.hpp"
#include "shm/ring/slot_seq.hpp"
#include "shm/segment.hpp"
#include "shmbus/barrier.hpp"
#include "shmbus/bus.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::SegmentGuard;
using testing::unique_bus_name;

// Exit code of `body` run in a child; -1 when it did not finish within `timeout` (a hang).
int run_isolated(const std::function<int()>& body, std::chrono::milliseconds timeout = 5s) {
  Child child = Child::fork(body);
  return child.wait(timeout);
}

/// A bus with one barrier "decide" of two participants, and a second mapping of its segment
/// through which a test damages words as another process could.
class FuzzRegressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = unique_bus_name("fuzzreg");
    guard_ = std::make_unique<SegmentGuard>(name_);
    auto bus = Bus::create(shmbus::testing::barrier_bus_config(name_), AgentOptions{.name = "cio"});
    ASSERT_TRUE(bus) << bus.message();
    bus_ = std::make_unique<Bus>(std::move(bus.value()));
    ASSERT_TRUE(create_barrier(*bus_, "decide", std::vector<std::string>{"s0", "s1"}, 1s));
    auto seg = detail::Segment::open(name_);
    ASSERT_TRUE(seg) << seg.message();
    seg_ = std::move(seg.value());
    table_ = std::make_unique<detail::BarrierTable>(*seg_);
    auto b = detail::find_barrier(*table_, "decide");
    ASSERT_TRUE(b);
    barrier_ = *b;
  }

  std::string name_;
  std::unique_ptr<SegmentGuard> guard_;
  std::unique_ptr<Bus> bus_;
  std::unique_ptr<detail::Segment> seg_;
  std::unique_ptr<detail::BarrierTable> table_;
  std::uint32_t barrier_ = 0;
};

// barrier_table fuzzer, timeout: a round word whose generation is 2^62 or more (closing or
// not) made seal_round CAS a participant's arrival word forever, because `g << 2` overflows
// and no seal it wrote ever reached round g. The waiter and the supervisor's enforcer call it.
TEST_F(FuzzRegressionTest, SealRoundOfUnrepresentableGenerationReturnsInsteadOfSpinning) {
  for (const std::uint64_t g : {std::uint64_t{1} << 62, (std::uint64_t{1} << 63) - 1}) {
    for (const bool closing : {false, true}) {
      table_->header(barrier_).round.store(detail::make_round(g, closing));
      const int rc = run_isolated([&] {
        detail::SealedRound sealed;
        return detail::seal_round(*table_, barrier_, g, sealed) == detail::SealResult::kSealed ? 1
                                                                                               : 0;
      });
      EXPECT_EQ(rc, 0) << "generation " << g << (closing ? " closing" : "")
                       << (rc == -1 ? ": seal_round hangs" : ": sealed a corrupt round");
    }
  }
}

TEST_F(FuzzRegressionTest, SealRoundOfLargestValidGenerationStillSeals) {
  // The bound is exact: the largest generation an arrival word holds still seals.
  const std::uint64_t g = (std::uint64_t{1} << 62) - 1;
  table_->header(barrier_).round.store(detail::make_round(g, false));
  detail::SealedRound sealed;
  EXPECT_EQ(detail::seal_round(*table_, barrier_, g, sealed), detail::SealResult::kSealed);
  EXPECT_EQ(sealed.generation, g);
  EXPECT_EQ(sealed.arrived, 0u);
}

// dispatcher fuzzer, timeout: a higher ring whose slot at the reader's position holds a seq
// ahead of it (a later lap) while the ring's tail is not past the reader is garbage: next()
// stops there, but pending() called it ready, so Dispatcher::poll, holding an event of a lower
// ring, went back to the higher ring forever (and an idle dispatcher never slept).
TEST(FuzzRegressionRingTest, PollDeliversPastGarbageSeqAheadOfAHigherRingsReader) {
  const std::string name = unique_bus_name("fuzzring");
  SegmentGuard guard(name);
  BusConfig config;
  config.name = name;
  config.ring_capacity = {64, 64, 64, 64};
  config.history_depth = 0;
  auto bus = Bus::create(config, AgentOptions{.name = "sub"});
  ASSERT_TRUE(bus) << bus.message();
  auto topic = bus->register_topic("fz.x", 8);
  ASSERT_TRUE(topic);
  std::uint64_t delivered = 0;
  ASSERT_TRUE(bus->on_any([&](const EventView&) { ++delivered; }));
  (void)bus->poll();  // readers active, at the tails
  auto seg = detail::Segment::open(name);
  ASSERT_TRUE(seg) << seg.message();
  const std::uint32_t crit = index_of(Priority::kCritical);
  const std::uint64_t pos = (**seg).ring(crit).tail.load();
  (**seg).slot(crit, pos).seq.store(detail::committed_seq(pos + 64));  // a "later lap"
  const std::uint64_t payload = 7;
  ASSERT_EQ(bus->publish(*topic, &payload, sizeof payload, Priority::kNormal), PublishStatus::kOk);
  const int rc = run_isolated([&] {
    const std::size_t n = bus->poll(16);
    return n == 1 && delivered == 1 ? 0 : 2;
  });
  EXPECT_EQ(rc, 0) << (rc == -1 ? "poll spins on the garbage slot" : "event not delivered");
}

}  // namespace
}  // namespace shmbus
