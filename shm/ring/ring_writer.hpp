// RingWriter: one process's producer view of one priority ring. Claims only
// free space (so a publisher that gives up never leaves a hole), writes in place,
// commits with a CAS on the slot's seq word that the supervisor's padding can
// beat (then the publisher learns its event was aborted). See DESIGN.md "Ring
// protocol". Owned by BusImpl; safe to use from several threads at once.
#pragma once

#include <atomic>
#include <cstdint>

#include "shm/layout.hpp"
#include "shm/segment.hpp"

namespace shmbus::detail {

enum class ClaimOutcome : std::uint8_t { kClaimed, kFull, kAborted };

struct SlotClaim {
  std::uint64_t position = 0;
  std::uint64_t expected_seq = 0;  // the slot's seq before this claim, for the commit CAS
  SlotHeader* slot = nullptr;
};

class RingWriter {
 public:
  RingWriter() = default;
  RingWriter(const RingWriter&) = delete;
  RingWriter& operator=(const RingWriter&) = delete;
  /// Binds this writer to ring `ring` of `segment`, producing as agent `self_index`.
  void init(Segment* segment, std::uint32_t ring, std::uint32_t self_index);

  /// Claims the next position if it is free. kFull when the slowest tethered subscriber is a
  /// ring (less the history reserve) behind; kAborted when the supervisor padded the claim
  /// before we could read the slot (we stalled). Hot path: no allocation, no system call.
  ClaimOutcome try_claim(SlotClaim& out) noexcept;

  /// Publishes a filled claim. False when the supervisor padded it first (aborted).
  bool commit(const SlotClaim& claim) noexcept {
    std::uint64_t expected = claim.expected_seq;
    // seq_cst: pairs with a sleeping dispatcher's waiter increment (Dekker on waiters/seq).
    const bool ok = claim.slot->seq.compare_exchange_strong(expected, claim.position + 1,
                                                            std::memory_order_seq_cst);
    self_->claiming[ring_].store(0, std::memory_order_release);
    return ok;
  }

  /// Gives a claim back: pads its slot so subscribers move past it.
  void cancel(const SlotClaim& claim) noexcept;

  /// Recomputes the gate now (minimum tethered cursor; `tail` when there is none).
  std::uint64_t scan_gate(std::uint64_t tail) noexcept;
  /// Index of the agent whose cursor is the gate, or kNoAgent-like 0xFFFFFFFF.
  std::uint32_t gate_holder() const noexcept {
    return gate_holder_.load(std::memory_order_relaxed);
  }

  std::uint32_t ring() const noexcept { return ring_; }

 private:
  Segment* seg_ = nullptr;
  RingHeader* header_ = nullptr;
  AgentRecord* self_ = nullptr;
  std::uint32_t ring_ = 0;
  std::uint64_t capacity_ = 0;
  std::uint64_t usable_ = 0;  // capacity less the history reserve
  std::atomic<std::uint64_t> gate_cache_{0};
  std::atomic<std::uint32_t> gate_holder_{0xFFFFFFFFu};  // publishing threads race: relaxed
};

}  // namespace shmbus::detail
