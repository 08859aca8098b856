#include "shm/fast_clock.hpp"

#include <cstdio>
#include <cstring>

namespace shmbus::detail {
namespace {

__extension__ using Wide = unsigned __int128;

struct Pair {
  std::uint64_t tsc;
  std::uint64_t ns;
};

#if defined(__x86_64__)
// clock_gettime bracketed by two TSC reads; the narrower of two tries.
Pair sample_pair() noexcept {
  Pair best{0, 0};
  std::uint64_t best_width = ~0ull;
  for (int i = 0; i < 2; ++i) {
    const std::uint64_t t1 = __rdtsc();
    const std::uint64_t ns = monotonic_ns();
    const std::uint64_t t2 = __rdtsc();
    if (t2 >= t1 && t2 - t1 < best_width) {
      best_width = t2 - t1;
      best = Pair{t1 + (t2 - t1) / 2, ns};
    }
  }
  if (best_width == ~0ull) best = Pair{__rdtsc(), monotonic_ns()};
  return best;
}
#endif

std::uint64_t clamp_forward(FastClockState& s, std::uint64_t ns) noexcept {
  if (ns < s.last_ns) ns = s.last_ns;
  s.last_ns = ns;
  return ns;
}

}  // namespace

bool fast_clock_uses_tsc() noexcept {
#if defined(__x86_64__)
  static const bool uses = [] {
    std::FILE* f =
        std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
    if (f == nullptr) return false;
    char name[32] = {};
    const bool ok = std::fgets(name, sizeof name, f) != nullptr;
    std::fclose(f);
    return ok && std::strncmp(name, "tsc\n", 4) == 0;
  }();
  return uses;
#else
  return false;
#endif
}

std::uint64_t fast_clock_reanchor(FastClockState& s) noexcept {
#if defined(__x86_64__)
  if (s.source == 0) s.source = fast_clock_uses_tsc() ? 1 : 2;
  if (s.source != 1) return clamp_forward(s, monotonic_ns());
  const Pair p = sample_pair();
  if (s.base_ns == 0 || p.tsc <= s.base_tsc || p.ns <= s.base_ns) {
    // First call, or a TSC behind the baseline (another core's, by a few ticks): restart.
    s.base_tsc = p.tsc;
    s.base_ns = p.ns;
  }
  const std::uint64_t dns = p.ns - s.base_ns;
  const std::uint64_t dtsc = p.tsc - s.base_tsc;
  if (dns >= FastClockState::kMinBaselineNs &&
      (!s.settled || dns >= FastClockState::kFullBaselineNs)) {
    // Factor error ~ 2 x (pair width) / baseline; re-anchoring every baseline/16 (at most
    // 1 ms) keeps each reading within a few ns of what clock_gettime would say.
    s.mult = static_cast<std::uint64_t>((static_cast<Wide>(dns) << FastClockState::kShift) / dtsc);
    std::uint64_t interval_ns = dns / 16;
    if (interval_ns > FastClockState::kReanchorNs) interval_ns = FastClockState::kReanchorNs;
    s.reanchor_ticks = static_cast<std::uint64_t>(static_cast<Wide>(interval_ns) * dtsc / dns);
    if (s.mult >= (1ull << 34) || s.reanchor_ticks >= (1ull << 26)) {
      // A TSC this slow (or fast) would overflow the fast path's 64-bit product.
      s.source = 2;
      s.reanchor_ticks = 0;
      return clamp_forward(s, p.ns);
    }
    if (dns >= FastClockState::kFullBaselineNs) {
      // Follow the kernel's rate (NTP slews it): the next factor comes from a fresh second.
      s.settled = true;
      s.base_tsc = p.tsc;
      s.base_ns = p.ns;
    }
  }
  s.anchor_tsc = p.tsc;
  s.anchor_ns = p.ns;
  return clamp_forward(s, p.ns);
#else
  return clamp_forward(s, monotonic_ns());
#endif
}

}  // namespace shmbus::detail
