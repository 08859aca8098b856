// StuckClaimMonitor: closes claimed slots that stay uncommitted while subscribers wait at
// them (DESIGN.md "Stuck claims"). A slot some subscriber's cursor waits at, below the tail and
// neither committed nor padded for longer than the unblock timeout, is padded so subscribers
// move past it. When a live producer's claim word still names it, the slot is quarantined
// first (that producer may still write into it; its commit CAS will fail and report
// kAborted), and released once no live claim word names it any more. Dead producers' confirmed
// claims are padded at once by the roster's sweep; their unconfirmed claims end up here.
#pragma once

#include <cstdint>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/supervisor_config.hpp"
#include "supervisor/slot_pins.hpp"

namespace shmbus::detail {

struct ClosedClaim {
  std::uint32_t ring = 0;
  std::uint64_t position = 0;
  std::uint64_t stuck_ns = 0;            // how long subscribers had waited at it
  std::uint32_t claimant = 0xFFFFFFFFu;  // live producer whose claim word named it, if any
  bool quarantined = false;
};

class StuckClaimMonitor {
 public:
  StuckClaimMonitor(Segment& segment, SlotPins& pins, const SupervisorConfig& config)
      : seg_(segment), pins_(pins), config_(config) {}

  /// Finds slots subscribers wait at and closes those stuck past the unblock timeout.
  void check(std::uint64_t now_ns, std::vector<ClosedClaim>& closed);
  /// Releases claim pins (and adopted ones) that no live producer's claim word names and no
  /// untethered subscriber sits on.
  void release_pins();

 private:
  struct Candidate {
    std::uint32_t ring = 0;
    std::uint64_t position = 0;
    std::uint64_t first_seen_ns = 0;
    bool seen = false;
  };
  bool slot_done(std::uint32_t ring, std::uint64_t position) const noexcept;
  /// Index of a live agent whose claim word on `ring` names `position`, else 0xFFFFFFFF.
  std::uint32_t live_claimant(std::uint32_t ring, std::uint64_t position) const noexcept;
  bool untethered_reader_at(std::uint32_t ring, std::uint64_t position) const noexcept;
  void close(const Candidate& c, std::uint64_t now_ns, std::vector<ClosedClaim>& closed);

  Segment& seg_;
  SlotPins& pins_;
  const SupervisorConfig& config_;
  std::vector<Candidate> candidates_;
};

}  // namespace shmbus::detail
