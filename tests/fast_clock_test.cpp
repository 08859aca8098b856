// fast_monotonic_ns(): the TSC-derived clock of the publish and dispatch paths must read
// what CLOCK_MONOTONIC reads (within a few microseconds, a bound loose enough for a
// preempted VM and sanitizers, tight enough to catch a wrong factor or a stale anchor),
// never go backwards, and hold on every thread.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "shm/clock.hpp"
#include "shm/fast_clock.hpp"

namespace shmbus::detail {
namespace {

constexpr std::uint64_t kToleranceNs = 20'000;

// Compares against bracketing clock_gettime reads for `duration_ns`; returns the number of
// comparisons made and records the worst error seen.
std::uint64_t compare_for(std::uint64_t duration_ns, std::uint64_t& worst_ns) {
  std::uint64_t previous = 0;
  std::uint64_t n = 0;
  worst_ns = 0;
  const std::uint64_t end = monotonic_ns() + duration_ns;
  for (;;) {
    const std::uint64_t before = monotonic_ns();
    const std::uint64_t fast = fast_monotonic_ns();
    const std::uint64_t after = monotonic_ns();
    EXPECT_GE(fast, previous) << "went backwards at comparison " << n;
    previous = fast;
    const std::uint64_t error = fast < before ? before - fast : (fast > after ? fast - after : 0);
    if (error > worst_ns) worst_ns = error;
    ++n;
    if (after >= end) return n;
  }
}

TEST(FastClock, TracksClockMonotonicFromTheFirstCall) {
  std::uint64_t worst = 0;
  // The first milliseconds run on a short baseline: the bound must hold there too.
  const std::uint64_t n = compare_for(5'000'000, worst);
  EXPECT_GT(n, 100u);
  EXPECT_LT(worst, kToleranceNs) << "worst error in the first 5 ms";
  std::printf("first 5 ms: %llu comparisons, worst error %llu ns (uses TSC: %d)\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(worst),
              fast_clock_uses_tsc() ? 1 : 0);
}

TEST(FastClock, TracksClockMonotonicOverSeconds) {
  // Past the first full baseline (1 s), with the factor refreshed.
  std::uint64_t worst = 0;
  const std::uint64_t n = compare_for(1'300'000'000, worst);
  EXPECT_LT(worst, kToleranceNs);
  std::printf("1.3 s: %llu comparisons, worst error %llu ns\n", static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(worst));
}

TEST(FastClock, SleepingThreadReanchors) {
  // A reading after a long idle must come from a fresh anchor, not an extrapolation.
  (void)fast_monotonic_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const std::uint64_t before = monotonic_ns();
  const std::uint64_t fast = fast_monotonic_ns();
  const std::uint64_t after = monotonic_ns();
  EXPECT_GE(fast + kToleranceNs, before);
  EXPECT_LE(fast, after + kToleranceNs);
}

TEST(FastClock, EveryThreadHasItsOwnCalibration) {
  std::vector<std::thread> threads;
  std::vector<std::uint64_t> worst(4, 0);
  for (std::size_t i = 0; i < worst.size(); ++i) {
    threads.emplace_back([&worst, i] { (void)compare_for(100'000'000, worst[i]); });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < worst.size(); ++i) {
    EXPECT_LT(worst[i], kToleranceNs) << "thread " << i;
  }
}

}  // namespace
}  // namespace shmbus::detail
