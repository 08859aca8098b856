// MessageHeader: the first 16 bytes of every message the harness sends. The
// consumer checks `seq` (nothing lost, nothing reordered) and, in latency mode,
// subtracts `send_ts_ns` from its own clock reading. The rest is filler payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace shmbus::bench {

struct MessageHeader {
  std::uint64_t seq = 0;         ///< 0, 1, 2, ... in send order, warm-up included
  std::uint64_t send_ts_ns = 0;  ///< CLOCK_MONOTONIC just before send(); 0 in throughput mode
};

static_assert(std::is_trivially_copyable_v<MessageHeader>);
static_assert(sizeof(MessageHeader) == 16);

/// Smallest message the harness can send: the header alone.
inline constexpr std::size_t kMinMessageBytes = sizeof(MessageHeader);

}  // namespace shmbus::bench
