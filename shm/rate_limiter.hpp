// A lock-free token bucket for publish rate limits (per-agent flood protection,
// and LOW events at backpressure HIGH). Rate and burst are read each call so the
// supervisor can change them live. No allocation, no system call.
#pragma once

#include <atomic>
#include <cstdint>

namespace shmbus::detail {

class RateLimiter {
 public:
  /// True when one more event fits `rate_per_s` (burst: a tenth of a second's worth, at
  /// least 1). A rate of 0 means unlimited.
  bool allow(std::uint64_t rate_per_s, std::uint64_t now_ns) noexcept {
    if (rate_per_s == 0) return true;
    // Time-based bucket: `next_ns_` is when the bucket would be empty again; each event adds
    // 1/rate seconds. Allowed while that stays within the burst window ahead of now.
    const std::uint64_t cost_ns = 1'000'000'000ull / rate_per_s + (rate_per_s > 1'000'000'000ull);
    const std::uint64_t burst = rate_per_s / 10 > 0 ? rate_per_s / 10 : 1;
    const std::uint64_t window_ns = cost_ns * burst;
    std::uint64_t next = next_ns_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t base = next < now_ns ? now_ns : next;
      if (base + cost_ns > now_ns + window_ns) return false;
      if (next_ns_.compare_exchange_weak(next, base + cost_ns, std::memory_order_relaxed)) {
        return true;
      }
    }
  }

 private:
  std::atomic<std::uint64_t> next_ns_{0};
};

}  // namespace shmbus::detail
