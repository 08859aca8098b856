// The waiter's side of a Barrier handle: wait for a round to be complete or past its deadline,
// close it (seal, copy, advance), publish its sys.barrier.* event, or read a round that closed
// without us. The protocol it follows is at the top of shm/barrier_round.cpp.
#include <sched.h>

#include <algorithm>

#include "shm/barrier_registry.hpp"
#include "shm/barrier_state.hpp"
#include "shm/clock.hpp"
#include "shm/futex.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

// On the CRITICAL ring with kFlagSystem, like the supervisor's sys.* events. With the agent's
// FullPolicy::kWait a full ring delays the waiter up to its publish_timeout; the result is
// ignored (an event lost to a full ring does not fail the round).
void BarrierState::publish(const SealedRound& s, std::uint64_t now_ns) noexcept {
  const BarrierEnforcement e = closed_round_record(table, index, s, now_ns);
  if (s.complete) {
    const sys::BarrierCompleted ev = to_completed_event(e);
    (void)impl->publisher().publish(completed_topic, &ev, sizeof(ev), Priority::kCritical,
                                    kFlagSystem);
  } else {
    const sys::BarrierTimeout ev = to_timeout_event(e);
    (void)impl->publisher().publish(timeout_topic, &ev, sizeof(ev), Priority::kCritical,
                                    kFlagSystem);
  }
}

// Seals round g (or helps seal it), copies it into `out`, and advances it. False when the
// round is already past (the caller then reads it as a closed round).
bool BarrierState::close_and_take(std::uint64_t g, BarrierRound& out) {
  if (seal_round(table, index, g, sealed) != SealResult::kSealed) return false;
  // Copied before the advance: until then no participant may write either buffer parity.
  const bool copied = copy_round(table, index, sealed, out);
  const std::uint64_t now = monotonic_ns();
  const bool won = advance_round(table, index, sealed, now);
  if (won) publish(sealed, now);
  if (!copied) return false;  // only for corrupt lengths: reported as a lost round
  out.closed_mono_ns = now;
  out.closed_here = won;
  out.skipped = lost;
  lost = 0;
  want = g + 1;
  return true;
}

// Reads round g after it advanced without us.
bool BarrierState::take_closed(std::uint64_t g, BarrierRound& out) {
  if (!read_sealed(table, index, g, sealed) || !copy_round(table, index, sealed, out)) {
    return false;
  }
  out.closed_mono_ns = monotonic_ns();
  out.closed_here = false;
  return true;
}

// Drops participants whose process died (the supervisor does the same for every barrier);
// done by the waiter too so a bus without a supervisor still stops waiting for the dead.
void BarrierState::poll_liveness(std::uint64_t now) {
  if (now - last_poll_ns < kPollNs) return;
  last_poll_ns = now;
  drop_dead_participants(table, index, self, {});
  beat(now);
}

