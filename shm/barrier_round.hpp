// The lock-free barrier round protocol: arrive, scan, seal, advance, read and copy a closed
// round, and the record of a closed round with its sys.barrier.* payloads. The protocol and its
// argument are at the top of shm/barrier_round.cpp. Used by the Barrier facade (participant and
// waiter) and the supervisor's enforcer (supervisor/barrier_enforcer.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "shm/agent_table.hpp"
#include "shm/barrier_table.hpp"
#include "shmbus/barrier_types.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

// ---- participant hot path ------------------------------------------------------------------

/// Pointers one participant handle resolves once, so arrive() does no lookup.
struct ArriveContext {
  BarrierHeader* header = nullptr;
  BarrierParticipant* slot = nullptr;
  std::byte* data[2] = {nullptr, nullptr};
  std::uint32_t signal_bytes = 0;
  std::uint64_t incarnation = 0;
};

/// Arrives in round `generation` (see the protocol comment in barrier_round.cpp). Wakes the
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

/// Wakes a waiter sleeping on the barrier's arrive word (after a seal, advance or drop).
void wake_waiter(BarrierHeader& header) noexcept;

/// Wakes participants sleeping until the next round opens (wait_open), after an advance or a
/// change of the record (create, remove).
void wake_open(BarrierHeader& header) noexcept;

// ---- closed rounds (waiter, supervisor) ----------------------------------------------------

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

/// The catalogue payloads for a closed round.
sys::BarrierCompleted to_completed_event(const BarrierEnforcement& round) noexcept;
sys::BarrierTimeout to_timeout_event(const BarrierEnforcement& round) noexcept;
/// The kRoundClosed record of a sealed round.
BarrierEnforcement closed_round_record(const BarrierTable& table, std::uint32_t b,
                                       const SealedRound& sealed, std::uint64_t closed_ns);

}  // namespace shmbus::detail
