// The barrier table in the segment: registry (create, remove, find, status), the lock-free
// round protocol (arrive, seal, advance, read a closed round) and enforce_barriers() for the
// supervisor. Process-local views only; all state is in the segment (shm/barrier_layout.hpp).
// Used by shm/barrier.cpp (the public Barrier handle) and the supervisor.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shm/agent_table.hpp"
#include "shm/barrier_layout.hpp"
#include "shm/segment.hpp"
#include "shmbus/barrier_types.hpp"
#include "shmbus/result.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

inline constexpr std::uint32_t kMaxParticipants = 256;  // validate_config's upper bound

/// Typed access to the barrier region of one mapped segment.
class BarrierTable {
 public:
  explicit BarrierTable(Segment& segment) noexcept;

  Segment& segment() const noexcept { return *seg_; }
  std::uint32_t capacity() const noexcept { return capacity_; }
  std::uint32_t max_participants() const noexcept { return max_participants_; }
  std::uint32_t signal_bytes() const noexcept { return signal_bytes_; }

  BarrierTableHeader& table_header() const noexcept {
    return *reinterpret_cast<BarrierTableHeader*>(base_);
  }
  /// Record `b` (< capacity()).
  BarrierHeader& header(std::uint32_t b) const noexcept {
    return *reinterpret_cast<BarrierHeader*>(record(b));
  }
  /// Participant `p` (< max_participants()) of record `b`.
  BarrierParticipant& participant(std::uint32_t b, std::uint32_t p) const noexcept {
    return *reinterpret_cast<BarrierParticipant*>(record(b) + sizeof(BarrierHeader) +
                                                  p * participant_stride_);
  }
  /// Signal buffer of parity `parity` (0 or 1) of participant `p` of record `b`.
  std::byte* signal_data(std::uint32_t b, std::uint32_t p, std::uint64_t parity) const noexcept {
    return reinterpret_cast<std::byte*>(&participant(b, p)) + sizeof(BarrierParticipant) +
           (parity & 1) * signal_stride_;
  }
  /// participant_count of record `b`, or 0 when it is out of range (corrupt segment bytes).
  std::uint32_t participant_count(std::uint32_t b) const noexcept;

 private:
  std::byte* record(std::uint32_t b) const noexcept {
    return base_ + sizeof(BarrierTableHeader) + b * record_bytes_;
  }
  Segment* seg_;
  std::byte* base_;
  std::uint64_t record_bytes_;
  std::uint64_t participant_stride_;
  std::uint64_t signal_stride_;
  std::uint32_t capacity_;
  std::uint32_t max_participants_;
  std::uint32_t signal_bytes_;
};

// ---- registry (cold path) ------------------------------------------------------------------

/// Checks a barrier name: 1..31 characters of [A-Za-z0-9_.-]. Empty string when valid.
std::string validate_barrier_name(std::string_view name);
std::string barrier_name(const BarrierHeader& header);
std::string participant_name(const BarrierParticipant& participant);

/// Creates a barrier under the control mutex (idempotent for an identical definition) and
/// returns its record index.
Result<std::uint32_t> create_barrier(Segment& segment, std::string_view name,
                                     std::span<const std::string> participants,
                                     std::uint64_t timeout_ns);
Result<void> remove_barrier(Segment& segment, std::string_view name);
/// Index of the active barrier `name`; kNotFound when none. Lock-free.
Result<std::uint32_t> find_barrier(const BarrierTable& table, std::string_view name);
/// Participant index of `agent` in barrier `b`, or kNoAgent.
std::uint32_t find_participant(const BarrierTable& table, std::uint32_t b,
                               std::string_view agent) noexcept;

/// True when the agent `ref` (make_agent_ref) still holds its record: same epoch, ACTIVE, and
/// its liveness lock held. `self` (this handle's own agent, whose lock is on our own open file
/// description and so never "held by another") counts as alive.
bool agent_ref_alive(Segment& segment, std::uint64_t ref, std::uint32_t self) noexcept;

/// Status of barrier `b` as of `now_ns` (CLOCK_MONOTONIC); `self` as for agent_ref_alive.
BarrierStatus read_status(const BarrierTable& table, std::uint32_t b, std::uint64_t now_ns,
                          std::uint32_t self = kNoAgent);
/// Status of every active barrier, in record order (barrier.hpp's list_barriers, inspect_bus).
inline std::vector<BarrierStatus> read_all_status(const BarrierTable& table, std::uint64_t now_ns,
                                                  std::uint32_t self = kNoAgent) {
  std::vector<BarrierStatus> out;
  for (std::uint32_t b = 0; b < table.capacity(); ++b) {
    if (table.header(b).state.load(std::memory_order_acquire) ==
        static_cast<std::uint32_t>(BarrierRecordState::kActive)) {
      out.push_back(read_status(table, b, now_ns, self));
    }
  }
  return out;
}

// ---- participant hot path ------------------------------------------------------------------

/// Pointers one participant handle resolves once, so arrive() does no lookup.
struct ArriveContext {
  BarrierHeader* header = nullptr;
  BarrierParticipant* slot = nullptr;
  std::byte* data[2] = {nullptr, nullptr};
  std::uint32_t signal_bytes = 0;
  std::uint64_t incarnation = 0;
};

/// Arrives in round `generation` (see the protocol comment in barrier_table.cpp). Wakes the
/// waiter only when it sleeps and wants this arrival.
ArriveStatus arrive(const ArriveContext& ctx, std::span<const std::byte> signal,
                    std::uint64_t generation, std::uint64_t now_ns) noexcept;

// ---- rounds (waiter, supervisor) -----------------------------------------------------------

