// Sizes of the regions whose internals live in their own layout headers
// (barriers, dead letters), so plan_regions can place them.
#pragma once

#include <cstdint>

#include "shm/barrier_layout.hpp"
#include "shm/dead_letter_layout.hpp"
#include "shm/layout.hpp"

namespace shmbus::detail {

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) {
  return (v + a - 1) / a * a;
}

/// One barrier: a 256-byte header, then per participant a 128-byte record and two signal
/// buffers (one per generation parity), each rounded up to a cache line.
constexpr std::uint64_t barrier_record_bytes(const SegmentConfig& c) {
  return sizeof(BarrierHeader) +
         std::uint64_t{c.max_barrier_participants} * barrier_participant_stride(c);
}
/// The table header (64 bytes), then the records, rounded up to a page.
constexpr std::uint64_t barrier_region_bytes(const SegmentConfig& c) {
  return align_up(
      sizeof(BarrierTableHeader) + std::uint64_t{c.max_barriers} * barrier_record_bytes(c), 4096);
}

/// Dead letters (shm/dead_letter_layout.hpp): a 64-byte header, then entries of a 192-byte
/// DeadLetterEntry (64-byte event head, 128 bytes of handler name and reason) plus the payload.
constexpr std::uint64_t dead_letter_entry_bytes(const SegmentConfig& c) {
  return sizeof(DeadLetterEntry) + align_up(c.max_payload_bytes, kCacheLine);
}
constexpr std::uint64_t dead_letter_region_bytes(const SegmentConfig& c) {
  return align_up(
      sizeof(DeadLetterHeader) + std::uint64_t{c.dead_letter_capacity} * dead_letter_entry_bytes(c),
      4096);
}
static_assert(sizeof(DeadLetterEntry) == 64 + 128 && sizeof(DeadLetterHeader) == 64,
              "dead-letter sizes are part of the region plan");

/// Topic statistics: one row of max_topics TopicAgentCounters per agent record.
constexpr std::uint64_t topic_stats_region_bytes(const SegmentConfig& c) {
  return align_up(std::uint64_t{c.max_agents} * c.max_topics * sizeof(TopicAgentCounters), 4096);
}

}  // namespace shmbus::detail
