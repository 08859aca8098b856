// The segment's wire format: every struct that lives in shared memory, at fixed
// offsets, with its size and field offsets pinned by static_asserts. Binaries
// built months apart read these bytes; change them only with a version bump.
//
//   offset 0                 SegmentHeader (4 KiB)
//     line 0  identity      magic, layout version, ready word, layout hash, size
//     line 1  config        geometry the segment was created with (SegmentConfig)
//     line 2  regions       offset of every region below (RegionTable)
//     line 3  control       robust mutex for registration, topic count, epoch
//     line 4  supervisor    pid, start time, heartbeat, bus health
//     line 5  backpressure  level per ring (read on every publish)
//     line 6  wake word     futex word bumped by producers when someone sleeps
//     line 7  waiters       number of sleeping dispatchers
//     line 8+ bus counters  padded claims, recovered agents, ...
//   agents_offset            AgentRecord[max_agents]          (1 KiB each)
//   topics_offset            TopicEntry[max_topics]           (128 B each)
//   rings_offset[p]          RingHeader (256 B) + slots[capacity] per priority
//   barriers_offset          barrier table (shm/barrier_layout.hpp)
//   dead_letters_offset      dead-letter area (shm/dead_letter_layout.hpp)
//   error_log_offset         error log (shm/error_log_layout.hpp)
//
// The layout hash, a fold of the sizes and offsets above, is in shm/layout_hash.hpp.
//
// No pointers: regions are found by offset from the segment base, records by
// index; every offset and index read from the segment is range-checked.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace shmbus::detail {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::uint32_t kRingCount = 4;

/// "SHMBUS01" little-endian.
inline constexpr std::uint64_t kMagic = 0x31305355424D4853ull;
/// Layout version major.minor. Bump the major when a field moves, changes size or
/// meaning, or a region is reordered (attachers of another major are refused);
/// bump the minor for additions in reserved space that old readers can ignore.
inline constexpr std::uint16_t kLayoutMajor = 1;
inline constexpr std::uint16_t kLayoutMinor = 4;
// Minor 1: AgentRecord handler counters (reserved1) and latency histogram (reserved_tail);
// the dead-letter area's internals (shm/dead_letter_layout.hpp) within its existing size.
// Minor 2: the topic-stats region appended after the error log (header line 3's former
// reserved3 holds its offset); builds before it refuse such segments on the size check.
// Minor 3: the error log is written (ErrorLogEntry's fields within its existing 256 bytes; no
// earlier build read it), and TopicEntry's never-written `published` word is reserved.
// Minor 4: SegmentHeader::shed_fill_slots (line 5's reserved words), written by the supervisor;
// older publishers ignore it and shed by the level alone, as before.
inline constexpr std::uint32_t kLayoutVersion = (std::uint32_t{kLayoutMajor} << 16) | kLayoutMinor;

/// Ready word values: 0 while the creator initialises, then the layout version.
inline constexpr std::uint32_t kNotReady = 0;

// -------------------------------------------------------------------------------------------
// Segment header
// -------------------------------------------------------------------------------------------

struct SegmentConfig {  // line 1: the geometry, written once by the creator
  std::uint32_t ring_capacity[kRingCount];
  std::uint32_t max_payload_bytes;
  std::uint32_t slot_stride;  // bytes per slot: SlotHeader + payload, multiple of 64
  std::uint32_t max_agents;
  std::uint32_t max_topics;
  std::uint32_t history_depth;
  std::uint32_t max_barriers;
  std::uint32_t max_barrier_participants;
  std::uint32_t barrier_signal_bytes;
  std::uint32_t dead_letter_capacity;
  std::uint32_t error_log_capacity;
  std::uint32_t permissions;
  std::uint32_t reserved;
};
static_assert(sizeof(SegmentConfig) == 64);

struct RegionTable {  // line 2
  std::uint64_t agents_offset;
  std::uint64_t topics_offset;
  std::uint64_t rings_offset[kRingCount];
  std::uint64_t barriers_offset;
  std::uint64_t dead_letters_offset;
};
static_assert(sizeof(RegionTable) == 64);

