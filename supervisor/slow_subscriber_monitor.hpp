// SlowSubscriberMonitor: watches every subscriber cursor. A ring where a subscriber stays
// behind past the lag limit, or where an event waits while none of that subscriber's cursors
// moves (stalled: stopped, debugged, wedged handler; one busy on a higher-priority ring is
// not stalled), is untethered so producers stop waiting for it. The slot at its cursor is
// pinned first (it may hold a zero-copy view of it: see the cursor contract in
// ring_reader.hpp), and pins stay until the cursor moves past or the agent leaves. The reader
// side copies while untethered, counts what it was lapped by, and re-tethers once caught up;
// this monitor turns each increase of its `missed` counter into a sys.gap notice.
#pragma once

#include <cstdint>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/supervisor_config.hpp"
#include "shmbus/sys_events.hpp"
#include "supervisor/agent_roster.hpp"
#include "supervisor/slot_pins.hpp"

namespace shmbus::detail {

struct UntetherAction {
  std::uint32_t agent = 0;
  std::uint32_t ring = 0;
  std::uint64_t position = 0;
  std::uint64_t lag = 0;
  bool stalled = false;  // else: behind past the lag limit
};

class SlowSubscriberMonitor {
 public:
  SlowSubscriberMonitor(Segment& segment, SlotPins& pins, const SupervisorConfig& config);

  /// Observes cursors, untethers slow ones, reports gaps and re-tethers, releases reader pins.
  void check(std::uint64_t now_ns, const AgentRoster& roster, std::uint32_t self,
             std::vector<UntetherAction>& untethered, std::vector<sys::GapNotice>& gaps);

  /// How long the agent has had an event waiting while none of its cursors moved.
  std::uint64_t stalled_for(std::uint32_t agent, std::uint64_t now_ns) const noexcept;
  /// Bit r set: the agent reads ring r but is untethered there.
  std::uint8_t untethered_mask(std::uint32_t agent) const noexcept;
  std::uint64_t lag(std::uint32_t agent, std::uint32_t ring) const noexcept {
    return state_[agent * kRingCount + ring].lag;
  }

 private:
  struct CursorState {
    bool known = false;
    std::uint32_t epoch = 0;
    bool reading = false;
    bool tethered = false;
    std::uint64_t position = 0;
    std::uint64_t lag = 0;
    bool ready = false;                 // an event (or padding) waits at the cursor
    std::uint64_t behind_since_ns = 0;  // 0: within the lag limit
    std::uint64_t missed_seen = 0;
    std::uint64_t untethered_at = 0;  // position when we untethered it (first missed)
    bool untethered_by_us = false;
  };
  struct AgentStall {
    std::uint32_t epoch = 0;
    std::uint64_t since_ns = 0;  // 0: some cursor moved, or nothing waits
  };
  CursorState& state(std::uint32_t agent, std::uint32_t ring) {
    return state_[agent * kRingCount + ring];
  }
  /// Reads one cursor; true when it moved since the last look.
  bool observe(std::uint32_t agent, std::uint32_t ring, const AgentInfo& info, std::uint64_t now_ns,
               std::vector<sys::GapNotice>& gaps);
  void untether(std::uint32_t agent, std::uint32_t ring, CursorState& st, std::uint64_t tail,
                bool stalled, std::vector<UntetherAction>& out);

  Segment& seg_;
  SlotPins& pins_;
  const SupervisorConfig& config_;
  std::vector<CursorState> state_;  // [agent * kRingCount + ring]
  std::vector<AgentStall> stall_;   // [agent]
};

}  // namespace shmbus::detail
