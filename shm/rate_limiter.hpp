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
    const std::uint64_t cost_ns = cost_of(rate_per_s);
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

  /// Gives back what one allow(`rate_per_s`, ...) that returned true took, for an event that
  /// was admitted but not published and will be admitted again (Bus::try_publish on a full
  /// ring): so one event is charged once. `rate_per_s` is the rate that allow() was given.
  void refund(std::uint64_t rate_per_s) noexcept {
    if (rate_per_s == 0) return;
    const std::uint64_t cost_ns = cost_of(rate_per_s);
    std::uint64_t next = next_ns_.load(std::memory_order_relaxed);
    // allow() left next at max(next, then) + cost: taking the cost off restores a bucket as full
    // as it was (a next in the past is a full bucket, however far back).
    while (!next_ns_.compare_exchange_weak(next, next > cost_ns ? next - cost_ns : 0,
                                           std::memory_order_relaxed)) {
    }
  }

 private:
  static std::uint64_t cost_of(std::uint64_t rate_per_s) noexcept {
    return 1'000'000'000ull / rate_per_s + (rate_per_s > 1'000'000'000ull);
  }

  std::atomic<std::uint64_t> next_ns_{0};
};

}  // namespace shmbus::detail