struct alignas(kCacheLine) SegmentHeader {
  // line 0: identity. `ready` is stored last (release) by the creator.
  std::uint64_t magic;
  std::uint32_t layout_version;
  std::atomic<std::uint32_t> ready;
  std::uint64_t layout_hash;
  std::uint64_t total_size;
  std::uint64_t creation_time_ns;    // CLOCK_REALTIME, for humans
  std::uint64_t creator_start_time;  // creator's process start time (clock ticks since boot)
  std::uint32_t creator_pid;
  std::uint32_t reserved0;
  std::uint64_t error_log_offset;

  SegmentConfig config;  // line 1
  RegionTable regions;   // line 2

  // line 3: control plane. Registration of agents and topics takes this robust mutex
  // (EOWNERDEAD is repaired: every registration commits with one release store, so a
  // holder that died left nothing half-visible).
  alignas(kCacheLine) pthread_mutex_t control_mutex;  // 40 bytes on x86-64 glibc
  std::atomic<std::uint32_t> topic_count;             // commit point of the topic registry
  std::atomic<std::uint32_t> agent_epoch;             // bumped per agent registration
  std::uint64_t topic_stats_offset;                   // TopicAgentCounters region (minor 2)

  // line 4: supervisor state
  alignas(kCacheLine) std::atomic<std::uint32_t> supervisor_pid;
  std::atomic<std::uint32_t> bus_health;  // sys::HealthState
  std::atomic<std::uint64_t> supervisor_start_time;
  std::atomic<std::uint64_t> supervisor_heartbeat_ns;  // CLOCK_MONOTONIC
  std::atomic<std::uint64_t> supervisor_epoch;         // bumped per supervisor start
  std::uint64_t reserved4[4];

  // line 5: backpressure level per ring; read on every publish, written by the supervisor
  alignas(kCacheLine) std::atomic<std::uint32_t> backpressure[kRingCount];
  // LOW events per second each publisher may send while a ring is at level HIGH or above
  std::atomic<std::uint32_t> low_rate_at_high_per_s;
  // Per ring, the fill (unread slots of the slowest tethered subscriber) below which a ring at
  // CRITICAL no longer sheds: the supervisor's critical threshold less its hysteresis. The
  // level is a sample up to a tick (and a dwell) old; a publisher told to shed confirms on the
  // ring itself first. 0 (a supervisor before minor 4): the level alone decides.
  std::atomic<std::uint32_t> shed_fill_slots[kRingCount];
  std::uint32_t reserved5[7];

  // line 6: the futex word producers bump to wake sleeping dispatchers
  alignas(kCacheLine) std::atomic<std::uint32_t> wake_word;
  std::uint32_t reserved6[15];

  // line 7: how many dispatchers sleep on wake_word (producers skip FUTEX_WAKE at 0)
  alignas(kCacheLine) std::atomic<std::uint32_t> waiters;
  std::uint32_t reserved7[15];

  // line 8: bus-wide counters (rarely written)
  alignas(kCacheLine) std::atomic<std::uint64_t> claims_padded;  // stuck claims closed
  std::atomic<std::uint64_t> agents_recovered;                   // dead agents cleaned up
  std::atomic<std::uint64_t> agents_untethered;                  // slow subscribers untethered
  std::atomic<std::uint64_t> reserved8[5];

