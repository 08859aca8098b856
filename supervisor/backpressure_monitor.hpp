// BackpressureMonitor: per ring, the fill (how far the slowest tethered subscriber is behind
// the tail, over the usable capacity) mapped to NORMAL / WARNING / HIGH / CRITICAL with
// hysteresis, written to SegmentHeader::backpressure[] where every publish reads it (admit()
// in bus_impl.cpp sheds and rate-limits from it). Reports each change for a sys.backpressure
// event.
#pragma once

#include <cstdint>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/supervisor_config.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

struct RingFill {
  std::uint64_t tail = 0;
  std::uint64_t fill = 0;
  std::uint64_t usable = 0;
  double ratio = 0;
  sys::BackpressureLevel level = sys::BackpressureLevel::kNormal;
  std::uint64_t since_ns = 0;  // when `level` was entered
};

class BackpressureMonitor {
 public:
  BackpressureMonitor(Segment& segment, const SupervisorConfig& config);

  /// Stores, per ring, the fill below which CRITICAL no longer sheds (critical less hysteresis,
  /// SegmentHeader::shed_fill_slots), so a publisher can confirm a stale level on the ring.
  void share_shed_fills();
  /// Takes the levels stored in the segment as the current ones (after a restart).
  void adopt_levels();
  /// Recomputes every ring's fill and level; stores and reports changes.
  void check(std::uint64_t now_ns, std::vector<sys::BackpressureChange>& changes);
  /// Sets every ring back to NORMAL (the supervisor leaves; nobody would lower them).
  void reset_levels();

  const RingFill& ring(std::uint32_t r) const noexcept { return rings_[r]; }
  /// The level a fill ratio maps to, from `current` (hysteresis applies on the way down).
  sys::BackpressureLevel level_for(double ratio, sys::BackpressureLevel current) const noexcept;

 private:
  std::uint64_t gate(std::uint32_t r) const noexcept;

  Segment& seg_;
  const SupervisorConfig& config_;
  RingFill rings_[kRingCount];
};

}  // namespace shmbus::detail
