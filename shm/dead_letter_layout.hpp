// Wire format of the dead-letter area (SegmentHeader::regions.dead_letters_offset): events
// whose handler threw, with who failed and why. A bounded multi-writer overwrite ring: any
// dispatcher appends, the oldest entry is dropped (and counted) when it is full, and any process
// (the CLI, list_dead_letters) reads it without attaching. Sizes: shm/region_sizes.hpp.
//
//   DeadLetterHeader (64 B)            head (entries ever claimed), dropped, geometry
//   DeadLetterEntry[capacity]          each 64 B head + 128 B text + payload (64-B multiple)
//
// Entry protocol (lock-free, several writers in several processes):
//  - a writer takes index i = head.fetch_add(1); entry i % capacity;
//  - it CASes the entry's seq from a committed (or empty) value of an older index to
//    (i+1) | kDeadLetterWriting, so one writer at a time owns an entry (a writer that finds
//    another one writing gives up and counts its letter dropped; an entry whose owner died
//    mid-write is never taken over, since a slow owner cannot be told from a dead one: it
//    costs one dropped letter per lap, counted);
//  - it writes the entry, then CASes seq to i+1 with release (commit);
//  - readers load seq (acquire), copy the entry, fence, and re-check seq: a change means it
//    was overwritten while copied, and the copy is discarded.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "shm/layout.hpp"

namespace shmbus::detail {

/// seq bit set while a writer fills the entry.
inline constexpr std::uint64_t kDeadLetterWriting = 1ull << 63;
inline constexpr std::size_t kDeadLetterHandlerBytes = 48;
inline constexpr std::size_t kDeadLetterReasonBytes = 80;

struct alignas(kCacheLine) DeadLetterHeader {
  std::atomic<std::uint64_t> head;     // entries ever claimed (the next index)
  std::atomic<std::uint64_t> dropped;  // letters lost: oldest overwritten, or writer gave up
  std::uint32_t capacity;              // copy of SegmentConfig::dead_letter_capacity
  std::uint32_t entry_stride;          // bytes per entry (dead_letter_entry_bytes)
  std::uint64_t reserved[5];
};
static_assert(std::is_standard_layout_v<DeadLetterHeader>);
static_assert(sizeof(DeadLetterHeader) == 64 && alignof(DeadLetterHeader) == 64);
static_assert(offsetof(DeadLetterHeader, dropped) == 8);
static_assert(offsetof(DeadLetterHeader, capacity) == 16);
static_assert(offsetof(DeadLetterHeader, entry_stride) == 20);

/// One dead letter: the original event's identity, who failed on it and why; the payload
/// (`length` bytes, at most max_payload_bytes) follows inline.
struct alignas(kCacheLine) DeadLetterEntry {
  // line 0: the event
  std::atomic<std::uint64_t> seq;  // i+1 once entry index i is committed; see kDeadLetterWriting
  std::uint64_t timestamp_ns;      // original publish time, CLOCK_MONOTONIC
  std::uint64_t producer_seq;
  std::uint64_t failed_ns;  // when the handler threw, CLOCK_MONOTONIC
  std::uint32_t topic_id;
  std::uint32_t producer;  // agent index of the publisher
  std::uint32_t producer_epoch;
  std::uint32_t length;         // payload bytes
  std::uint32_t failing_agent;  // agent index of the dispatcher whose handler threw
  std::uint16_t flags;          // the event's EventFlags
  std::uint16_t schema_version;
  std::uint8_t priority;
  std::uint8_t reserved[7];
  // lines 1-2: who failed and why, NUL-terminated (truncated)
  char handler[kDeadLetterHandlerBytes];
  char reason[kDeadLetterReasonBytes];
};
static_assert(std::is_standard_layout_v<DeadLetterEntry>);
static_assert(sizeof(DeadLetterEntry) == 192 && alignof(DeadLetterEntry) == 64);
static_assert(offsetof(DeadLetterEntry, timestamp_ns) == 8);
static_assert(offsetof(DeadLetterEntry, topic_id) == 32);
static_assert(offsetof(DeadLetterEntry, length) == 44);
static_assert(offsetof(DeadLetterEntry, failing_agent) == 48);
static_assert(offsetof(DeadLetterEntry, flags) == 52);
static_assert(offsetof(DeadLetterEntry, priority) == 56);
static_assert(offsetof(DeadLetterEntry, handler) == 64);
static_assert(offsetof(DeadLetterEntry, reason) == 112);

}  // namespace shmbus::detail
