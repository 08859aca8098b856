// HarnessWait: how harness code in a child process waits for another process
// (start flag, acks) or for time to pass (the pacing gap). A process with a CPU
// to itself busy-waits, so the wait adds nothing to what is measured. A process
// that shares its CPU with others of the run (pinned with the rest of its role,
// or more processes than CPUs) must let them run: it spins briefly and then
// sched_yields while it waits for another process, and sleeps through the gap.
#pragma once

#include <sched.h>
#include <time.h>

#include <cerrno>
#include <cstdint>

#include "ipc/clock.hpp"

namespace shmbus::bench::scaling {

class HarnessWait {
 public:
  HarnessWait() = default;
  /// `shares_cpu`: another process of the run may run on this one's CPU. `pinned_apart`:
  /// this process and the ones it waits acks from are pinned to different CPUs.
  HarnessWait(bool shares_cpu, bool pinned_apart) noexcept
      : shares_cpu_(shares_cpu), pinned_apart_(pinned_apart) {}

  /// Waits for something any process of the run may do (the start flag, the flood's first
  /// ring): spins, then yields when the CPU is shared, so a CPU-mate it waits for can run.
  template <class Done>
  void until(Done&& done) const noexcept {
    for (std::uint32_t round = 0; !done(); ++round) pause(round, shares_cpu_);
  }

  /// Waits for an ack from a process pinned to the other CPU: busy, whoever shares this
  /// CPU, since yielding would hand the CPU to a CPU-mate for a whole time slice (a
  /// millisecond, a hundred times the latency) and spinning starves nobody it waits for.
  /// Unpinned, the acker may need this very CPU: spins, then yields.
  template <class Done>
  void until_acked(Done&& done) const noexcept {
    const bool yield = shares_cpu_ && !pinned_apart_;
    for (std::uint32_t round = 0; !done(); ++round) pause(round, yield);
  }

  /// Idles until CLOCK_MONOTONIC reaches `deadline_ns`: busy when the CPU is this process's
  /// own; asleep when it is shared, so CPU-mates run meanwhile (timer slack: see child_main).
  void idle_until(std::uint64_t deadline_ns) const noexcept {
    if (!shares_cpu_) {
      spin_until_ns(deadline_ns);
      return;
    }
    const timespec deadline{static_cast<time_t>(deadline_ns / 1'000'000'000u),
                            static_cast<long>(deadline_ns % 1'000'000'000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
    }
  }

  bool shares_cpu() const noexcept { return shares_cpu_; }

 private:
  // As many rounds as the bus's own spin-then-yield: a peer running on another CPU usually
  // answers within them, so the system call is paid only when the peer is not running.
  static constexpr std::uint32_t kSpinRounds = 64;

  static void pause(std::uint32_t round, bool yield) noexcept {
    if (yield && round >= kSpinRounds) {
      sched_yield();
    } else {
      cpu_relax();
    }
  }

  bool shares_cpu_ = false;
  bool pinned_apart_ = false;
};

}  // namespace shmbus::bench::scaling
