// Barrier wake-up latency across processes. What is timed: from the last participant's arrive()
// (the CLOCK_MONOTONIC stamp arrive() takes, BarrierRound::last_arrive_mono_ns) to the waiter's
// return from Barrier::wait() with the round, the waiter and the participants being separate
// processes pinned to separate cores (when there are two). Each iteration is one round; the
// benchmark time is that latency (manual time), and p50/p90/p99/p99.9/max are counters in ns.
// The participants pause `gap_us` after each round opens, so a blocking waiter is asleep when
// the last signal comes. Peers in the same run, with the same round trip and pacing: a bare
// futex wake between two processes (BM_Baseline/FutexWake) and one cache line written by one
// process and spun on by the other (BM_Baseline/SpinLine).
#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "shmbus/barrier.hpp"
#include "shmbus/bus.hpp"

namespace {

using namespace std::chrono_literals;
using shmbus::WaitStrategy;

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

void spin_for_us(std::uint64_t us) {
  const std::uint64_t until = now_ns() + us * 1000;
  while (now_ns() < until) {
  }
}

void pin_to(int cpu) {
  if (std::thread::hardware_concurrency() < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)sched_setaffinity(0, sizeof(set), &set);
}

void report(benchmark::State& state, std::vector<std::uint64_t>& lat) {
  if (lat.empty()) return;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    const auto i = static_cast<std::size_t>(p * static_cast<double>(lat.size() - 1));
    return static_cast<double>(lat[i]);
  };
  state.counters["p50_ns"] = pct(0.50);
  state.counters["p90_ns"] = pct(0.90);
  state.counters["p99_ns"] = pct(0.99);
  state.counters["p99.9_ns"] = pct(0.999);
  state.counters["max_ns"] = static_cast<double>(lat.back());
}

shmbus::BusConfig bench_config(const std::string& name) {
  shmbus::BusConfig c;
  c.name = name;
  c.ring_capacity = {256, 256, 256, 256};
  c.history_depth = 64;
  c.max_agents = 16;
  c.max_barriers = 2;
  c.max_barrier_participants = 8;
  c.barrier_signal_bytes = 64;
  return c;
}

// Child process: `participants` participant agents (threads), each arriving in every round
// `gap_us` after it opens, until the barrier is removed.
[[noreturn]] void run_participants(const std::string& bus_name, int participants,
                                   WaitStrategy strategy, std::uint64_t gap_us) {
  pin_to(1);
  std::vector<std::thread> threads;
  for (int i = 0; i < participants; ++i) {
    threads.emplace_back([&, i] {
      auto bus =
          shmbus::Bus::attach(bus_name, shmbus::AgentOptions{.name = "p" + std::to_string(i)});
      if (!bus) return;
      auto b = shmbus::Barrier::open(*bus, "bench");
      if (!b) return;
      const std::uint64_t payload[4] = {static_cast<std::uint64_t>(i), 0, 0, 0};
      for (;;) {
        auto g = b->wait_open(10s, strategy);
        if (!g) return;
        spin_for_us(gap_us);
        (void)b->arrive(std::as_bytes(std::span(payload)));
      }
    });
  }
  for (auto& t : threads) t.join();
  _exit(0);
}

void BM_BarrierWake(benchmark::State& state, WaitStrategy strategy,
                    WaitStrategy participant_strategy) {
  const int participants = static_cast<int>(state.range(0));
  const auto gap_us = static_cast<std::uint64_t>(state.range(1));
  static int counter = 0;
  const std::string name = "bbar" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  auto bus = shmbus::Bus::create(bench_config(name), shmbus::AgentOptions{.name = "cio"});
  if (!bus) {
    state.SkipWithError(bus.message().c_str());
    return;
  }
  std::vector<std::string> names;
  for (int i = 0; i < participants; ++i) names.push_back("p" + std::to_string(i));
  if (!shmbus::create_barrier(*bus, "bench", names, 10s)) {
    state.SkipWithError("create_barrier failed");
    return;
  }
  const pid_t child = fork();
  if (child == 0) run_participants(name, participants, participant_strategy, gap_us);
  pin_to(0);
  auto w = shmbus::Barrier::open(*bus, "bench");
  if (!w || !w->become_waiter()) {
    state.SkipWithError("cannot become the waiter");
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return;
  }
  shmbus::BarrierRound round;
  for (int i = 0; i < 200; ++i) (void)w->wait(round, 10s, strategy);  // warm-up
  std::vector<std::uint64_t> lat;
  lat.reserve(static_cast<std::size_t>(state.max_iterations));
  for (auto _ : state) {
    if (!w->wait(round, 10s, strategy) || !round.complete) {
      state.SkipWithError("round failed");
      break;
    }
    const std::uint64_t t = now_ns();
    const std::uint64_t d = t > round.last_arrive_mono_ns ? t - round.last_arrive_mono_ns : 0;
    lat.push_back(d);
    state.SetIterationTime(static_cast<double>(d) * 1e-9);
  }
  (void)shmbus::remove_barrier(*bus, "bench");
  waitpid(child, nullptr, 0);
  report(state, lat);
}