/// A snapshot of the current round, for the waiter's decision to close or sleep.
struct RoundScan {
  std::uint64_t round = 0;     // the round word as read
  std::uint64_t arrivals = 0;  // header.arrivals, read before the slots
  std::uint32_t participants = 0;
  std::uint32_t arrived = 0;
  std::uint32_t dropped_missing = 0;  // dropped and not arrived
  std::uint64_t first_arrive_ns = 0;  // 0 when nobody arrived
  bool all_in() const noexcept {      // every live participant arrived (and at least one did)
    return arrived > 0 && arrived + dropped_missing >= participants;
  }
};
RoundScan scan_round(const BarrierTable& table, std::uint32_t b) noexcept;

/// A sealed round: which participant arrived, fixed for good once sealed.
struct SealedRound {
  std::uint64_t generation = 0;
  std::uint32_t participants = 0;
  std::uint32_t arrived = 0;
  bool complete = false;
  std::array<std::uint8_t, kMaxParticipants> seal{};  // per participant: 0 arrived, else kSeal*
  std::uint64_t first_arrive_ns = 0;
  std::uint64_t last_arrive_ns = 0;
  std::uint64_t arrived_mask() const noexcept;  // participants 0..63
  std::uint64_t missing_mask() const noexcept;
};

enum class SealResult : std::uint8_t {
  kSealed,   // round `generation` is sealed (by this call or another closer); `out` is filled
  kStale,    // the round word is past `generation`: someone finished it already
  kNotOpen,  // `generation` has not opened yet
};
/// Marks round `generation` closing and seals every participant slot (helping a closer that
/// started first, or that died half-way). Idempotent; any process may call it.
SealResult seal_round(const BarrierTable& table, std::uint32_t b, std::uint64_t generation,
                      SealedRound& out) noexcept;
/// Opens round generation + 1 after a seal. True for the one caller whose CAS advanced it: that
/// caller counts the round (completed / timed_out) and reports it (event).
bool advance_round(const BarrierTable& table, std::uint32_t b, const SealedRound& sealed,
                   std::uint64_t now_ns) noexcept;
/// Reads a sealed round from the outcome words (after it advanced): false when the round was
/// overwritten (more than one round ago) or never sealed.
bool read_sealed(const BarrierTable& table, std::uint32_t b, std::uint64_t generation,
                 SealedRound& out) noexcept;
/// Copies the signals of a sealed round into `out` (reusing its storage), with names, missing
/// and dropped lists. False when a signal buffer was overwritten meanwhile (the round is lost).
bool copy_round(const BarrierTable& table, std::uint32_t b, const SealedRound& sealed,
                BarrierRound& out);

/// Drops participants of barrier `b` whose bound agent is gone; calls `on_drop(p)` for each.
/// Wakes the waiter when one was dropped (the round may be complete now).
void drop_dead_participants(const BarrierTable& table, std::uint32_t b, std::uint32_t self,
                            const std::function<void(std::uint32_t participant)>& on_drop);

/// Wakes a waiter sleeping on the barrier's arrive word (after a seal, advance or drop).
void wake_waiter(BarrierHeader& header) noexcept;

// ---- supervisor ----------------------------------------------------------------------------

/// A round closed, or a participant dropped, by enforce_barriers (or by a waiter).
struct BarrierEnforcement {
  enum class Kind : std::uint8_t { kRoundClosed, kParticipantDropped };
  Kind kind = Kind::kRoundClosed;
  std::uint32_t barrier_index = 0;
  std::string barrier;
  std::uint64_t generation = 0;
  // kRoundClosed
  bool complete = false;
  std::uint32_t arrived = 0;
  std::uint32_t participants = 0;
  std::uint64_t arrived_mask = 0;  // participants 0..63
  std::uint64_t missing_mask = 0;
  std::uint64_t first_arrive_ns = 0;  // CLOCK_MONOTONIC
  std::uint64_t closed_ns = 0;
  std::uint64_t timeout_ns = 0;
  // kParticipantDropped
  std::string participant;
  std::uint32_t participant_index = 0;
  std::uint32_t agent_index = kNoAgent;  // the agent that had opened the slot
};
using BarrierEnforcementSink = std::function<void(const BarrierEnforcement&)>;

/// The supervisor's periodic pass over every barrier (call it every few milliseconds; cold, no
/// lock taken): drops participants whose bound agent died (the kernel released its liveness
/// lock) or detached, closes rounds whose deadline (first arrival + timeout) is at or before
/// `now_ns` (CLOCK_MONOTONIC) even when the waiter is slow or dead, and finishes rounds a dead
/// closer left half-closed. Calls `sink` once per round it advanced and per participant it
/// dropped, so the caller can publish sys.barrier.completed / sys.barrier.timeout (with
/// to_completed_event / to_timeout_event) and log drops. Safe to run concurrently with waiters,
/// participants and other enforcers: closing is idempotent and exactly one closer advances a
/// round (and so reports it). `self` is the caller's own agent index, if it is an agent.
void enforce_barriers(Segment& segment, std::uint64_t now_ns, const BarrierEnforcementSink& sink,
                      std::uint32_t self = kNoAgent);

/// The catalogue payloads for a closed round.
sys::BarrierCompleted to_completed_event(const BarrierEnforcement& round) noexcept;
sys::BarrierTimeout to_timeout_event(const BarrierEnforcement& round) noexcept;
/// The kRoundClosed record of a sealed round.
BarrierEnforcement closed_round_record(const BarrierTable& table, std::uint32_t b,
                                       const SealedRound& sealed, std::uint64_t closed_ns);

}  // namespace shmbus::detail
