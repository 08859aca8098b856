// The layout hash: a constexpr fold of the sizes and offsets of shm/layout.hpp, written into
// the segment header by the creator and compared by every attacher, so a build that moved a
// field without bumping the version is still told apart. Segment creation and tests use it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shm/layout.hpp"

namespace shmbus::detail {

constexpr std::uint64_t hash_mix(std::uint64_t h, std::uint64_t v) {
  return (h ^ v) * 0x100000001B3ull;  // FNV-1a step over whole words
}

// Folds the major version only: a minor bump (additions in reserved space) must not make builds
// reject each other's segments.
constexpr std::uint64_t compute_layout_hash() {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::uint64_t v : {std::uint64_t{sizeof(SegmentHeader)},
                          std::uint64_t{offsetof(SegmentHeader, config)},
                          std::uint64_t{offsetof(SegmentHeader, regions)},
                          std::uint64_t{offsetof(SegmentHeader, control_mutex)},
                          std::uint64_t{offsetof(SegmentHeader, supervisor_pid)},
                          std::uint64_t{offsetof(SegmentHeader, backpressure)},
                          std::uint64_t{offsetof(SegmentHeader, wake_word)},
                          std::uint64_t{offsetof(SegmentHeader, waiters)},
                          std::uint64_t{offsetof(SegmentHeader, claims_padded)},
                          std::uint64_t{sizeof(SegmentConfig)},
                          std::uint64_t{sizeof(RegionTable)},
                          std::uint64_t{sizeof(AgentRecord)},
                          std::uint64_t{offsetof(AgentRecord, heartbeat_ns)},
                          std::uint64_t{offsetof(AgentRecord, cursors)},
                          std::uint64_t{offsetof(AgentRecord, claiming)},
                          std::uint64_t{offsetof(AgentRecord, counters)},
                          std::uint64_t{sizeof(ReaderCursor)},
                          std::uint64_t{sizeof(RingCounters)},
                          std::uint64_t{sizeof(TopicEntry)},
                          std::uint64_t{sizeof(RingHeader)},
                          std::uint64_t{sizeof(SlotHeader)},
                          std::uint64_t{offsetof(SlotHeader, length)},
                          std::uint64_t{offsetof(SlotHeader, flags)},
                          kErrorLogEntryBytes,
                          std::uint64_t{kLayoutMajor}}) {
    h = hash_mix(h, v);
  }
  return h;
}
inline constexpr std::uint64_t kLayoutHash = compute_layout_hash();

}  // namespace shmbus::detail
