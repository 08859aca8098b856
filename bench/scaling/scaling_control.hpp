// ScalingControl: the harness's own shared page for one run of
// shmbus-scaling-bench, mapped by the parent before it forks (SharedMapping) so
// every child sees it: the start flag, per-subscriber latency acks, progress for
// the parent's watchdog, the LOW flood's counters, and each child's results. The
// bus never touches it. Child i (fork order) owns lines[i], acks[i], reports[i].
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ipc/control_block.hpp"  // kErrorTextBytes, write_error_text, kProgressStride
#include "ipc/shared_mapping.hpp"

namespace shmbus::bench::scaling {

/// Children of one run: up to kMaxProcessesPerRole of one role plus a few others.
inline constexpr std::size_t kMaxChildren = 40;

/// Written by one child (ready, progress, done), read by the parent's watchdog.
struct alignas(kCacheLineBytes) ChildLine {
  std::atomic<std::uint32_t> ready{0};     ///< attached (and subscribed): parent's start barrier
  std::atomic<std::uint32_t> done{0};      ///< finished its part (results written)
  std::atomic<std::uint64_t> progress{0};  ///< events handled, every kProgressStride
};

/// Latency pacing: events this subscriber has fully handled. The producer waits for every
/// subscriber's line; M subscribers store theirs at the same moment, hence a line each.
struct alignas(kCacheLineBytes) AckLine {
  std::atomic<std::uint64_t> count{0};
};

/// A child's results: written once before it exits, read by the parent after every child
/// is reaped (process exit orders the writes).
struct ChildReport {
  std::uint64_t handled = 0;          ///< events handled (subscriber) or published (producer)
  std::uint64_t interval_events = 0;  ///< throughput: events inside the timed interval
  std::uint64_t interval_ns = 0;      ///< throughput and priority: length of that interval
  /// Priority subscriber under the flood: LOW events handled inside the CRITICAL interval,
  /// and the LOW backlog (published, not yet handled) seen at each measured CRITICAL event.
  std::uint64_t low_events = 0;
  std::uint64_t low_backlog_min = 0;
  std::uint64_t low_backlog_sum = 0;
  std::uint64_t low_backlog_samples = 0;
  std::uint64_t low_half_full = 0;  ///< ... of which found the LOW ring at least half full
  /// Involuntary context switches (getrusage): preempted, or sched_yield gave the CPU away.
  std::uint64_t preemptions = 0;
  char error[kErrorTextBytes] = {};
};

struct ScalingControl {
  /// Set by the parent once every child is ready; producers wait for it.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> go{0};
  /// Priority: set by the subscriber once it has every CRITICAL event; the flood stops.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> stop_flood{0};
  /// Priority: LOW events the flood has published so far, stored after every publish. Its
  /// own line: the flood writes it at full rate, the subscriber reads it per CRITICAL event.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> low_published{0};
  ChildLine lines[kMaxChildren];
  AckLine acks[kMaxChildren];
  alignas(kCacheLineBytes) ChildReport reports[kMaxChildren];
};

static_assert(sizeof(ChildLine) == kCacheLineBytes, "one line per child: no false sharing");
static_assert(sizeof(AckLine) == kCacheLineBytes, "one line per subscriber's ack");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "lock-free means address-free, so usable across processes");

}  // namespace shmbus::bench::scaling