void BarrierState::sleep_for_arrivals(const RoundScan& scan, std::uint32_t word,
                                      std::uint64_t wake_at, WaitStrategy strategy,
                                      std::uint32_t& spins) noexcept {
  BarrierHeader& h = header();
  const std::uint32_t live = scan.participants - std::min(scan.participants, scan.dropped_missing);
  const std::uint64_t needed =
      scan.arrived == 0 ? 1 : std::max<std::uint64_t>(1, live - std::min(live, scan.arrived));
  const std::uint64_t wake_count = scan.arrivals + needed;
  auto changed = [&]() noexcept {
    return h.arrivals.load(std::memory_order_seq_cst) >= wake_count ||
           h.round.load(std::memory_order_seq_cst) != scan.round ||
           h.arrive_word.load(std::memory_order_seq_cst) != word;
  };
  if (strategy == WaitStrategy::kBusySpin ||
      (strategy == WaitStrategy::kSpinYield && spins < kSpinsBeforeYield) ||
      (strategy == WaitStrategy::kBlock && spins < kSpinsBeforeSleep)) {
    // Spin on the three words (all on two cache lines) until something moves; read the clock
    // only every 64 rounds.
    for (std::uint32_t i = 0; !changed(); ++i) {
      cpu_relax();
      if ((i & 63) == 63 && monotonic_ns() >= wake_at) break;
      if (strategy != WaitStrategy::kBusySpin && ++spins >= kSpinsBeforeSleep) break;
    }
    return;
  }
  if (strategy == WaitStrategy::kSpinYield) {
    if (!changed()) sched_yield();
    return;
  }
  const std::uint64_t now = monotonic_ns();
  if (now >= wake_at) return;
  h.wake_target.store(wake_count, std::memory_order_seq_cst);
  h.sleepers.fetch_add(1, std::memory_order_seq_cst);
  if (h.arrivals.load(std::memory_order_seq_cst) < wake_count &&
      h.round.load(std::memory_order_seq_cst) == scan.round) {
    futex_wait(&h.arrive_word, word, std::min(wake_at - now, kPollNs));
  }
  h.sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

Result<void> BarrierState::wait_round(BarrierRound& out, std::uint64_t timeout_ns,
                                      WaitStrategy strategy) {
  if (!waiter) {
    return make_error(Errc::kState, "barrier '" + name + "': not the waiter (become_waiter())");
  }
  BarrierHeader& h = header();
  const std::uint64_t start = monotonic_ns();
  const std::uint64_t end = add_sat(start, timeout_ns);
  const std::uint64_t timeout_round = h.timeout_ns;
  std::uint32_t spins = 0;
  for (;;) {
    if (gone()) return gone_error();
    if (h.waiter.load(std::memory_order_acquire) != self_ref) {
      waiter = false;
      return make_error(Errc::kState, "barrier '" + name + "': another waiter took over");
    }
    // The word first: a change made after this load makes the futex wait return at once.
    const std::uint32_t word = h.arrive_word.load(std::memory_order_seq_cst);
    const std::uint64_t r = h.round.load(std::memory_order_acquire);
    const std::uint64_t g = round_gen(r);
    if (g > want) {
      // Rounds from `want` on closed without us (deadline, by the supervisor). The oldest that
      // is still readable comes first: `want`, or else the last closed one.
      if (take_closed(want, out)) {
        out.skipped = lost;
        lost = 0;
        ++want;
        return {};
      }
      if (g - 1 > want && take_closed(g - 1, out)) {
        out.skipped = g - 1 - want + lost;
        lost = 0;
        want = g;
        return {};
      }
      if (h.round.load(std::memory_order_acquire) == r) {
        // Unreadable although nothing moved: corrupt segment bytes. Count the rounds as lost
        // rather than spin on them.
        lost += g - want;
        want = g;
      }
      continue;  // moved on again while we read; retry
    }
    if (g < want) {  // a round before ours is closing: help it finish
      if (round_closing(r) && seal_round(table, index, g, sealed) == SealResult::kSealed &&
          advance_round(table, index, sealed, monotonic_ns())) {
        publish(sealed, monotonic_ns());
      }
      if (!round_closing(r)) want = g;  // cannot happen (want <= open round); self-repair
      continue;
    }
    // g == want
    if (round_closing(r)) {
      if (close_and_take(g, out)) return {};
      continue;
    }
    const RoundScan scan = scan_round(table, index);
    if (scan.round != r) continue;
    std::uint64_t now = monotonic_ns();
    const std::uint64_t deadline =
        scan.arrived > 0 ? add_sat(scan.first_arrive_ns, timeout_round) : kNever;
    if (scan.all_in()) {
      if (close_and_take(g, out)) return {};
      continue;
    }
    if (now >= deadline) {
      // Mark the dead as dropped first, so the round reports them as such.
      last_poll_ns = 0;
      poll_liveness(now);
      if (close_and_take(g, out)) return {};
      continue;
    }
    const std::uint64_t drops = h.drops.load(std::memory_order_relaxed);
    poll_liveness(now);                                              // at most every kPollNs
    if (h.drops.load(std::memory_order_relaxed) != drops) continue;  // may be all in now
    if (now >= end) {
      return make_error(Errc::kTimeout, "barrier '" + name + "': round " + std::to_string(g) +
                                            " did not close within " +
                                            std::to_string(timeout_ns / 1'000'000) + " ms (" +
                                            std::to_string(scan.arrived) + " of " +
                                            std::to_string(scan.participants) + " arrived)");
    }
    sleep_for_arrivals(scan, word, std::min({deadline, end, add_sat(now, kPollNs)}), strategy,
                       spins);
  }
}

}  // namespace shmbus::detail
