// The process-local view of the barrier region of one mapped segment: record, participant and
// signal-buffer addresses. All state is in the segment (shm/barrier_layout.hpp). Used by the
// registry (shm/barrier_registry.hpp), the round protocol (shm/barrier_round.hpp), the Barrier
// handle and the supervisor's enforcer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "shm/barrier_layout.hpp"
#include "shm/region_sizes.hpp"
#include "shm/segment.hpp"
#include "shmbus/fixed_text.hpp"

namespace shmbus::detail {

inline constexpr std::uint32_t kMaxParticipants = 256;  // validate_config's upper bound

/// Typed access to the barrier region of one mapped segment.
class BarrierTable {
 public:
  explicit BarrierTable(Segment& segment) noexcept
      : seg_(&segment),
        base_(segment.region(segment.plan().barriers_offset)),
        record_bytes_(barrier_record_bytes(segment.config())),
        participant_stride_(barrier_participant_stride(segment.config())),
        signal_stride_(barrier_signal_stride(segment.config())),
        capacity_(segment.config().max_barriers),
        max_participants_(std::min(segment.config().max_barrier_participants, kMaxParticipants)),
        signal_bytes_(segment.config().barrier_signal_bytes) {}

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
  std::uint32_t participant_count(std::uint32_t b) const noexcept {
    const std::uint32_t n = header(b).participant_count;
    return n <= max_participants_ ? n : 0;
  }

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

}  // namespace shmbus::detail
