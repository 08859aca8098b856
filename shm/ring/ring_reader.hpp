// RingReader: one subscriber's view of one priority ring. Tethered readers gate
// producers and read events zero-copy; untethered ones (set by the supervisor
// when they fall behind) copy each event out and re-check its seq, so a lap is
// reported as a gap with its count, never as a torn event. Owned by the
// Dispatcher and used by the single dispatching thread only. The seq-word checks
// are those of slot_seq.hpp.
//
// Cursor contract (the supervisor relies on it): `cursor.position` is stored
// before each event is handed out, so it names the event in hand; every
// position below it is done. To untether a stalled reader, the supervisor pins
// the slot at its cursor (quarantine) before clearing kReaderTethered.
#pragma once

#include <cstdint>
#include <vector>

#include "shm/layout.hpp"
#include "shm/ring/slot_seq.hpp"
#include "shm/segment.hpp"

namespace shmbus::detail {

/// One event ready for dispatch: its header and payload, in the ring or in a private copy.
struct ReadEvent {
  const SlotHeader* header = nullptr;
  const std::byte* payload = nullptr;
  std::uint32_t length = 0;
  std::uint64_t position = 0;
};

class RingReader {
 public:
  RingReader() = default;
  RingReader(Segment* segment, std::uint32_t ring, std::uint32_t self_index);

  /// Starts reading at the current tail (or `history` events before it) and tethers.
  void activate(std::uint32_t history) noexcept;
  bool active() const noexcept { return active_; }

  /// True when an event (or padding) is waiting at our position.
  bool pending() const noexcept {
    if (!active_) return false;
    return settled(seg_->slot(ring_, pos_).seq.load(std::memory_order_acquire));
  }
  /// Same, with a seq_cst load, for the check a dispatcher makes before it sleeps.
  bool pending_seq_cst() const noexcept {
    if (!active_) return false;
    return settled(seg_->slot(ring_, pos_).seq.load(std::memory_order_seq_cst));
  }

  /// Fetches the next committed event, skipping padding. False when none is ready.
  /// On a lap (untethered only) advances past the lost events and adds them to `missed`.
  bool next(ReadEvent& out) noexcept;
  /// Marks the event returned by next() as done.
  void advance() noexcept { ++pos_; }
  /// Publishes the cursor (call after a batch and before idling).
  void store_cursor() noexcept;

  /// Events lost to laps since the last take_missed().
  std::uint64_t take_missed() noexcept {
    const std::uint64_t m = missed_;
    missed_ = 0;
    return m;
  }
  std::uint64_t position() const noexcept { return pos_; }
  std::uint64_t tail() const noexcept {
    return seg_->ring(ring_).tail.load(std::memory_order_acquire);
  }
  bool tethered() const noexcept { return tethered_; }

 private:
  // pending() agrees with next(): a seq ahead of us while the tail is not past us is garbage
  // (corrupt segment bytes) that next() stops at, so it is not pending either. Otherwise the
  // dispatcher, told a higher ring is pending, would retry that ring forever.
  bool settled(std::uint64_t seq) const noexcept {
    if (!seq_settled(seq, pos_)) return false;
    return !seq_lapped(seq, pos_) || tail() > pos_;
  }
  bool copy_out(const SlotHeader& slot, std::uint64_t seq, ReadEvent& out) noexcept;
  void on_lapped() noexcept;
  void try_retether() noexcept;

  Segment* seg_ = nullptr;
  ReaderCursor* cursor_ = nullptr;
  std::uint32_t ring_ = 0;
  std::uint64_t pos_ = 0;
  std::uint64_t stored_ = ~0ull;
  std::uint64_t capacity_ = 0;
  std::uint64_t zero_copy_from_ = 0;  // after re-tethering, copy until here
  std::uint64_t missed_ = 0;
  bool active_ = false;
  bool tethered_ = false;
  std::vector<std::byte> copy_;  // one slot, allocated at construction
};

}  // namespace shmbus::detail
