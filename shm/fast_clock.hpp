// fast_monotonic_ns(): CLOCK_MONOTONIC nanoseconds for the publish and dispatch paths, at
// the cost of one unserialized rdtsc (~10 ns) instead of a vDSO clock_gettime (~25 ns,
// which serializes the TSC read and checks a seqlock). Used where the bus reads the clock
// once per event: the publish timestamp, delivery latency and the handler budget.
//
// How: each thread keeps an anchor pair (tsc, CLOCK_MONOTONIC) and a ticks-to-ns factor,
// and converts `anchor_ns + (tsc - anchor_tsc) * factor`. The anchor is renewed from
// clock_gettime once it is kReanchorNs old (so each reading is within one re-anchoring
// interval of the real clock: an NTP slew of s ppm costs at most s ns per ms), and the
// factor is measured over the whole life of the thread's state, so its error shrinks as
// the baseline grows. Readings never go backwards within a thread. The TSC is used only
// where the kernel itself uses it for CLOCK_MONOTONIC (clocksource "tsc": invariant and
// synchronized across cores, checked by the kernel at boot); anywhere else this is
// monotonic_ns().
#pragma once

#include <cstdint>

#include "shm/clock.hpp"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace shmbus::detail {

struct FastClockState {
  std::uint64_t anchor_tsc = 0;
  std::uint64_t anchor_ns = 0;
  std::uint64_t mult = 0;            // ns per tick << kShift
  std::uint64_t reanchor_ticks = 0;  // 0 until calibrated (or no TSC): every call re-anchors
  std::uint64_t last_ns = 0;         // readings never go backwards
  std::uint64_t base_tsc = 0;        // start of the baseline the factor is measured over
  std::uint64_t base_ns = 0;
  std::uint8_t source = 0;  // 0 not checked yet, 1 TSC, 2 clock_gettime only
  bool settled = false;     // the factor comes from a full-length baseline

  static constexpr unsigned kShift = 32;
  static constexpr std::uint64_t kReanchorNs = 1'000'000;          // 1 ms
  static constexpr std::uint64_t kMinBaselineNs = 20'000;          // first factor after 20 us
  static constexpr std::uint64_t kFullBaselineNs = 1'000'000'000;  // then every second
};

// Constant-initialised, initial-exec: reaching it is one %fs-relative address, no call.
constinit inline thread_local FastClockState g_fast_clock
    __attribute__((tls_model("initial-exec"))){};

/// The slow path: (re)anchors and returns clock_gettime's reading.
std::uint64_t fast_clock_reanchor(FastClockState& s) noexcept;
/// True when this machine's CLOCK_MONOTONIC is driven by an invariant, synchronized TSC.
bool fast_clock_uses_tsc() noexcept;

inline std::uint64_t fast_monotonic_ns() noexcept {
#if defined(__x86_64__)
  FastClockState& s = g_fast_clock;
  const std::uint64_t ticks = __rdtsc() - s.anchor_tsc;
  // Unsigned: a TSC behind the anchor (another core's, by a few ticks) is huge and re-anchors.
  if (ticks >= s.reanchor_ticks) [[unlikely]] {
    return fast_clock_reanchor(s);
  }
  // ticks < reanchor_ticks (1 ms of ticks, < 2^24 up to 16 GHz) and mult < 2^34 (a TSC of
  // 250 MHz or more): the product fits 64 bits.
  std::uint64_t ns = s.anchor_ns + ((ticks * s.mult) >> FastClockState::kShift);
  if (ns < s.last_ns) ns = s.last_ns;
  s.last_ns = ns;
  return ns;
#else
  return monotonic_ns();
#endif
}

}  // namespace shmbus::detail
