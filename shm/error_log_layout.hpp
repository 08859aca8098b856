// Wire format of the error-log region (SegmentHeader::error_log_offset): the recent sys.error
// events, kept so any process can read them, also one that attached after they happened
// (shm/error_log.hpp appends and reads; `shmbus errors` shows them). Entry i lives at
// i % error_log_capacity; the oldest is overwritten.
//
// Entry protocol (lock-free, several writers in several processes):
//  - a writer takes index i = next.fetch_add(1);
//  - it CASes the entry's seq from any older value (committed, empty, or marked by an older
//    writer that died or stalled) to (i+1) | kErrorLogWriting; a newer value means it was
//    lapped, and its entry is dropped;
//  - it writes the entry with its checksum, then CASes seq to i+1 with release (commit);
//  - readers load seq (acquire), copy, fence, re-check seq and verify the checksum: a stalled
//    writer that was taken over and stores into the entry afterwards breaks the checksum, so a
//    torn entry is never shown.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "shm/layout.hpp"

namespace shmbus::detail {

struct ErrorLogHeader {
  alignas(kCacheLine) std::atomic<std::uint64_t> next;  // total entries ever claimed
  std::uint64_t reserved[7];
};
static_assert(sizeof(ErrorLogHeader) == 64);

/// ErrorLogEntry::seq while its writer fills it: (index+1) | kErrorLogWriting.
inline constexpr std::uint64_t kErrorLogWriting = 1ull << 63;

struct ErrorLogEntry {
  std::atomic<std::uint64_t> seq;  // index+1 once written (seqlock-style check for readers)
  std::uint64_t time_ns;           // CLOCK_REALTIME
  std::uint32_t agent;             // agent index or 0xFFFFFFFF for the supervisor
  std::uint32_t code;              // sys.error kind (sys::ErrorKind)
  std::uint32_t topic;             // topic of the event being handled, 0 none
  std::uint32_t errc;              // shmbus::Errc, for internal errors
  std::uint64_t event_sequence;    // producer sequence of the event being handled, 0 none
  std::uint64_t count;             // occurrences of this kind at this agent so far
  std::uint64_t error_mono_ns;     // CLOCK_MONOTONIC, as in the sys.error event
  // FNV-1a of seq's committed value and every other word: a writer that was overtaken (or
  // died) and still stores into the entry leaves a mismatch, so readers never show it torn.
  std::uint64_t checksum;
  char agent_name[32];  // NUL-terminated, like every text below
  char handler[32];
  char text[128];  // the message
};
static_assert(std::is_standard_layout_v<ErrorLogEntry>);
static_assert(offsetof(ErrorLogEntry, topic) == 24);
static_assert(offsetof(ErrorLogEntry, checksum) == 56);
static_assert(offsetof(ErrorLogEntry, agent_name) == 64);
static_assert(offsetof(ErrorLogEntry, text) == 128);
static_assert(sizeof(ErrorLogEntry) == kErrorLogEntryBytes);

}  // namespace shmbus::detail
