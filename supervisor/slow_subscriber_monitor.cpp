#include "supervisor/slow_subscriber_monitor.hpp"

#include <algorithm>
#include <cmath>

#include "shm/ring/slot_seq.hpp"

namespace shmbus::detail {

SlowSubscriberMonitor::SlowSubscriberMonitor(Segment& segment, SlotPins& pins,
                                             const SupervisorConfig& config)
    : seg_(segment),
      pins_(pins),
      config_(config),
      state_(std::size_t{segment.config().max_agents} * kRingCount),
      stall_(segment.config().max_agents) {}

void SlowSubscriberMonitor::untether(std::uint32_t agent, std::uint32_t r, CursorState& st,
                                     std::uint64_t tail, bool stalled,
                                     std::vector<UntetherAction>& out) {
  ReaderCursor& cur = seg_.agent(agent).cursors[r];
  // Cursor contract (ring_reader.hpp): the cursor names the event in hand, zero-copy while
  // tethered. Pin that slot before producers may pass it, clear the tether, then pin the slot
  // the cursor names now if it moved meanwhile (the reader may have taken one more event
  // before it saw the flag). The reader stores its cursor (release) and then loads the flag
  // (acquire): a store->load pair the CPU may reorder, so our re-read can miss its latest
  // store. It can only have taken the next event that way, so that slot is pinned as well.
  const std::uint64_t c1 = cur.position.load(std::memory_order_seq_cst);
  Pin pin;
  pin.ring = r;
  pin.position = c1;
  pin.kind = PinKind::kReader;
  pin.agent = agent;
  pin.agent_epoch = st.epoch;
  pins_.pin(pin);
  cur.untethered_at.store(c1, std::memory_order_relaxed);
  cur.gap_pending.store(1, std::memory_order_relaxed);
  cur.flags.fetch_and(~static_cast<std::uint32_t>(kReaderTethered), std::memory_order_seq_cst);
  const std::uint64_t c2 = cur.position.load(std::memory_order_seq_cst);
  pin.position = c1 + 1;
  pins_.pin(pin);
  if (c2 != c1 && c2 != c1 + 1) {
    pin.position = c2;
    pins_.pin(pin);
  }
  seg_.header().agents_untethered.fetch_add(1, std::memory_order_relaxed);
  st.tethered = false;
  st.untethered_by_us = true;
  st.untethered_at = c1;
  st.behind_since_ns = 0;
  out.push_back(UntetherAction{agent, r, c1, tail > c1 ? tail - c1 : 0, stalled});
}

bool SlowSubscriberMonitor::observe(std::uint32_t i, std::uint32_t r, const AgentInfo& a,
                                    std::uint64_t now_ns, std::vector<sys::GapNotice>& gaps) {
  AgentRecord& rec = seg_.agent(i);
  CursorState& st = state(i, r);
  bool moved = false;
  if (!st.known || st.epoch != a.epoch) {
    st = CursorState{};
    st.known = true;
    st.epoch = a.epoch;
    st.missed_seen = rec.counters[r].missed.load(std::memory_order_relaxed);
    moved = true;
  }
  ReaderCursor& cur = rec.cursors[r];
  const std::uint32_t flags = cur.flags.load(std::memory_order_acquire);
  st.reading = (flags & kReaderActive) != 0;
  if (!st.reading) {
    st.tethered = false;
    st.lag = 0;
    st.ready = false;
    st.behind_since_ns = 0;
    return moved;
  }
  const bool tethered = (flags & kReaderTethered) != 0;
  const std::uint64_t pos = cur.position.load(std::memory_order_acquire);
  const std::uint64_t tail = seg_.ring(r).tail.load(std::memory_order_acquire);
  const std::uint64_t prev_pos = st.position;
  st.lag = tail > pos ? tail - pos : 0;

  // Gap notices: the reader counts positions it lost to laps (only possible untethered).
  const std::uint64_t missed = rec.counters[r].missed.load(std::memory_order_relaxed);
  if (missed > st.missed_seen) {
    sys::GapNotice g{};
    g.first_missed_position = st.untethered_by_us ? std::max(prev_pos, st.untethered_at) : prev_pos;
    g.missed = missed - st.missed_seen;
    g.detect_mono_ns = now_ns;
    g.agent_index = i;
    g.ring = static_cast<Priority>(r);
    g.reason = cur.gap_pending.load(std::memory_order_relaxed) != 0 || st.untethered_by_us
                   ? sys::GapReason::kUntethered
                   : sys::GapReason::kLapped;
    set_symbol(g.agent, a.name);
    gaps.push_back(g);
    cur.gap_pending.store(0, std::memory_order_relaxed);
    st.missed_seen = missed;
  }

  if (moved || pos != st.position) {
    moved = true;
    st.position = pos;
    cur.last_move_ns.store(now_ns, std::memory_order_relaxed);  // diagnostics for the CLI
  }
  // Ready: an event (or padding) waits at the cursor. A subscriber waiting at an uncommitted
  // slot is not slow: that is a stuck claim, closed by the unblock timeout.
  const std::uint64_t seq = seg_.slot(r, pos).seq.load(std::memory_order_acquire);
  st.ready = pos < tail && seq_settled(seq, pos);
  const std::uint64_t usable = seg_.config().ring_capacity[r] - seg_.config().history_depth;
  const auto lag_limit = static_cast<std::uint64_t>(
      std::ceil(config_.slow_subscribers.lag * static_cast<double>(usable)));
  if (st.lag >= lag_limit && st.lag > 0) {
    if (st.behind_since_ns == 0) st.behind_since_ns = now_ns;
  } else {
    st.behind_since_ns = 0;
  }
  if (tethered && st.untethered_by_us && !st.tethered) {
    st.untethered_by_us = false;  // the reader caught up and re-tethered itself
    cur.gap_pending.store(0, std::memory_order_relaxed);
  }
  st.tethered = tethered;
  return moved;
}

void SlowSubscriberMonitor::check(std::uint64_t now_ns, const AgentRoster& roster,
                                  std::uint32_t self, std::vector<UntetherAction>& untethered,
                                  std::vector<sys::GapNotice>& gaps) {
  const SlowSubscriberPolicy& policy = config_.slow_subscribers;
  const auto stall_ns = static_cast<std::uint64_t>(policy.stall_timeout.count());
  const auto behind_ns = static_cast<std::uint64_t>(policy.behind_for.count());
  const std::uint32_t n = seg_.config().max_agents;
  for (std::uint32_t i = 0; i < n; ++i) {
    const AgentInfo& a = roster.at(i);
    AgentStall& stall = stall_[i];
    if (!a.present || i == self) {
      for (std::uint32_t r = 0; r < kRingCount; ++r) state(i, r) = CursorState{};
      stall = AgentStall{};
      continue;
    }
    if (stall.epoch != a.epoch) stall = AgentStall{a.epoch, 0};
    bool moved = false;
    bool ready = false;
    for (std::uint32_t r = 0; r < kRingCount; ++r) {
      moved = observe(i, r, a, now_ns, gaps) || moved;
      ready = ready || state(i, r).ready;
    }
    // Stalled: something waits for this subscriber and none of its cursors moves. One that
    // drains a higher-priority ring meanwhile is busy, not stalled (the lag rule covers it).
    if (moved || !ready) {
      stall.since_ns = 0;
    } else if (stall.since_ns == 0) {
      stall.since_ns = now_ns;
    }
    if (!policy.untether) continue;
    const bool stalled = stall.since_ns != 0 && now_ns - stall.since_ns >= stall_ns;
    for (std::uint32_t r = 0; r < kRingCount; ++r) {
      CursorState& st = state(i, r);
      if (!st.reading || !st.tethered) continue;
      const bool behind = st.behind_since_ns != 0 && now_ns - st.behind_since_ns >= behind_ns;
      if ((stalled && st.ready) || behind) {
        untether(i, r, st, seg_.ring(r).tail.load(std::memory_order_acquire), stalled && st.ready,
                 untethered);
      }
    }
  }

  pins_.release_if([&](const Pin& p) {
    if (p.kind != PinKind::kReader) return false;
    if (!roster.is(p.agent, p.agent_epoch)) return true;  // left or died
    const ReaderCursor& cur = seg_.agent(p.agent).cursors[p.ring];
    if ((cur.flags.load(std::memory_order_acquire) & kReaderActive) == 0) return true;
    return cur.position.load(std::memory_order_acquire) > p.position;
  });
}

std::uint64_t SlowSubscriberMonitor::stalled_for(std::uint32_t agent,
                                                 std::uint64_t now_ns) const noexcept {
  const std::uint64_t since = stall_[agent].since_ns;
  return since != 0 && now_ns > since ? now_ns - since : 0;
}

std::uint8_t SlowSubscriberMonitor::untethered_mask(std::uint32_t agent) const noexcept {
  std::uint8_t mask = 0;
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const CursorState& st = state_[agent * kRingCount + r];
    if (st.reading && !st.tethered) mask = static_cast<std::uint8_t>(mask | (1u << r));
  }
  return mask;
}

}  // namespace shmbus::detail