  std::uint8_t reserved_tail[4096 - 9 * kCacheLine];
};
static_assert(std::is_standard_layout_v<SegmentHeader>);
static_assert(sizeof(pthread_mutex_t) == 40, "x86-64 glibc pthread_mutex_t");
static_assert(sizeof(SegmentHeader) == 4096 && alignof(SegmentHeader) == 64);
static_assert(offsetof(SegmentHeader, ready) == 12);
static_assert(offsetof(SegmentHeader, layout_hash) == 16);
static_assert(offsetof(SegmentHeader, error_log_offset) == 56);
static_assert(offsetof(SegmentHeader, config) == 64);
static_assert(offsetof(SegmentHeader, regions) == 128);
static_assert(offsetof(SegmentHeader, control_mutex) == 192);
static_assert(offsetof(SegmentHeader, topic_count) == 232);
static_assert(offsetof(SegmentHeader, topic_stats_offset) == 240);
static_assert(offsetof(SegmentHeader, supervisor_pid) == 256);
static_assert(offsetof(SegmentHeader, backpressure) == 320);
static_assert(offsetof(SegmentHeader, wake_word) == 384);
static_assert(offsetof(SegmentHeader, waiters) == 448);
static_assert(offsetof(SegmentHeader, claims_padded) == 512);
// lock-free means address-free: safe to share across processes
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

// -------------------------------------------------------------------------------------------
// Agent table
// -------------------------------------------------------------------------------------------

enum class AgentState : std::uint32_t {
  kFree = 0,      // unused record
  kClaiming = 1,  // being filled under the control mutex
  kActive = 2,    // attached agent
};

/// Reader flags per ring (AgentRecord::cursors[r].flags).
enum ReaderFlags : std::uint32_t {
  kReaderActive = 1u << 0,    // this agent reads the ring (has subscribed)
  kReaderTethered = 1u << 1,  // producers wait for this cursor
};

/// Claim word bits (AgentRecord::claiming[r]): position+1 of the claim in progress.
inline constexpr std::uint64_t kClaimConfirmed = 1ull << 63;  // the tail CAS succeeded

// The health words hold sys::HealthState values and the backpressure words (set by the
// supervisor) sys::BackpressureLevel values (sys_events.hpp), widened to 32 bits.

inline constexpr std::size_t kAgentNameBytes = 32;
inline constexpr std::size_t kLastErrorBytes = 128;
inline constexpr std::size_t kLatencyBuckets = 24;  // AgentRecord::latency_hist

/// A reader cursor on its own cache line: written by its agent, read by producers
/// (rarely, when their cached gate says full) and by the supervisor.
struct alignas(kCacheLine) ReaderCursor {
  std::atomic<std::uint64_t> position;       // next position to read; positions below are done
  std::atomic<std::uint32_t> flags;          // ReaderFlags
  std::atomic<std::uint32_t> gap_pending;    // set by supervisor when untethering
  std::atomic<std::uint64_t> untethered_at;  // position when untethered (for gap count)
  std::atomic<std::uint64_t> last_move_ns;   // CLOCK_MONOTONIC of last cursor advance
  std::uint64_t reserved[4];
};
static_assert(sizeof(ReaderCursor) == 64);

/// Per-ring per-agent counters, written by the agent only.
struct RingCounters {
  std::atomic<std::uint64_t> published;
  std::atomic<std::uint64_t> delivered;  // events handed to at least one handler
  std::atomic<std::uint64_t> consumed;   // events read (delivered or filtered out)
  std::atomic<std::uint64_t> shed;
  std::atomic<std::uint64_t> full;  // publish found the ring full (kFull / kTimeout)
  std::atomic<std::uint64_t> rate_limited;
  std::atomic<std::uint64_t> aborted;
  std::atomic<std::uint64_t> missed;  // lapped while untethered
};
static_assert(sizeof(RingCounters) == 64);

struct alignas(kCacheLine) AgentRecord {
  // line 0: identity (written under the control mutex)
  std::atomic<std::uint32_t> state;  // AgentState
  std::uint32_t epoch;               // incarnation: header.agent_epoch at registration
  std::uint32_t pid;
  std::uint32_t flags;
  std::uint64_t start_time;      // process start time (clock ticks since boot), /proc/pid/stat
  std::uint64_t attach_time_ns;  // CLOCK_REALTIME
  char name[kAgentNameBytes];

