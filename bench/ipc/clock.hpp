// Monotonic clock and spin hint used by every timed loop of the IPC harness.
// Both processes read the same CLOCK_MONOTONIC, so a timestamp taken by the
// producer can be subtracted from one taken by the consumer.
#pragma once

#include <time.h>

#include <cstdint>

namespace shmbus::bench {

/// CLOCK_MONOTONIC in nanoseconds (vDSO, about 30 ns on the reference VM).
inline std::uint64_t monotonic_now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

/// Hint for busy-wait loops; every spinning transport and the harness use the same one.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Busy-waits until the monotonic clock reaches `deadline_ns`.
inline void spin_until_ns(std::uint64_t deadline_ns) noexcept {
  while (monotonic_now_ns() < deadline_ns) cpu_relax();
}

}  // namespace shmbus::bench
