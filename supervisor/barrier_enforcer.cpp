// enforce_barriers: the supervisor's side of the barrier protocol (shm/barrier_round.cpp).
// Everything it does, a waiter could also do; the supervisor does it on time when none does.
#include "supervisor/barrier_enforcer.hpp"

#include <atomic>

#include "shm/barrier_registry.hpp"

namespace shmbus::detail {

void enforce_barriers(Segment& seg, std::uint64_t now_ns, const BarrierEnforcementSink& sink,
                      std::uint32_t self) {
  BarrierTable t(seg);
  SealedRound sealed;
  for (std::uint32_t b = 0; b < t.capacity(); ++b) {
    BarrierHeader& h = t.header(b);
    if (h.state.load(std::memory_order_acquire) !=
        static_cast<std::uint32_t>(BarrierRecordState::kActive)) {
      continue;
    }
    drop_dead_participants(t, b, self, [&](std::uint32_t p) {
      if (!sink) return;
      BarrierEnforcement e;
      e.kind = BarrierEnforcement::Kind::kParticipantDropped;
      e.barrier_index = b;
      e.barrier = barrier_name(h);
      e.generation = round_gen(h.round.load(std::memory_order_acquire));
      e.participant = participant_name(t.participant(b, p));
      e.participant_index = p;
      e.agent_index = agent_ref_index(t.participant(b, p).bound.load(std::memory_order_relaxed));
      sink(e);
    });
    const std::uint64_t r = h.round.load(std::memory_order_acquire);
    bool close = round_closing(r);  // a closer is at work, or died half-way: help it
    if (!close) {
      const RoundScan s = scan_round(t, b);
      close = s.round == r && s.arrived > 0 && now_ns >= s.first_arrive_ns + h.timeout_ns;
    }
    if (!close || seal_round(t, b, round_gen(r), sealed) != SealResult::kSealed) continue;
    if (advance_round(t, b, sealed, now_ns) && sink) {
      sink(closed_round_record(t, b, sealed, now_ns));
    }
  }
}

}  // namespace shmbus::detail
