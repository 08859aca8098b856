#include "supervisor/stuck_claim_monitor.hpp"

#include <algorithm>

#include "shm/agent_table.hpp"
#include "shm/ring/slot_seq.hpp"

namespace shmbus::detail {

namespace {
bool active(const AgentRecord& rec) {
  return rec.state.load(std::memory_order_acquire) ==
         static_cast<std::uint32_t>(AgentState::kActive);
}
}  // namespace

bool StuckClaimMonitor::slot_done(std::uint32_t r, std::uint64_t pos) const noexcept {
  // Committed, padded, or already reused by a later lap.
  return seq_settled(seg_.slot(r, pos).seq.load(std::memory_order_acquire), pos);
}

std::uint32_t StuckClaimMonitor::live_claimant(std::uint32_t r, std::uint64_t pos) const noexcept {
  const std::uint32_t n = seg_.config().max_agents;
  for (std::uint32_t i = 0; i < n; ++i) {
    const AgentRecord& rec = seg_.agent(i);
    if (!active(rec)) continue;
    const std::uint64_t c = rec.claiming[r].load(std::memory_order_acquire) & ~kClaimConfirmed;
    if (c == pos + 1 && seg_.agent_alive(i)) return i;
  }
  return kNoAgent;
}

bool StuckClaimMonitor::untethered_reader_at(std::uint32_t r, std::uint64_t pos) const noexcept {
  const std::uint32_t n = seg_.config().max_agents;
  for (std::uint32_t i = 0; i < n; ++i) {
    const AgentRecord& rec = seg_.agent(i);
    if (!active(rec)) continue;
    const ReaderCursor& c = rec.cursors[r];
    const std::uint32_t f = c.flags.load(std::memory_order_acquire);
    if ((f & kReaderActive) == 0 || (f & kReaderTethered) != 0) continue;
    if (c.position.load(std::memory_order_acquire) == pos) return true;
  }
  return false;
}

void StuckClaimMonitor::check(std::uint64_t now_ns, std::vector<ClosedClaim>& closed) {
  for (Candidate& c : candidates_) c.seen = false;
  const std::uint32_t n = seg_.config().max_agents;
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const std::uint64_t tail = seg_.ring(r).tail.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < n; ++i) {
      const AgentRecord& rec = seg_.agent(i);
      if (!active(rec)) continue;
      const ReaderCursor& cur = rec.cursors[r];
      if ((cur.flags.load(std::memory_order_acquire) & kReaderActive) == 0) continue;
      const std::uint64_t pos = cur.position.load(std::memory_order_acquire);
      // A subscriber waits at `pos`: claimed (below the tail) but not yet readable.
      if (pos >= tail || slot_done(r, pos)) continue;
      auto it = std::find_if(candidates_.begin(), candidates_.end(),
                             [&](const Candidate& c) { return c.ring == r && c.position == pos; });
      if (it == candidates_.end()) {
        candidates_.push_back(Candidate{r, pos, now_ns, true});
      } else {
        it->seen = true;
      }
    }
  }
  std::erase_if(candidates_, [](const Candidate& c) { return !c.seen; });
  const auto timeout = static_cast<std::uint64_t>(config_.unblock_timeout.count());
  std::erase_if(candidates_, [&](const Candidate& c) {
    if (now_ns - c.first_seen_ns < timeout) return false;
    close(c, now_ns, closed);
    return true;
  });
}

void StuckClaimMonitor::close(const Candidate& c, std::uint64_t now_ns,
                              std::vector<ClosedClaim>& closed) {
  ClosedClaim out;
  out.ring = c.ring;
  out.position = c.position;
  out.stuck_ns = now_ns - c.first_seen_ns;
  out.claimant = live_claimant(c.ring, c.position);
  bool padded = false;
  if (out.claimant != kNoAgent) {
    // Quarantine before the pad: a producer that later sees this slot padded (and reuses the
    // positions around it) also sees the quarantine, so the live claimant's late writes land
    // in a slot nobody reads and no producer reuses until we release it.
    Pin pin;
    pin.ring = c.ring;
    pin.position = c.position;
    pin.kind = PinKind::kClaim;
    pin.agent = out.claimant;
    pin.agent_epoch = seg_.agent(out.claimant).epoch;
    pins_.pin(pin);
    padded = pad_slot(seg_.slot(c.ring, c.position), c.position);
    if (!padded) {  // it committed meanwhile: nothing to hold
      pins_.release_if([&](const Pin& p) {
        return p.kind == PinKind::kClaim && p.ring == c.ring && p.position == c.position &&
               p.agent == out.claimant;
      });
    }
    out.quarantined = padded;
  } else {
    padded = pad_slot(seg_.slot(c.ring, c.position), c.position);
  }
  if (!padded) return;
  seg_.ring(c.ring).padded.fetch_add(1, std::memory_order_relaxed);
  if (out.quarantined) seg_.ring(c.ring).quarantined.fetch_add(1, std::memory_order_relaxed);
  seg_.header().claims_padded.fetch_add(1, std::memory_order_relaxed);
  closed.push_back(out);
}

void StuckClaimMonitor::release_pins() {
  pins_.release_if([&](const Pin& p) {
    switch (p.kind) {
      case PinKind::kClaim:
        return live_claimant(p.ring, p.position) == kNoAgent;
      case PinKind::kAdopted:
        return live_claimant(p.ring, p.position) == kNoAgent &&
               !untethered_reader_at(p.ring, p.position);
      case PinKind::kReader:
        return false;  // the slow-subscriber monitor owns these
    }
    return false;
  });
}

}  // namespace shmbus::detail
