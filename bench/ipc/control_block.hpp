// ControlBlock: the harness's own shared page between the parent, the producer
// and the consumer: start handshake, the latency ack, progress for the parent's
// watchdog, and the consumer's results. Transports never touch it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "shared_mapping.hpp"

namespace shmbus::bench {

inline constexpr std::size_t kErrorTextBytes = 512;

struct ControlBlock {
  // Each word written by a different process sits on its own cache line.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> consumer_ready{0};
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> producer_ready{0};
  /// Latency mode: number of messages the consumer has fully handled (the pacing ack).
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> ack{0};
  /// Messages handled so far, updated every kProgressStride; read by the parent's watchdog.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> progress{0};
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> consumer_done{0};

  // Written once by the consumer before consumer_done; read by the parent after both exit.
  alignas(kCacheLineBytes) std::uint64_t received = 0;
  std::uint64_t interval_messages = 0;  ///< throughput: messages inside the timed interval
  std::uint64_t interval_ns = 0;        ///< throughput: length of the timed interval
  /// Involuntary context switches of each child (getrusage): other work took its core.
  std::uint64_t producer_preemptions = 0;
  std::uint64_t consumer_preemptions = 0;

  char producer_error[kErrorTextBytes] = {};
  char consumer_error[kErrorTextBytes] = {};
};

inline constexpr std::uint64_t kProgressStride = 1024;

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

/// Copies `text` into a fixed error field (truncating), for the parent to report.
inline void write_error_text(char (&field)[kErrorTextBytes], const char* text) noexcept {
  std::snprintf(field, kErrorTextBytes, "%s", text);
}

}  // namespace shmbus::bench
