#include "supervisor/slot_pins.hpp"

#include <algorithm>

namespace shmbus::detail {

bool SlotPins::same_slot(const Pin& a, std::uint32_t ring, std::uint64_t position) const noexcept {
  if (a.ring != ring) return false;
  const std::uint64_t mask = seg_.config().ring_capacity[ring] - 1;
  return (a.position & mask) == (position & mask);
}

void SlotPins::pin(const Pin& pin) {
  const bool held = std::any_of(pins_.begin(), pins_.end(),
                                [&](const Pin& p) { return same_slot(p, pin.ring, pin.position); });
  if (!held) {
    // seq_cst: ordered before the caller's pad CAS / untether store, so a producer that sees
    // the slot padded or the reader gone also sees the quarantine.
    seg_.slot(pin.ring, pin.position).quarantine.store(pin.position + 1, std::memory_order_seq_cst);
  }
  pins_.push_back(pin);
}

void SlotPins::release_if(const std::function<bool(const Pin&)>& done) {
  std::vector<Pin> released;
  auto it =
      std::stable_partition(pins_.begin(), pins_.end(), [&](const Pin& p) { return !done(p); });
  released.assign(it, pins_.end());
  pins_.erase(it, pins_.end());
  for (const Pin& r : released) {
    const bool still = std::any_of(pins_.begin(), pins_.end(),
                                   [&](const Pin& p) { return same_slot(p, r.ring, r.position); });
    if (!still) seg_.slot(r.ring, r.position).quarantine.store(0, std::memory_order_seq_cst);
  }
}

std::uint64_t SlotPins::adopt_existing() {
  std::uint64_t adopted = 0;
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const std::uint64_t cap = seg_.config().ring_capacity[r];
    for (std::uint64_t i = 0; i < cap; ++i) {
      SlotHeader& slot = seg_.slot(r, i);
      const std::uint64_t q = slot.quarantine.load(std::memory_order_acquire);
      if (q == 0) continue;
      // Segment bytes are input: a word that names another slot is not a pin of ours.
      if (((q - 1) & (cap - 1)) != i) {
        slot.quarantine.store(0, std::memory_order_seq_cst);
        continue;
      }
      if (std::any_of(pins_.begin(), pins_.end(),
                      [&](const Pin& p) { return same_slot(p, r, i); })) {
        continue;
      }
      Pin p;
      p.ring = r;
      p.position = q - 1;
      p.kind = PinKind::kAdopted;
      pins_.push_back(p);
      ++adopted;
    }
  }
  return adopted;
}

std::uint64_t SlotPins::pinned_slots() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < pins_.size(); ++i) {
    bool first = true;
    for (std::size_t j = 0; j < i && first; ++j) {
      first = !same_slot(pins_[j], pins_[i].ring, pins_[i].position);
    }
    n += first ? 1 : 0;
  }
  return n;
}

}  // namespace shmbus::detail
