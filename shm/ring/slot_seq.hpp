// The slot seq word, the ring's one commit protocol: its encoding, the checks every
// reader of a slot makes (committed, padded, settled, lapped) and the CASes that
// close a slot (commit, pad). Used by the writer, the reader, history, the dead-agent
// sweep and the supervisor's monitors, so the encoding is written down once. Not API.
//
// Position p's word is p+1 once its event is committed and (p+1)|kSeqPad once padded
// (skipped); anything lower is an earlier lap (free, or claimed and not committed yet),
// anything higher a later lap. Callers load the word with the memory order their
// protocol step needs; the checks here only read the value.
#pragma once

#include <atomic>
#include <cstdint>

#include "shm/layout.hpp"

namespace shmbus::detail {

/// The seq word of position `pos` once its event is committed.
constexpr std::uint64_t committed_seq(std::uint64_t pos) noexcept {
  return pos + 1;
}
/// The seq word of position `pos` once padded: subscribers step over it.
constexpr std::uint64_t padded_seq(std::uint64_t pos) noexcept {
  return (pos + 1) | kSeqPad;
}

/// The event at `pos` is committed and readable.
constexpr bool seq_committed(std::uint64_t seq, std::uint64_t pos) noexcept {
  return seq == committed_seq(pos);
}
/// Position `pos` was padded (cancelled, aborted, quarantined or its producer died).
constexpr bool seq_padded(std::uint64_t seq, std::uint64_t pos) noexcept {
  return seq == padded_seq(pos);
}
/// Position `pos` is done with: committed, padded, or the slot already reused by a later lap.
/// False while the slot is free or claimed and uncommitted at this lap.
constexpr bool seq_settled(std::uint64_t seq, std::uint64_t pos) noexcept {
  return (seq & ~kSeqPad) >= pos + 1;
}
/// A later lap owns the slot: the event at `pos` is gone.
constexpr bool seq_lapped(std::uint64_t seq, std::uint64_t pos) noexcept {
  return (seq & ~kSeqPad) > pos + 1;
}

/// The claimant's commit: `expected` (the word it saw when it claimed) to committed. False
/// when someone padded the claim first (the supervisor, because the producer stalled).
/// seq_cst: pairs with a sleeping dispatcher's waiter increment (Dekker on waiters/seq).
inline bool commit_claimed(SlotHeader& slot, std::uint64_t pos, std::uint64_t expected) noexcept {
  return slot.seq.compare_exchange_strong(expected, committed_seq(pos), std::memory_order_seq_cst);
}

/// The claimant gives its own claim up: `expected` (the word it saw when it claimed) to padded.
/// False when someone padded it first. seq_cst, like the commit it replaces.
inline bool pad_claimed(SlotHeader& slot, std::uint64_t pos, std::uint64_t expected) noexcept {
  return slot.seq.compare_exchange_strong(expected, padded_seq(pos), std::memory_order_seq_cst);
}

/// Someone else closes position `pos` (the sweep of a dead producer, the supervisor's unblock
/// of a stalled one): pads the slot unless it is settled already. True when this call padded
/// it. The CAS races the claimant's commit, and exactly one of them wins.
inline bool pad_slot(SlotHeader& slot, std::uint64_t pos) noexcept {
  std::uint64_t s = slot.seq.load(std::memory_order_acquire);
  while (!seq_settled(s, pos)) {
    if (slot.seq.compare_exchange_weak(s, padded_seq(pos), std::memory_order_seq_cst)) {
      return true;
    }
  }
  return false;
}

}  // namespace shmbus::detail
