// SlotPins: the supervisor's table of quarantined ring slots. A slot is pinned (its
// SlotHeader::quarantine word set, before any pad or untether that needs it) while some
// process may still touch it outside the ring protocol: a live producer whose stuck claim was
// padded, or an untethered subscriber that may hold a zero-copy view of it. Producers that wrap
// onto a pinned slot pad their lap instead of writing (RingWriter::try_claim). Several pins may
// share a slot; its word is cleared when the last one goes. Used by the supervisor's monitors.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "shm/segment.hpp"

namespace shmbus::detail {

enum class PinKind : std::uint8_t {
  kClaim,    // stuck claim of a live producer: held while its claim word still names the slot
  kReader,   // untethered subscriber's slot: held until its cursor moves past or it leaves
  kAdopted,  // found set at start (a previous supervisor's pin of unknown kind)
};

struct Pin {
  std::uint32_t ring = 0;
  std::uint64_t position = 0;  // the lap that was pinned; quarantine word = position + 1
  PinKind kind = PinKind::kClaim;
  std::uint32_t agent = 0xFFFFFFFFu;  // claimant or reader
  std::uint32_t agent_epoch = 0;
};

class SlotPins {
 public:
  explicit SlotPins(Segment& segment) : seg_(segment) {}

  /// Pins a slot: sets its quarantine word (seq_cst, so it is visible before whatever the
  /// caller does next) unless another pin already holds it, and records the pin.
  void pin(const Pin& pin);
  /// Removes every pin for which `done` returns true; clears the quarantine word of slots
  /// left without pins.
  void release_if(const std::function<bool(const Pin&)>& done);
  /// Adopts quarantine words found set (after a supervisor restart) as kAdopted pins; clears
  /// words that cannot be ours (value naming another slot). Returns how many were adopted.
  std::uint64_t adopt_existing();

  const std::vector<Pin>& pins() const noexcept { return pins_; }
  /// Distinct slots pinned right now.
  std::uint64_t pinned_slots() const noexcept;

 private:
  bool same_slot(const Pin& a, std::uint32_t ring, std::uint64_t position) const noexcept;

  Segment& seg_;
  std::vector<Pin> pins_;
};

}  // namespace shmbus::detail
