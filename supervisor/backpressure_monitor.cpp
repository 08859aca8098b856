#include "supervisor/backpressure_monitor.hpp"

#include <algorithm>

namespace shmbus::detail {

BackpressureMonitor::BackpressureMonitor(Segment& segment, const SupervisorConfig& config)
    : seg_(segment), config_(config) {
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    rings_[r].usable = seg_.config().ring_capacity[r] - seg_.config().history_depth;
  }
}

void BackpressureMonitor::share_shed_fills() {
  const BackpressurePolicy& p = config_.backpressure;
  const double below = std::max(p.critical - p.hysteresis, 0.0);
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    // At least one slot: 0 would mean "no threshold" (shed by the level alone).
    const auto slots = static_cast<std::uint64_t>(below * static_cast<double>(rings_[r].usable));
    seg_.header().shed_fill_slots[r].store(
        static_cast<std::uint32_t>(std::clamp<std::uint64_t>(slots, 1, rings_[r].usable)),
        std::memory_order_relaxed);
  }
}

void BackpressureMonitor::adopt_levels() {
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    std::uint32_t v = seg_.header().backpressure[r].load(std::memory_order_relaxed);
    if (v > static_cast<std::uint32_t>(sys::BackpressureLevel::kCritical))
      v = 0;  // segment bytes are input
    rings_[r].level = static_cast<sys::BackpressureLevel>(v);
  }
}

void BackpressureMonitor::reset_levels() {
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    seg_.header().backpressure[r].store(static_cast<std::uint32_t>(sys::BackpressureLevel::kNormal),
                                        std::memory_order_relaxed);
    rings_[r].level = sys::BackpressureLevel::kNormal;
  }
}

std::uint64_t BackpressureMonitor::gate(std::uint32_t r) const noexcept {
  // The slowest tethered cursor; no tethered subscriber means nothing holds producers back.
  std::uint64_t gate = ~0ull;
  const std::uint32_t n = seg_.config().max_agents;
  for (std::uint32_t i = 0; i < n; ++i) {
    const AgentRecord& rec = seg_.agent(i);
    if (rec.state.load(std::memory_order_acquire) !=
        static_cast<std::uint32_t>(AgentState::kActive)) {
      continue;
    }
    const ReaderCursor& c = rec.cursors[r];
    const std::uint32_t f = c.flags.load(std::memory_order_acquire);
    if ((f & (kReaderActive | kReaderTethered)) != (kReaderActive | kReaderTethered)) continue;
    const std::uint64_t pos = c.position.load(std::memory_order_acquire);
    if (pos < gate) gate = pos;
  }
  return gate;
}

sys::BackpressureLevel BackpressureMonitor::level_for(
    double ratio, sys::BackpressureLevel current) const noexcept {
  const BackpressurePolicy& p = config_.backpressure;
  const double thresholds[] = {p.warning, p.high, p.critical};
  auto raw = [&](double shift) {
    sys::BackpressureLevel l = sys::BackpressureLevel::kNormal;
    for (int i = 0; i < 3; ++i) {
      if (ratio >= thresholds[i] - shift) l = static_cast<sys::BackpressureLevel>(i + 1);
    }
    return l;
  };
  const sys::BackpressureLevel up = raw(0);
  if (up >= current) return up;
  // Going down: only as far as the fill is clear of each threshold by the hysteresis.
  const sys::BackpressureLevel down = raw(p.hysteresis);
  return down < current ? down : current;
}

void BackpressureMonitor::check(std::uint64_t now_ns,
                                std::vector<sys::BackpressureChange>& changes) {
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    RingFill& f = rings_[r];
    const std::uint64_t g = gate(r);
    // Tail after the cursors: cursors never pass the tail, so fill cannot go negative.
    f.tail = seg_.ring(r).tail.load(std::memory_order_acquire);
    f.fill = (g == ~0ull || g >= f.tail) ? 0 : f.tail - g;
    f.ratio = f.usable == 0 ? 0 : static_cast<double>(f.fill) / static_cast<double>(f.usable);
    const sys::BackpressureLevel next = level_for(f.ratio, f.level);
    if (next == f.level) continue;
    if (next < f.level &&
        now_ns - f.since_ns < static_cast<std::uint64_t>(config_.backpressure.min_dwell.count())) {
      continue;
    }
    seg_.header().backpressure[r].store(static_cast<std::uint32_t>(next),
                                        std::memory_order_relaxed);
    sys::BackpressureChange e{};
    e.change_mono_ns = now_ns;
    e.fill_slots = f.fill;
    e.capacity = seg_.config().ring_capacity[r];
    e.fill_ppm = static_cast<std::uint32_t>(f.fill * 1'000'000 / e.capacity);
    e.ring = static_cast<Priority>(r);
    e.old_level = f.level;
    e.new_level = next;
    changes.push_back(e);
    f.level = next;
    f.since_ns = now_ns;
  }
}

}  // namespace shmbus::detail
