// EventHeader: the first 24 bytes of every event payload shmbus-scaling-bench
// publishes (the rest is filler up to --payload). Subscribers check (producer,
// seq) for loss, duplicates and order; paced runs carry the producer's
// CLOCK_MONOTONIC stamp, which the subscriber subtracts from its own reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace shmbus::bench::scaling {

struct EventHeader {
  std::uint64_t seq = 0;         ///< 0, 1, 2, ... per producer, warm-up included
  std::uint64_t send_ts_ns = 0;  ///< CLOCK_MONOTONIC just before publish; 0 when unpaced
  std::uint32_t producer = 0;    ///< the producer's index within its run
  std::uint32_t reserved = 0;
};

static_assert(std::is_trivially_copyable_v<EventHeader>);
static_assert(sizeof(EventHeader) == 24);

/// Smallest payload the harness can publish: the header alone.
inline constexpr std::size_t kMinPayloadBytes = sizeof(EventHeader);

}  // namespace shmbus::bench::scaling
