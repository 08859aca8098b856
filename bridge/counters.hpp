// The bridge's live counters: written by its threads (the bus dispatcher for exports, the NATS
// client's threads for acks, imports and connection events) with relaxed atomics, copied into a
// BridgeStats for the STATS file and stats().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>

#include "shmbus/bridge_stats.hpp"

namespace shmbus::bridge::detail {

struct DirectionCounters {
  std::atomic<std::uint64_t> messages{0}, bytes{0}, lag_ns{0}, acked{0}, pending{0}, retries{0},
      duplicates{0}, rejected{0};
  std::array<std::atomic<std::uint64_t>, kPriorityCount> shed{};

  void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  void copy_to(DirectionStats& d) const noexcept {
    d.messages = messages.load(std::memory_order_relaxed);
    d.bytes = bytes.load(std::memory_order_relaxed);
    d.lag_ns = lag_ns.load(std::memory_order_relaxed);
    d.acked = acked.load(std::memory_order_relaxed);
    d.pending = pending.load(std::memory_order_relaxed);
    d.retries = retries.load(std::memory_order_relaxed);
    d.duplicates = duplicates.load(std::memory_order_relaxed);
    d.rejected = rejected.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < kPriorityCount; ++i)
      d.shed[i] = shed[i].load(std::memory_order_relaxed);
  }
};

struct Counters {
  std::atomic<std::uint64_t> connected{0}, reconnects{0}, disconnects{0}, missed{0},
      loops_dropped{0}, reject_subject{0}, reject_version{0}, reject_too_large{0}, reject_other{0};
  DirectionCounters out, in;

  static void inc(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  /// Cold path (errors): remembers the text for the STATS file.
  void set_error(std::string_view text) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    last_error_.assign(text.substr(0, sizeof(BridgeStats::last_error) - 1));
  }
  std::string last_error() const {
    std::lock_guard<std::mutex> lock(error_mutex_);
    return last_error_;
  }
  void copy_to(BridgeStats& s) const {
    s.connected = connected.load(std::memory_order_relaxed);
    s.reconnects = reconnects.load(std::memory_order_relaxed);
    s.disconnects = disconnects.load(std::memory_order_relaxed);
    s.missed = missed.load(std::memory_order_relaxed);
    s.loops_dropped = loops_dropped.load(std::memory_order_relaxed);
    s.reject_subject = reject_subject.load(std::memory_order_relaxed);
    s.reject_version = reject_version.load(std::memory_order_relaxed);
    s.reject_too_large = reject_too_large.load(std::memory_order_relaxed);
    s.reject_other = reject_other.load(std::memory_order_relaxed);
    out.copy_to(s.out);
    in.copy_to(s.in);
    std::lock_guard<std::mutex> lock(error_mutex_);
    std::memset(s.last_error, 0, sizeof s.last_error);
    std::memcpy(s.last_error, last_error_.data(), last_error_.size());
  }

 private:
  mutable std::mutex error_mutex_;
  std::string last_error_;
};

}  // namespace shmbus::bridge::detail