  // line 1: liveness and health, written by the agent (heartbeat) and supervisor (health)
  alignas(kCacheLine) std::atomic<std::uint64_t> heartbeat_ns;  // CLOCK_MONOTONIC
  std::atomic<std::uint32_t> health;                            // sys::HealthState, by supervisor
  std::atomic<std::uint32_t> handler_error_streak;
  std::atomic<std::uint64_t> handler_errors;
  std::atomic<std::uint64_t> max_delivery_latency_ns;  // since the supervisor last read it
  std::atomic<std::uint64_t> rate_limit_per_s;  // publish rate limit set by supervisor, 0 = none
  // handler statistics, written by this agent's dispatcher only (minor 1)
  std::atomic<std::uint64_t> handler_slow;           // handler calls over the budget
  std::atomic<std::uint64_t> dead_lettered;          // failed events this agent dead-lettered
  std::atomic<std::uint64_t> handlers_unsubscribed;  // removed after N failures in a row

  // lines 2-5: one reader cursor per ring
  ReaderCursor cursors[kRingCount];

  // line 6: claim words, one per ring, written by this agent around each tail CAS
  alignas(kCacheLine) std::atomic<std::uint64_t> claiming[kRingCount];
  std::uint64_t reserved6[4];

  // lines 7-10: counters per ring
  RingCounters counters[kRingCount];

  // lines 11-12: last error text (diagnostics)
  char last_error[kLastErrorBytes];

  // lines 13-15: delivery latency (publish timestamp to first handler start, CLOCK_MONOTONIC)
  // histogram, written by this agent's dispatcher only (minor 1). Bucket 0 counts < 64 ns;
  // bucket b >= 1 counts [64 << (b-1), 64 << b) ns; the last bucket is open-ended.
  std::atomic<std::uint64_t> latency_hist[kLatencyBuckets];
};
static_assert(std::is_standard_layout_v<AgentRecord>);
static_assert(offsetof(AgentRecord, handler_slow) == 104);
static_assert(offsetof(AgentRecord, latency_hist) == 832);
static_assert(sizeof(AgentRecord) == 1024 && alignof(AgentRecord) == 64);
static_assert(offsetof(AgentRecord, name) == 32);
static_assert(offsetof(AgentRecord, heartbeat_ns) == 64);
static_assert(offsetof(AgentRecord, cursors) == 128);
static_assert(offsetof(AgentRecord, claiming) == 384);
static_assert(offsetof(AgentRecord, counters) == 448);
static_assert(offsetof(AgentRecord, last_error) == 704);

// -------------------------------------------------------------------------------------------
// Topic registry
// -------------------------------------------------------------------------------------------

inline constexpr std::size_t kTopicNameBytes = 96;

/// Entries [0, header.topic_count) are valid; an entry is filled before the count that
/// covers it is published (release), so readers never see a half-written entry.
struct alignas(kCacheLine) TopicEntry {
  char name[kTopicNameBytes];  // NUL-terminated
  std::uint32_t payload_size;  // 0 = variable
  std::uint16_t schema_version;
  std::uint16_t flags;
  std::uint32_t name_hash;  // FNV-1a of name, to speed up lookups
  std::uint32_t reserved0;
  // Once a `published` counter no one wrote (minor 3); per-topic counts live in
  // TopicAgentCounters. Zero in every segment.
  std::uint64_t reserved1[2];
};
static_assert(std::is_standard_layout_v<TopicEntry>);
static_assert(sizeof(TopicEntry) == 128);
static_assert(offsetof(TopicEntry, payload_size) == 96);
static_assert(offsetof(TopicEntry, name_hash) == 104);

// -------------------------------------------------------------------------------------------
// Topic statistics (minor 2): TopicAgentCounters[max_agents][max_topics] at topic_stats_offset.
// Row a is written only by agent a (its publishers and its dispatcher), so no counter line is
// shared between processes on the publish path; readers sum the rows. A record freed and
// reused by another agent keeps its row (counts are per agent slot, like AgentRecord counters).
// -------------------------------------------------------------------------------------------

