// BackpressureMonitor (supervisor/backpressure_monitor.*) in-process with a fake clock: the fill
// is measured from the slowest tethered cursor, levels rise at once, fall only past the
// hysteresis and after the minimum dwell, and every change is stored in the segment (where
// publishers read it) and reported once.
#include "supervisor/backpressure_monitor.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "testing/monitor_bus.hpp"

namespace shmbus {
namespace {

using testing::kT0;
using testing::MonitorBus;
using testing::ms;

class BackpressureMonitorTest : public ::testing::Test {
 protected:
  sys::BackpressureLevel stored(std::uint32_t ring) const {
    return static_cast<sys::BackpressureLevel>(bus_.seg().header().backpressure[ring].load());
  }
  std::vector<sys::BackpressureChange> check(std::uint64_t now_ns) {
    std::vector<sys::BackpressureChange> changes;
    monitor_.check(now_ns, changes);
    return changes;
  }

  MonitorBus bus_{"bpmon"};
  detail::BackpressureMonitor monitor_{bus_.seg(), bus_.config};
};

TEST_F(BackpressureMonitorTest, LevelFollowsTheSlowestTetheredCursor) {
  const std::uint32_t slow = bus_.add_agent("slow");
  const std::uint32_t fast = bus_.add_agent("fast");
  bus_.subscribe(slow, 0, 0);
  bus_.publish(0, 24);
  bus_.subscribe(fast, 0, 24);
  // 24 of 48 usable slots (64 minus 16 of history): exactly the WARNING threshold.
  auto changes = check(kT0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].ring, Priority::kCritical);
  EXPECT_EQ(changes[0].old_level, sys::BackpressureLevel::kNormal);
  EXPECT_EQ(changes[0].new_level, sys::BackpressureLevel::kWarning);
  EXPECT_EQ(changes[0].fill_slots, 24u);
  EXPECT_EQ(changes[0].capacity, 64u);
  EXPECT_EQ(changes[0].fill_ppm, 24u * 1'000'000 / 64);
  EXPECT_EQ(changes[0].change_mono_ns, kT0);
  EXPECT_EQ(stored(0), sys::BackpressureLevel::kWarning);
  EXPECT_EQ(monitor_.ring(0).fill, 24u);
  EXPECT_DOUBLE_EQ(monitor_.ring(0).ratio, 0.5);

  bus_.publish(0, 13);  // 37 / 48 = 0.77: HIGH
  changes = check(kT0 + ms(1));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].new_level, sys::BackpressureLevel::kHigh);
  bus_.publish(0, 7);  // 44 / 48 = 0.92: CRITICAL
  changes = check(kT0 + ms(2));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].old_level, sys::BackpressureLevel::kHigh);
  EXPECT_EQ(changes[0].new_level, sys::BackpressureLevel::kCritical);
  EXPECT_EQ(stored(0), sys::BackpressureLevel::kCritical);
  EXPECT_TRUE(check(kT0 + ms(3)).empty()) << "no change, no report";
  for (std::uint32_t r = 1; r < detail::kRingCount; ++r)
    EXPECT_EQ(stored(r), sys::BackpressureLevel::kNormal);
}

TEST_F(BackpressureMonitorTest, UntetheredAndIdleCursorsHoldNothingBack) {
  const std::uint32_t a = bus_.add_agent("a");
  const std::uint32_t b = bus_.add_agent("b");
  bus_.subscribe(a, 1, 0, /*tethered=*/false);
  bus_.subscribe(b, 1, 0);
  bus_.cursor(b, 1).flags.store(detail::kReaderTethered);  // tethered but not reading
  bus_.publish(1, 46);
  EXPECT_TRUE(check(kT0).empty());
  EXPECT_EQ(monitor_.ring(1).fill, 0u);
  EXPECT_EQ(monitor_.ring(1).tail, 46u);
  EXPECT_EQ(stored(1), sys::BackpressureLevel::kNormal);
}

TEST_F(BackpressureMonitorTest, FallsOnlyPastHysteresisAndAfterMinDwell) {
  const std::uint32_t a = bus_.add_agent("a");
  bus_.subscribe(a, 0, 0);
  bus_.publish(0, 44);
  ASSERT_EQ(check(kT0).size(), 1u);
  ASSERT_EQ(stored(0), sys::BackpressureLevel::kCritical);

  // 42 / 48 = 0.875: under CRITICAL (0.90) but within the hysteresis (0.05): stays.
  bus_.cursor(a, 0).position.store(2);
  EXPECT_TRUE(check(kT0 + ms(500)).empty());
  EXPECT_EQ(stored(0), sys::BackpressureLevel::kCritical);

  // 24 / 48 = 0.5: WARNING, but only once the level has been held for min_dwell (100 ms).
  const std::uint64_t entered = kT0;
  bus_.cursor(a, 0).position.store(20);
  ASSERT_EQ(monitor_.ring(0).since_ns, entered);
  bus_.config.backpressure.min_dwell = std::chrono::milliseconds(1000);
  EXPECT_TRUE(check(entered + ms(999)).empty());
  EXPECT_EQ(stored(0), sys::BackpressureLevel::kCritical);
  auto changes = check(entered + ms(1000));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].old_level, sys::BackpressureLevel::kCritical);
  EXPECT_EQ(changes[0].new_level, sys::BackpressureLevel::kWarning);
  EXPECT_EQ(stored(0), sys::BackpressureLevel::kWarning);
}

TEST_F(BackpressureMonitorTest, LevelForAppliesHysteresisOnTheWayDown) {
  EXPECT_EQ(monitor_.level_for(0.49, sys::BackpressureLevel::kNormal),
            sys::BackpressureLevel::kNormal);
  EXPECT_EQ(monitor_.level_for(0.50, sys::BackpressureLevel::kNormal),
            sys::BackpressureLevel::kWarning);
  EXPECT_EQ(monitor_.level_for(0.75, sys::BackpressureLevel::kNormal),
            sys::BackpressureLevel::kHigh);
  EXPECT_EQ(monitor_.level_for(0.95, sys::BackpressureLevel::kNormal),
            sys::BackpressureLevel::kCritical);
  EXPECT_EQ(monitor_.level_for(0.86, sys::BackpressureLevel::kCritical),
            sys::BackpressureLevel::kCritical);
  EXPECT_EQ(monitor_.level_for(0.84, sys::BackpressureLevel::kCritical),
            sys::BackpressureLevel::kHigh);
  EXPECT_EQ(monitor_.level_for(0.46, sys::BackpressureLevel::kWarning),
            sys::BackpressureLevel::kWarning);
  EXPECT_EQ(monitor_.level_for(0.44, sys::BackpressureLevel::kWarning),
            sys::BackpressureLevel::kNormal);
}

TEST_F(BackpressureMonitorTest, AdoptsStoredLevelsAndResetsThemOnLeaving) {
  bus_.seg().header().backpressure[2].store(
      static_cast<std::uint32_t>(sys::BackpressureLevel::kHigh));
  bus_.seg().header().backpressure[3].store(99);  // segment bytes are input
  monitor_.adopt_levels();
  EXPECT_EQ(monitor_.ring(2).level, sys::BackpressureLevel::kHigh);
  EXPECT_EQ(monitor_.ring(3).level, sys::BackpressureLevel::kNormal);
  monitor_.reset_levels();
  for (std::uint32_t r = 0; r < detail::kRingCount; ++r) {
    EXPECT_EQ(stored(r), sys::BackpressureLevel::kNormal);
    EXPECT_EQ(monitor_.ring(r).level, sys::BackpressureLevel::kNormal);
  }
}

}  // namespace
}  // namespace shmbus
