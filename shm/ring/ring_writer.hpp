// RingWriter: one process's producer view of one priority ring, and the one place
// that writes a slot: it claims only free space (so a publisher that gives up never
// leaves a hole), fills the slot it claimed (payload, then header), and commits with
// a CAS on the slot's seq word that the supervisor's padding can beat (then the
// publisher learns its event was aborted). See DESIGN.md "Ring protocol" and
// slot_seq.hpp. Owned by the Publisher; safe to use from several threads at once.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "shm/layout.hpp"
#include "shm/ring/slot_seq.hpp"
#include "shm/segment.hpp"

namespace shmbus::detail {

enum class ClaimOutcome : std::uint8_t { kClaimed, kFull, kAborted };

struct SlotClaim {
  std::uint64_t position = 0;
  std::uint64_t expected_seq = 0;  // the slot's seq before this claim, for the commit CAS
  SlotHeader* slot = nullptr;
};

/// What a producer says about its event; the writer adds who produced it.
struct EventStamp {
  std::uint32_t topic_id = 0;
  std::uint32_t length = 0;  // payload bytes
  std::uint64_t producer_seq = 0;
  std::uint64_t timestamp_ns = 0;
  std::uint16_t flags = 0;
  std::uint16_t schema_version = 0;
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

  /// Writes the event into a claimed slot: `e.length` payload bytes from `payload`, then the
  /// header. Payload first, header last: a subscriber spinning on this slot's seq keeps
  /// pulling the header line away, so the header stores and the commit CAS that follows them
  /// should find it owned, in one transfer.
  void write(const SlotClaim& claim, const EventStamp& e, const void* payload) noexcept {
    SlotHeader& h = *claim.slot;
    if (e.length != 0) {
      std::memcpy(reinterpret_cast<std::byte*>(&h) + sizeof(SlotHeader), payload, e.length);
    }
    write_header(h, e);
    h.timestamp_ns = e.timestamp_ns;
  }
  /// Writes the header of a claim to be filled in place (Bus::claim) and returns its payload
  /// area. The timestamp waits for the commit (stamp_commit_time).
  std::byte* open(const SlotClaim& claim, const EventStamp& e) noexcept {
    write_header(*claim.slot, e);
    return reinterpret_cast<std::byte*>(claim.slot) + sizeof(SlotHeader);
  }
  /// The publish time of an opened claim, written just before its commit.
  static void stamp_commit_time(const SlotClaim& claim, std::uint64_t now_ns) noexcept {
    claim.slot->timestamp_ns = now_ns;
  }

  /// Publishes a filled claim. False when the supervisor padded it first (aborted).
  bool commit(const SlotClaim& claim) noexcept {
    const bool ok = commit_claimed(*claim.slot, claim.position, claim.expected_seq);
    self_->claiming[ring_].store(0, std::memory_order_release);
    return ok;
  }

  /// Gives a claim back: pads its slot so subscribers move past it.
  void cancel(const SlotClaim& claim) noexcept;

  /// Recomputes the gate now (minimum tethered cursor; `tail` when there is none) and keeps it
  /// as this writer's cached gate and the ring's hint.
  std::uint64_t scan_gate(std::uint64_t tail) noexcept;

  /// How many events the slowest tethered subscriber has yet to read, at most: from the gates
  /// this process and others last scanned (cursors only move on, so those are lower bounds).
  /// Reads two words; no scan.
  std::uint64_t fill_at_most() const noexcept {
    const std::uint64_t tail = header_->tail.load(std::memory_order_acquire);
    const std::uint64_t gate = std::max(gate_cache_.load(std::memory_order_relaxed),
                                        header_->gate_hint.load(std::memory_order_relaxed));
    return tail > gate ? tail - gate : 0;
  }
  /// The same, scanned now (reads every agent's cursor for this ring).
  std::uint64_t fill_now() noexcept {
    const std::uint64_t tail = header_->tail.load(std::memory_order_acquire);
    const std::uint64_t gate = scan_gate(tail);
    return tail > gate ? tail - gate : 0;
  }

  std::uint32_t ring() const noexcept { return ring_; }

 private:
  void write_header(SlotHeader& h, const EventStamp& e) const noexcept {
    h.length = e.length;
    h.topic_id = e.topic_id;
    h.producer = producer_;
    h.producer_epoch = self_->epoch;
    h.producer_seq = e.producer_seq;
    h.flags = e.flags;
    h.schema_version = e.schema_version;
  }

  Segment* seg_ = nullptr;
  RingHeader* header_ = nullptr;
  AgentRecord* self_ = nullptr;
  std::uint32_t producer_ = 0;  // our agent index
  std::uint32_t ring_ = 0;
  std::uint64_t capacity_ = 0;
  std::uint64_t usable_ = 0;  // capacity less the history reserve
  std::atomic<std::uint64_t> gate_cache_{0};
};

}  // namespace shmbus::detail
