// Wire format of the barrier region (region 5 of the segment, at RegionTable::barriers_offset):
// a table header, then max_barriers fixed-size records, each a BarrierHeader followed by
// max_barrier_participants participant records with two signal buffers each. Used by
// shm/barrier_round.cpp (protocol) and shm/region_sizes.hpp (sizes); see the protocol argument
// at the top of shm/barrier_round.cpp before changing any word here.
//
//   barriers_offset          BarrierTableHeader (64 B)
//   + 64 + i * record        BarrierHeader (256 B)
//     line 0  identity       incarnation, state, participant count, timeout, name
//     line 1  round          round word (generation | closing), open futex word, last outcome
//     line 2  arrivals       arrival counter, waiter's wake target, arrival futex word
//     line 3  waiter/stats   waiter (agent epoch:index), completed, timed_out, late, drops
//     + 256 + p * stride     BarrierParticipant (128 B), then signal data[2] (align 64 each)
//       line 0  participant   name, arrived word, bound agent, dropped flag, counters
//       line 1  buffers       outcome[2], tag[2], arrive_ns[2], length[2] (by generation parity)
//
// Offsets and indices only; every count and length read from here is range-checked.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "shm/layout.hpp"

namespace shmbus::detail {

inline constexpr std::size_t kBarrierNameBytes = 32;  // 31 characters and a NUL

enum class BarrierRecordState : std::uint32_t {
  kFree = 0,      // unused record
  kCreating = 1,  // being filled under the control mutex
  kActive = 2,    // a live barrier
};

// ---- word encodings ---------------------------------------------------------------------------
// Round word (BarrierHeader::round): generation << 1 | kRoundClosing. Generations start at 1 and
// only grow, also across a remove and re-create of the same record.
inline constexpr std::uint64_t kRoundClosing = 1;
constexpr std::uint64_t round_gen(std::uint64_t r) noexcept {
  return r >> 1;
}
constexpr bool round_closing(std::uint64_t r) noexcept {
  return (r & kRoundClosing) != 0;
}
constexpr std::uint64_t make_round(std::uint64_t gen, bool closing) noexcept {
  return gen << 1 | (closing ? kRoundClosing : 0);
}

// Arrival word (BarrierParticipant::arrived) and outcome words: generation << 2 | seal bits.
// `g << 2` = arrived in round g; `g << 2 | kSealMissed [| kSealDropped]` = round g was sealed
// without this participant (its process had died when it was sealed, for kSealDropped).
inline constexpr std::uint64_t kSealMissed = 1;
inline constexpr std::uint64_t kSealDropped = 2;
constexpr std::uint64_t slot_gen(std::uint64_t a) noexcept {
  return a >> 2;
}
constexpr std::uint64_t arrived_value(std::uint64_t gen) noexcept {
  return gen << 2;
}

// Signal buffer tag (BarrierParticipant::tag[b]): generation << 1 while valid for that round,
// | kTagWriting while the participant rewrites the buffer (seqlock-style check for readers).
inline constexpr std::uint64_t kTagWriting = 1;

// Agent references (waiter, bound): epoch << 32 | index; 0 = none (agent epochs start at 1).
constexpr std::uint64_t make_agent_ref(std::uint32_t index, std::uint32_t epoch) noexcept {
  return std::uint64_t{epoch} << 32 | index;
}
constexpr std::uint32_t agent_ref_index(std::uint64_t ref) noexcept {
  return static_cast<std::uint32_t>(ref);
}
constexpr std::uint32_t agent_ref_epoch(std::uint64_t ref) noexcept {
  return static_cast<std::uint32_t>(ref >> 32);
}

// Last outcome (BarrierHeader::last_outcome): generation << 16 | complete << 15 | arrived count.
constexpr std::uint64_t make_last_outcome(std::uint64_t gen, bool complete,
                                          std::uint32_t arrived) noexcept {
  return gen << 16 | (complete ? 1u << 15 : 0u) | (arrived & 0x7FFFu);
}

// -------------------------------------------------------------------------------------------
// Structs
// -------------------------------------------------------------------------------------------

struct alignas(kCacheLine) BarrierTableHeader {
  std::atomic<std::uint64_t> next_incarnation;  // bumped per create, under the control mutex
  std::uint64_t reserved[7];
};
static_assert(std::is_standard_layout_v<BarrierTableHeader>);
static_assert(sizeof(BarrierTableHeader) == 64);

struct alignas(kCacheLine) BarrierHeader {
  // line 0: identity, written under the control mutex before `state` goes kActive (release)
  std::atomic<std::uint64_t> incarnation;  // unique per create; handles compare it on arrive
  std::atomic<std::uint32_t> state;        // BarrierRecordState
  std::uint32_t participant_count;         // <= config.max_barrier_participants
  std::uint64_t timeout_ns;                // deadline = first arrival of a round + timeout
  std::uint64_t created_ns;                // CLOCK_REALTIME, for humans
  char name[kBarrierNameBytes];            // NUL-padded