struct alignas(kCacheLine) TopicAgentCounters {
  std::atomic<std::uint64_t> published;
  std::atomic<std::uint64_t> delivered;      // events handed to at least one handler
  std::atomic<std::uint64_t> failed;         // handler calls that threw
  std::atomic<std::uint64_t> dead_lettered;  // failed events written to the dead-letter area
  std::atomic<std::uint64_t> dropped;        // publishes refused: full, timeout, rate, aborted
  std::atomic<std::uint64_t> shed;           // publishes shed at backpressure CRITICAL
  std::atomic<std::uint32_t> handlers;       // this agent's handlers matching the topic (see stats)
  std::uint32_t reserved0;
  std::uint64_t reserved1;
};
static_assert(std::is_standard_layout_v<TopicAgentCounters>);
static_assert(sizeof(TopicAgentCounters) == 64 && alignof(TopicAgentCounters) == 64);
static_assert(offsetof(TopicAgentCounters, shed) == 40);
static_assert(offsetof(TopicAgentCounters, handlers) == 48);

// -------------------------------------------------------------------------------------------
// Rings
// -------------------------------------------------------------------------------------------

/// Slot seq word: p+1 once the event at position p is committed; (p+1)|kSeqPad once padded.
inline constexpr std::uint64_t kSeqPad = 1ull << 63;

struct RingHeader {
  // line 0: producers CAS the tail (positions only grow)
  alignas(kCacheLine) std::atomic<std::uint64_t> tail;
  std::uint64_t reserved0[7];
  // line 1: geometry copy (validated against the segment config on attach)
  alignas(kCacheLine) std::uint32_t capacity;
  std::uint32_t slot_stride;
  std::uint64_t slots_offset;  // from the segment base
  std::uint64_t reserved1[6];
  // line 2: cached minimum of tethered cursors, a hint refreshed by scanning producers
  alignas(kCacheLine) std::atomic<std::uint64_t> gate_hint;
  std::uint64_t reserved2[7];
  // line 3: ring counters written by the supervisor
  alignas(kCacheLine) std::atomic<std::uint64_t> padded;
  std::atomic<std::uint64_t> quarantined;
  std::uint64_t reserved3[6];
};
static_assert(std::is_standard_layout_v<RingHeader>);
static_assert(sizeof(RingHeader) == 256);
static_assert(offsetof(RingHeader, capacity) == 64);
static_assert(offsetof(RingHeader, gate_hint) == 128);

/// The head of every slot; the payload follows inline.
struct alignas(kCacheLine) SlotHeader {
  std::atomic<std::uint64_t> seq;         // commit word (see kSeqPad)
  std::atomic<std::uint64_t> quarantine;  // p+1 of a padded claim whose live owner may still write
  std::uint32_t length;                   // payload bytes
  std::uint32_t topic_id;
  std::uint32_t producer;  // agent index
  std::uint32_t producer_epoch;
  std::uint64_t producer_seq;
  std::uint64_t timestamp_ns;  // CLOCK_MONOTONIC at publish
  std::uint16_t flags;
  std::uint16_t schema_version;
  std::uint32_t reserved0;
  std::uint64_t reserved1;
};
static_assert(std::is_standard_layout_v<SlotHeader>);
static_assert(sizeof(SlotHeader) == 64);
static_assert(offsetof(SlotHeader, length) == 16);
static_assert(offsetof(SlotHeader, topic_id) == 20);
static_assert(offsetof(SlotHeader, producer_seq) == 32);
static_assert(offsetof(SlotHeader, timestamp_ns) == 40);
static_assert(offsetof(SlotHeader, flags) == 48);

// -------------------------------------------------------------------------------------------
// Error log: ErrorLogHeader + ErrorLogEntry[error_log_capacity], in shm/error_log_layout.hpp.
// -------------------------------------------------------------------------------------------

/// sizeof(ErrorLogEntry), pinned there; folded into the layout hash (shm/layout_hash.hpp).
inline constexpr std::uint64_t kErrorLogEntryBytes = 256;

}  // namespace shmbus::detail
