// RingWriter: binding to a ring, the gate scan, claiming a free position, cancelling.
#include "shm/ring/ring_writer.hpp"

namespace shmbus::detail {

void RingWriter::init(Segment* segment, std::uint32_t ring, std::uint32_t self_index) {
  seg_ = segment;
  header_ = &segment->ring(ring);
  self_ = &segment->agent(self_index);
  producer_ = self_index;
  ring_ = ring;
  capacity_ = segment->config().ring_capacity[ring];
  usable_ = capacity_ - segment->config().history_depth;
  // The gate is the slowest tethered cursor, which may lie far behind the tail: scan, never
  // assume the tail (a late-attaching producer would otherwise overwrite unread events).
  (void)scan_gate(header_->tail.load(std::memory_order_seq_cst));
}

std::uint64_t RingWriter::scan_gate(std::uint64_t tail) noexcept {
  std::uint64_t gate = tail;
  const std::uint32_t n = seg_->config().max_agents;
  for (std::uint32_t i = 0; i < n; ++i) {
    const ReaderCursor& c = seg_->agent(i).cursors[ring_];
    // seq_cst pairs with the reader's activation (flags store, then tail load): a reader we
    // miss here starts at a tail read after our scan, beyond anything our gate lets us reuse.
    const std::uint32_t f = c.flags.load(std::memory_order_seq_cst);
    if ((f & (kReaderActive | kReaderTethered)) != (kReaderActive | kReaderTethered)) continue;
    const std::uint64_t pos = c.position.load(std::memory_order_acquire);
    if (pos < gate) gate = pos;
  }
  header_->gate_hint.store(gate, std::memory_order_relaxed);
  gate_cache_.store(gate, std::memory_order_relaxed);
  return gate;
}

ClaimOutcome RingWriter::try_claim(SlotClaim& out) noexcept {
  std::uint64_t pos = header_->tail.load(std::memory_order_relaxed);
  std::uint64_t quarantine_skips = 0;
  for (;;) {
    std::uint64_t gate = gate_cache_.load(std::memory_order_relaxed);
    if (pos >= gate + usable_) {
      gate = scan_gate(pos);
      if (pos >= gate + usable_) return ClaimOutcome::kFull;
    }
    // Say what we are claiming before the CAS, confirm after: whoever recovers us if we
    // die knows a confirmed claim is ours to pad.
    self_->claiming[ring_].store(pos + 1, std::memory_order_relaxed);
    if (!header_->tail.compare_exchange_weak(pos, pos + 1, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
      continue;  // pos now holds the current tail
    }
    self_->claiming[ring_].store((pos + 1) | kClaimConfirmed, std::memory_order_relaxed);
    SlotHeader& slot = seg_->slot(ring_, pos);
    // Ask for the first payload line for writing now: its transfer from the subscriber that
    // read it a lap ago overlaps the header-line checks below instead of following them.
    __builtin_prefetch(reinterpret_cast<const std::byte*>(&slot) + sizeof(SlotHeader), 1);
    std::uint64_t old = slot.seq.load(std::memory_order_acquire);
    if (seq_settled(old, pos)) {
      // The supervisor already closed our claim (we stalled right after the CAS).
      self_->claiming[ring_].store(0, std::memory_order_release);
      return ClaimOutcome::kAborted;
    }
    if (slot.quarantine.load(std::memory_order_seq_cst) != 0) {
      // A stalled writer or reader may still touch this slot: pad our lap of it, claim again.
      if (pad_claimed(slot, pos, old)) {
        header_->padded.fetch_add(1, std::memory_order_relaxed);
      }
      self_->claiming[ring_].store(0, std::memory_order_release);
      // Every slot quarantined (only a corrupt segment does that): give up as full.
      if (++quarantine_skips >= capacity_) return ClaimOutcome::kFull;
      pos = header_->tail.load(std::memory_order_relaxed);
      continue;
    }
    out.position = pos;
    out.expected_seq = old;
    out.slot = &slot;
    return ClaimOutcome::kClaimed;
  }
}

void RingWriter::cancel(const SlotClaim& claim) noexcept {
  (void)pad_claimed(*claim.slot, claim.position, claim.expected_seq);
  self_->claiming[ring_].store(0, std::memory_order_release);
}

}  // namespace shmbus::detail
