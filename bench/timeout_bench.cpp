// How late poll_wait, run_for and wait_for return on an idle bus, for each wait strategy: the
// time past the asked timeout (the overshoot), whose target is at most 1 ms. Each iteration
// waits once for `timeout_ms` (the benchmark argument) with nothing published; the benchmark
// time is the overshoot (manual time), and p50/p99/max overshoot are counters in µs.
//   build/bench/timeout_bench --benchmark_counters_tabular=true
// The peer measured in the same run is a bare clock_nanosleep of the same length
// (BM_Baseline/Nanosleep): the scheduler's own lateness on this machine.
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ipc/clock.hpp"
#include "shmbus/bus.hpp"

namespace {

using namespace std::chrono_literals;
using shmbus::WaitStrategy;

using shmbus::bench::monotonic_now_ns;

enum class Call { kPollWait, kRunFor, kWaitFor };

// Overshoots in ns, reported as counters in µs.
void report(benchmark::State& state, std::vector<std::uint64_t>& late) {
  if (late.empty()) return;
  std::sort(late.begin(), late.end());
  auto pct = [&](double q) {
    const auto at = static_cast<std::size_t>(q * static_cast<double>(late.size() - 1));
    return static_cast<double>(late[at]) / 1e3;
  };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = static_cast<double>(late.back()) / 1e3;
  state.counters["over_1ms"] = static_cast<double>(
      std::count_if(late.begin(), late.end(), [](std::uint64_t ns) { return ns > 1'000'000; }));
}

void BM_IdleWait(benchmark::State& state, Call call, WaitStrategy wait) {
  const auto timeout = std::chrono::milliseconds(state.range(0));
  const std::string name = "tmo" + std::to_string(::getpid());
  shmbus::BusConfig config;
  config.name = name;
  auto bus = shmbus::Bus::create(config, {.name = "idle", .wait = wait});
  if (!bus) {
    state.SkipWithError(bus.message().c_str());
    return;
  }
  (void)bus->on("idle.*", [](const shmbus::EventView&) {});
  std::vector<std::uint64_t> late;
  for (auto _ : state) {
    const std::uint64_t t0 = monotonic_now_ns();
    switch (call) {
      case Call::kPollWait:
        benchmark::DoNotOptimize(bus->poll_wait(64, timeout));
        break;
      case Call::kRunFor:
        bus->run_for(timeout);
        break;
      case Call::kWaitFor:
        benchmark::DoNotOptimize(bus->wait_for("idle.*", timeout, nullptr));
        break;
    }
    const std::uint64_t took = monotonic_now_ns() - t0;
    const auto want = static_cast<std::uint64_t>(std::chrono::nanoseconds(timeout).count());
    const std::uint64_t over = took > want ? took - want : 0;
    late.push_back(over);
    state.SetIterationTime(static_cast<double>(over) / 1e9);
  }
  report(state, late);
}

void BM_BaselineNanosleep(benchmark::State& state) {
  const auto want = static_cast<std::uint64_t>(state.range(0)) * 1'000'000ull;
  std::vector<std::uint64_t> late;
  for (auto _ : state) {
    const std::uint64_t t0 = monotonic_now_ns();
    timespec ts{static_cast<time_t>(want / 1'000'000'000ull),
                static_cast<long>(want % 1'000'000'000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
    const std::uint64_t took = monotonic_now_ns() - t0;
    const std::uint64_t over = took > want ? took - want : 0;
    late.push_back(over);
    state.SetIterationTime(static_cast<double>(over) / 1e9);
  }
  report(state, late);
}

}  // namespace

#define SHMBUS_TIMEOUT_BENCH(label, call, wait)     \
  BENCHMARK_CAPTURE(BM_IdleWait, label, call, wait) \
      ->Arg(10)                                     \
      ->Iterations(100)                             \
      ->UseManualTime()                             \
      ->Unit(benchmark::kMicrosecond)

SHMBUS_TIMEOUT_BENCH(PollWait / Block, Call::kPollWait, WaitStrategy::kBlock);
SHMBUS_TIMEOUT_BENCH(PollWait / SpinYield, Call::kPollWait, WaitStrategy::kSpinYield);
SHMBUS_TIMEOUT_BENCH(RunFor / Block, Call::kRunFor, WaitStrategy::kBlock);
SHMBUS_TIMEOUT_BENCH(RunFor / SpinYield, Call::kRunFor, WaitStrategy::kSpinYield);
SHMBUS_TIMEOUT_BENCH(WaitFor / Block, Call::kWaitFor, WaitStrategy::kBlock);
SHMBUS_TIMEOUT_BENCH(WaitFor / SpinYield, Call::kWaitFor, WaitStrategy::kSpinYield);
BENCHMARK(BM_BaselineNanosleep)
    ->Name("BM_Baseline/Nanosleep")
    ->Arg(10)
    ->Iterations(100)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
