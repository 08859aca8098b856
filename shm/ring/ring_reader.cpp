// RingReader: activation, the zero-copy and copy-out reads, laps and re-tethering.
#include "shm/ring/ring_reader.hpp"

#include <cstring>

namespace shmbus::detail {

RingReader::RingReader(Segment* segment, std::uint32_t ring, std::uint32_t self_index)
    : seg_(segment),
      cursor_(&segment->agent(self_index).cursors[ring]),
      ring_(ring),
      capacity_(segment->config().ring_capacity[ring]),
      copy_(segment->config().slot_stride) {}

void RingReader::activate(std::uint32_t history) noexcept {
  if (active_) return;
  const RingHeader& ring = seg_->ring(ring_);
  const std::uint64_t t1 = ring.tail.load(std::memory_order_seq_cst);
  cursor_->position.store(t1 > history ? t1 - history : 0, std::memory_order_release);
  // Announce ourselves, then read the tail again: a producer that scanned before our flag
  // became visible gated on a cursor at most that tail, so nothing from the second tail on
  // (less the history it never overwrites) can be reused under us.
  cursor_->flags.store(kReaderActive | kReaderTethered, std::memory_order_seq_cst);
  const std::uint64_t t2 = ring.tail.load(std::memory_order_seq_cst);
  pos_ = t2 > history ? t2 - history : 0;  // t2 >= t1: never below the cursor announced
  cursor_->position.store(pos_, std::memory_order_release);
  stored_ = pos_;
  zero_copy_from_ = pos_;
  active_ = true;
  tethered_ = true;
}

void RingReader::store_cursor() noexcept {
  if (stored_ != pos_) {
    cursor_->position.store(pos_, std::memory_order_release);
    stored_ = pos_;
  }
}

bool RingReader::copy_out(const SlotHeader& slot, std::uint64_t seq, ReadEvent& out) noexcept {
  const std::uint32_t len = slot.length;
  if (len > seg_->config().max_payload_bytes) return false;
  std::memcpy(copy_.data(), &slot, sizeof(SlotHeader) + len);
  std::atomic_thread_fence(std::memory_order_acquire);
  // A producer reusing this slot claims position pos_+capacity (tail CAS) before it writes and
  // changes seq only when it commits: both the seq and the tail must say nobody got here.
  if (slot.seq.load(std::memory_order_relaxed) != seq) return false;
  if (seg_->ring(ring_).tail.load(std::memory_order_acquire) > pos_ + capacity_) return false;
  out.header = reinterpret_cast<const SlotHeader*>(copy_.data());
  out.payload = copy_.data() + sizeof(SlotHeader);
  out.length = len;
  out.position = pos_;
  return true;
}

void RingReader::on_lapped() noexcept {
  const std::uint64_t tail = seg_->ring(ring_).tail.load(std::memory_order_acquire);
  if (tail > pos_) {
    missed_ += tail - pos_;
    pos_ = tail;
  } else {
    // Only a corrupt slot gets here (seq ahead of the tail): skip that one position.
    missed_ += 1;
    ++pos_;
  }
  cursor_->position.store(pos_, std::memory_order_release);
  stored_ = pos_;
}

void RingReader::try_retether() noexcept {
  const RingHeader& ring = seg_->ring(ring_);
  if (pos_ != ring.tail.load(std::memory_order_acquire)) return;
  cursor_->flags.fetch_or(kReaderTethered, std::memory_order_seq_cst);
  // As in activate(): producers that gated without us cannot reach past this tail.
  zero_copy_from_ = ring.tail.load(std::memory_order_seq_cst);
  tethered_ = true;
}

bool RingReader::next(ReadEvent& out) noexcept {
  if (!active_) return false;
  for (;;) {
    SlotHeader& slot = seg_->slot(ring_, pos_);
    const std::uint64_t s = slot.seq.load(std::memory_order_acquire);
    if (seq_committed(s, pos_)) {
      // Name the event in hand before touching it (see the cursor contract).
      if (stored_ != pos_) {
        cursor_->position.store(pos_, std::memory_order_release);
        stored_ = pos_;
      }
      tethered_ = (cursor_->flags.load(std::memory_order_acquire) & kReaderTethered) != 0;
      if (tethered_ && pos_ >= zero_copy_from_) {
        const std::uint32_t len = slot.length;
        if (len > seg_->config().max_payload_bytes) {  // corrupt slot: never read past it
          ++missed_;
          ++pos_;
          continue;
        }
        out.header = &slot;
        out.payload = reinterpret_cast<const std::byte*>(&slot) + sizeof(SlotHeader);
        // The first payload line is still in the producer's cache: start its transfer now,
        // under the dispatch bookkeeping, rather than when the handler first touches it.
        __builtin_prefetch(out.payload);
        out.length = len;
        out.position = pos_;
        return true;
      }
      if (copy_out(slot, s, out)) return true;
      on_lapped();
      continue;
    }
    if (seq_padded(s, pos_)) {
      ++pos_;
      continue;
    }
    if (seq_lapped(s, pos_)) {
      // A seq ahead of us means we were lapped, which needs the tail past us; otherwise the
      // slot is garbage (a corrupt segment): stop here rather than spin over it.
      if (seg_->ring(ring_).tail.load(std::memory_order_acquire) <= pos_) return false;
      on_lapped();
      continue;
    }
    if (!tethered_ || (cursor_->flags.load(std::memory_order_relaxed) & kReaderTethered) == 0) {
      tethered_ = false;
      try_retether();
    }
    return false;
  }
}

}  // namespace shmbus::detail
