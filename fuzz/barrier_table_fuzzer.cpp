// Fuzz target: the barrier table's readers over a segment image: status of every record (what
// `shmbus barrier status` and inspect_bus show), lookups by name, the round scan a waiter
// makes, sealing and copying a round's signals (the waiter, the supervisor's enforcer), and
// dropping participants whose agent is gone.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_segment.hpp"
#include "shm/barrier_registry.hpp"
#include "shm/barrier_round.hpp"
#include "shm/barrier_table.hpp"
#include "shm/segment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size);
  auto seg = detail::Segment::open(fs.bus_name(), std::chrono::nanoseconds(0));
  if (!seg) return 0;
  detail::Segment& s = **seg;
  const detail::BarrierTable table(s);
  volatile std::size_t sink = 0;
  const std::uint64_t now = 1'000'000'000'000ull;
  for (const BarrierStatus& b : detail::read_all_status(table, now)) {
    sink = sink + b.name.size() + b.detail.size() + b.missing.size();
    auto found = detail::find_barrier(table, b.name);
    if (found) sink = sink + detail::find_participant(table, *found, "strategy-1");
  }
  (void)detail::find_barrier(table, "decision");
  for (std::uint32_t b = 0; b < table.capacity(); ++b) {
    const detail::RoundScan scan = detail::scan_round(table, b);
    if (scan.participants > table.max_participants()) __builtin_trap();
    const std::uint64_t gen = detail::round_gen(scan.round);
    detail::SealedRound sealed;
    BarrierRound round;
    if (detail::seal_round(table, b, gen, sealed) == detail::SealResult::kSealed &&
        detail::copy_round(table, b, sealed, round)) {
      sink = sink + round.signals.size() + round.missing.size();
      for (const BarrierSignal& sig : round.signals) sink = sink + sig.bytes.size();
    }
    detail::SealedRound previous;
    if (gen > 0 && detail::read_sealed(table, b, gen - 1, previous) &&
        detail::copy_round(table, b, previous, round)) {
      sink = sink + round.signals.size();
    }
    detail::drop_dead_participants(table, b, detail::kNoAgent,
                                   [&](std::uint32_t p) { sink = sink + p; });
  }
  (void)sink;
  return 0;
}