  // line 1: the round word and the futex word participants sleep on for the next round
  alignas(kCacheLine) std::atomic<std::uint64_t> round;  // see make_round()
  std::atomic<std::uint32_t> open_word;                  // bumped after each advance
  std::atomic<std::uint32_t> open_sleepers;              // participants asleep on open_word
  std::atomic<std::uint64_t> opened_ns;     // CLOCK_MONOTONIC when the round opened (info)
  std::atomic<std::uint64_t> last_outcome;  // see make_last_outcome(); raised monotonically
  std::uint64_t reserved1[4];

  // line 2: written by every arrival
  alignas(kCacheLine) std::atomic<std::uint64_t> arrivals;  // accepted arrivals, all rounds
  std::atomic<std::uint64_t> wake_target;  // a sleeping waiter wants a wake at this count
  std::atomic<std::uint32_t> arrive_word;  // futex word the waiter sleeps on
  std::atomic<std::uint32_t> sleepers;     // waiters asleep on arrive_word
  std::uint64_t reserved2[5];

  // line 3: waiter registration and counters (rarely written)
  alignas(kCacheLine) std::atomic<std::uint64_t> waiter;  // agent ref of the waiter, 0 = none
  std::atomic<std::uint64_t> completed;  // rounds closed with every live participant in
  std::atomic<std::uint64_t> timed_out;  // rounds closed with someone missing
  std::atomic<std::uint64_t> late;       // arrivals rejected because their round had closed
  std::atomic<std::uint64_t> drops;      // participants dropped because their process died
  std::uint64_t reserved3[3];
};
static_assert(std::is_standard_layout_v<BarrierHeader>);
static_assert(sizeof(BarrierHeader) == 256 && alignof(BarrierHeader) == 64);
static_assert(offsetof(BarrierHeader, state) == 8);
static_assert(offsetof(BarrierHeader, participant_count) == 12);
static_assert(offsetof(BarrierHeader, timeout_ns) == 16);
static_assert(offsetof(BarrierHeader, name) == 32);
static_assert(offsetof(BarrierHeader, round) == 64);
static_assert(offsetof(BarrierHeader, open_word) == 72);
static_assert(offsetof(BarrierHeader, last_outcome) == 88);
static_assert(offsetof(BarrierHeader, arrivals) == 128);
static_assert(offsetof(BarrierHeader, wake_target) == 136);
static_assert(offsetof(BarrierHeader, arrive_word) == 144);
static_assert(offsetof(BarrierHeader, waiter) == 192);
static_assert(offsetof(BarrierHeader, drops) == 224);

/// One participant; its two signal buffers (data only) follow, indexed by generation parity.
/// A participant writes only the buffer of the round it arrives in, so the previous round's
/// signals stay readable while the next round runs.
struct alignas(kCacheLine) BarrierParticipant {
  // line 0: written by the participant (arrived, counters) and by closers (arrived: the seal)
  char name[kBarrierNameBytes];              // agent name, NUL-padded
  std::atomic<std::uint64_t> arrived;        // see arrived_value() / kSealMissed
  std::atomic<std::uint64_t> bound;          // agent ref that opened this slot last, 0 = none
  std::atomic<std::uint32_t> dropped;        // 1: the bound agent's process is gone
  std::atomic<std::uint32_t> open_sleeping;  // 1 while counted in header.open_sleepers
  std::atomic<std::uint64_t> accepted;       // arrivals accepted (statistics)

  // line 1: per-parity buffer heads and round outcomes
  alignas(kCacheLine) std::atomic<std::uint64_t> outcome[2];  // sealed arrived word of a round
  std::atomic<std::uint64_t> tag[2];                          // see kTagWriting
  std::atomic<std::uint64_t> arrive_ns[2];                    // CLOCK_MONOTONIC of the arrival
  std::atomic<std::uint32_t> length[2];                       // signal bytes
  std::uint64_t reserved1;
};
static_assert(std::is_standard_layout_v<BarrierParticipant>);
static_assert(sizeof(BarrierParticipant) == 128 && alignof(BarrierParticipant) == 64);
static_assert(offsetof(BarrierParticipant, arrived) == 32);
static_assert(offsetof(BarrierParticipant, bound) == 40);
static_assert(offsetof(BarrierParticipant, dropped) == 48);
static_assert(offsetof(BarrierParticipant, open_sleeping) == 52);
static_assert(offsetof(BarrierParticipant, accepted) == 56);
static_assert(offsetof(BarrierParticipant, outcome) == 64);
static_assert(offsetof(BarrierParticipant, tag) == 80);
static_assert(offsetof(BarrierParticipant, arrive_ns) == 96);
static_assert(offsetof(BarrierParticipant, length) == 112);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);  // address-free across processes

// Record geometry, all functions of the segment config (see shm/region_sizes.hpp).
constexpr std::uint64_t barrier_signal_stride(const SegmentConfig& c) noexcept {
  return (std::uint64_t{c.barrier_signal_bytes} + kCacheLine - 1) / kCacheLine * kCacheLine;
}
constexpr std::uint64_t barrier_participant_stride(const SegmentConfig& c) noexcept {
  return sizeof(BarrierParticipant) + 2 * barrier_signal_stride(c);
}

}  // namespace shmbus::detail