// ---- peers ---------------------------------------------------------------------------------

struct alignas(64) PingLine {
  std::atomic<std::uint32_t> word;  // bumped by the child: "signal"
  std::uint32_t pad0[15];
  std::atomic<std::uint32_t> ack;  // bumped by the parent: "next round"
  std::uint32_t pad1[15];
  std::atomic<std::uint64_t> stamp;  // child's clock before the signal
};

void futex_wait(std::atomic<std::uint32_t>* w, std::uint32_t v) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAIT, v, nullptr, nullptr, 0);
}
void futex_wake(std::atomic<std::uint32_t>* w) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

// The same round trip as a one-participant barrier (child: wait for "next", pause, signal;
// parent: wait for the signal, then "next"), with a bare futex (block) or a spun line (spin).
void BM_Baseline(benchmark::State& state, bool block) {
  const auto gap_us = static_cast<std::uint64_t>(state.range(0));
  void* mem =
      mmap(nullptr, sizeof(PingLine), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* line = new (mem) PingLine{};
  const pid_t child = fork();
  if (child == 0) {
    pin_to(1);
    for (std::uint32_t i = 0;; ++i) {
      while (line->ack.load(std::memory_order_acquire) == i) {
        if (block) futex_wait(&line->ack, i);
      }
      if (line->ack.load() == ~0u) _exit(0);
      spin_for_us(gap_us);
      line->stamp.store(now_ns(), std::memory_order_relaxed);
      line->word.fetch_add(1, std::memory_order_release);
      if (block) futex_wake(&line->word);
    }
  }
  pin_to(0);
  std::vector<std::uint64_t> lat;
  std::uint32_t seen = 0;
  auto one = [&]() -> std::uint64_t {
    line->ack.fetch_add(1, std::memory_order_release);
    if (block) futex_wake(&line->ack);
    while (line->word.load(std::memory_order_acquire) == seen) {
      if (block) futex_wait(&line->word, seen);
    }
    ++seen;
    const std::uint64_t t = now_ns();
    const std::uint64_t s = line->stamp.load(std::memory_order_relaxed);
    return t > s ? t - s : 0;
  };
  for (int i = 0; i < 200; ++i) (void)one();
  for (auto _ : state) {
    const std::uint64_t d = one();
    lat.push_back(d);
    state.SetIterationTime(static_cast<double>(d) * 1e-9);
  }
  line->ack.store(~0u);
  futex_wake(&line->ack);
  waitpid(child, nullptr, 0);
  munmap(mem, sizeof(PingLine));
  report(state, lat);
}

constexpr int kIterations = 20000;

}  // namespace

// Blocking waiter; participants block too (the waiter's advance then pays a FUTEX_WAKE for
// them before wait() returns), or spin-yield on their own core (the waiter's wake-up alone).
BENCHMARK_CAPTURE(BM_BarrierWake, Block, WaitStrategy::kBlock, WaitStrategy::kBlock)
    ->ArgsProduct({{1, 4}, {20, 100}})
    ->ArgNames({"participants", "gap_us"})
    ->UseManualTime()
    ->Iterations(kIterations);
BENCHMARK_CAPTURE(BM_BarrierWake, BlockWaiterOnly, WaitStrategy::kBlock, WaitStrategy::kSpinYield)
    ->ArgsProduct({{1}, {20, 100}})
    ->ArgNames({"participants", "gap_us"})
    ->UseManualTime()
    ->Iterations(kIterations);
BENCHMARK_CAPTURE(BM_BarrierWake, Spin, WaitStrategy::kBusySpin, WaitStrategy::kBusySpin)
    ->ArgsProduct({{1}, {20}})
    ->ArgNames({"participants", "gap_us"})
    ->UseManualTime()
    ->Iterations(kIterations);
BENCHMARK_CAPTURE(BM_Baseline, FutexWake, true)
    ->Arg(20)
    ->Arg(100)
    ->ArgName("gap_us")
    ->UseManualTime()
    ->Iterations(kIterations);
BENCHMARK_CAPTURE(BM_Baseline, SpinLine, false)
    ->Arg(20)
    ->ArgName("gap_us")
    ->UseManualTime()
    ->Iterations(kIterations);
