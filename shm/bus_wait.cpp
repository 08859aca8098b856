// BusImpl, the dispatch loop: poll (strict priority across rings), gaps, heartbeats,
// recovery from a dead producer without a supervisor, and the idle wait (spin, yield or
// futex) of poll_wait and run.
#include "shm/bus_impl.hpp"

#include <sched.h>
#include <time.h>

#include "shm/clock.hpp"
#include "shm/futex.hpp"

namespace shmbus::detail {

namespace {
constexpr std::uint64_t kStuckCheckNs = 2'000'000;  // how often idle readers look at tails
}  // namespace

void BusImpl::report_gaps() noexcept {
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const std::uint64_t missed = readers_[r].take_missed();
    if (missed == 0) continue;
    missed_total_ += missed;
    rec_->counters[r].missed.fetch_add(missed, std::memory_order_relaxed);
    if (gap_handler_) {
      try {
        gap_handler_(static_cast<Priority>(r), missed);
      } catch (...) {
        rec_->handler_errors.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

std::size_t BusImpl::poll(std::size_t max_events) noexcept {
  if (!readers_active_) return 0;
  std::size_t n = 0;
  ReadEvent ev;
  while (n < max_events) {
    // Highest priority first, re-checked before every event of a lower ring.
    std::uint32_t r = 0;
    for (; r < kRingCount; ++r) {
      if (readers_[r].next(ev)) break;
    }
    if (r == kRingCount) break;
    // An event of a higher ring committed before this one (e.g. by the same producer) is
    // visible now that we acquired this one's seq: take it first (next() is idempotent).
    // A higher ring with claims still in flight ahead of us may hold such an event behind
    // another producer's slot: leave this lower event until those commit (or are padded).
    bool higher = false;
    bool in_flight = false;
    for (std::uint32_t h = 0; h < r && !higher; ++h) {
      higher = readers_[h].pending();
      in_flight = in_flight || readers_[h].tail() > readers_[h].position();
    }
    if (higher) continue;
    if (in_flight) break;
    dispatch(r, ev);
    readers_[r].advance();
    ++n;
  }
  for (auto& reader : readers_) reader.store_cursor();
  report_gaps();
  return n;
}

bool BusImpl::any_pending() const noexcept {
  for (const auto& r : readers_) {
    if (r.pending_seq_cst()) return true;
  }
  return false;
}

void BusImpl::heartbeat() noexcept {
  const std::uint64_t now = monotonic_ns();
  last_heartbeat_ns_ = now;
  rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
}

void BusImpl::recover_stuck() noexcept {
  // A reader waiting on a claimed-but-uncommitted slot may be waiting on a dead producer.
  // The supervisor handles this; without one, we sweep dead agents ourselves now and then.
  const std::uint64_t now = monotonic_ns();
  if (now - last_recover_ns_.load(std::memory_order_relaxed) < kRecoverCheckNs) return;
  // Reading a ring's tail pulls the line every producer CASes away from them: an idle
  // dispatcher that looked every few microseconds cost each publish a cross-core miss.
  if (now - last_stuck_check_ns_ < kStuckCheckNs) return;
  last_stuck_check_ns_ = now;
  bool stuck = false;
  for (const auto& r : readers_) stuck = stuck || (r.active() && r.tail() > r.position());
  if (!stuck) return;
  last_recover_ns_.store(now, std::memory_order_relaxed);
  try {
    (void)sweep_dead_agents(*seg_, self_);
  } catch (...) {
  }
}

void BusImpl::idle_wait(std::uint64_t deadline_ns, std::uint32_t idle_rounds) noexcept {
  const std::uint64_t period = static_cast<std::uint64_t>(options_.heartbeat_period.count());
  if ((idle_rounds & 255) == 0) {
    const std::uint64_t now = monotonic_ns();
    if (now - last_heartbeat_ns_ >= period / 2) heartbeat();
    recover_stuck();
  }
  switch (options_.wait) {
    case WaitStrategy::kBusySpin:
      cpu_relax();
      return;
    case WaitStrategy::kSpinYield:
      if (idle_rounds < 64) {
        cpu_relax();
      } else {
        sched_yield();
      }
      return;
    case WaitStrategy::kBlock: {
      if (idle_rounds < 64) {
        cpu_relax();
        return;
      }
      SegmentHeader& h = seg_->header();
      h.waiters.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t word = h.wake_word.load(std::memory_order_seq_cst);
      if (!any_pending() && !stop_.load(std::memory_order_seq_cst)) {
        std::uint64_t now = monotonic_ns();
        std::uint64_t timeout = period;
        if (deadline_ns > now && deadline_ns - now < timeout) timeout = deadline_ns - now;
        // Readers stuck behind an uncommitted slot wake up to check for a dead producer.
        if (timeout > kRecoverCheckNs) timeout = kRecoverCheckNs;
        futex_wait(&h.wake_word, word, timeout);
      }
      h.waiters.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
  }
}

std::size_t BusImpl::poll_wait(std::size_t max_events, std::uint64_t timeout_ns) noexcept {
  std::uint64_t deadline = ~0ull;
  for (std::uint32_t idle = 0;; ++idle) {
    if (const std::size_t n = poll(max_events); n != 0) return n;
    // Load first: the idle loop must not run a locked exchange on every round.
    if (stop_.load(std::memory_order_relaxed) && stop_.exchange(false, std::memory_order_relaxed)) {
      return 0;
    }
    // The clock is read only once idle, and then every 64 rounds.
    if ((idle & 63) == 0) {
      const std::uint64_t now = monotonic_ns();
      if (idle == 0) deadline = timeout_ns > ~0ull - now ? ~0ull : now + timeout_ns;
      if (now >= deadline) return 0;
    }
    idle_wait(deadline, idle);
  }
}

void BusImpl::run(std::uint64_t deadline_ns) {
  std::uint32_t idle = 0;
  std::uint32_t busy = 0;
  const std::uint64_t period = static_cast<std::uint64_t>(options_.heartbeat_period.count());
  while (!stop_.load(std::memory_order_relaxed)) {
    if (poll(1u << 16) != 0) {
      idle = 0;
      // A busy dispatcher still heartbeats; the clock is read every 64 batches only.
      if ((++busy & 63) == 0) {
        const std::uint64_t now = monotonic_ns();
        if (now - last_heartbeat_ns_ >= period / 2) heartbeat();
        if (now >= deadline_ns) break;
      }
      continue;
    }
    if (monotonic_ns() >= deadline_ns) break;
    idle_wait(deadline_ns, idle++);
  }
  stop_.store(false, std::memory_order_relaxed);
}

void BusImpl::stop() noexcept {
  stop_.store(true, std::memory_order_seq_cst);
  SegmentHeader& h = seg_->header();
  h.wake_word.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(&h.wake_word);
}

}  // namespace shmbus::detail
