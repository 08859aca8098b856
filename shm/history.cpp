#include "shm/history.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "shm/ring/slot_seq.hpp"

namespace shmbus::detail {

Result<std::vector<OwnedEvent>> read_history(Segment& seg, TopicRegistry& topics,
                                             std::string_view pattern, std::size_t limit) {
  if (auto e = validate_topic_pattern(pattern); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  std::vector<OwnedEvent> all;
  if (limit == 0) return all;
  const SegmentConfig& cfg = seg.config();
  std::vector<std::byte> copy(cfg.slot_stride);
  std::vector<OwnedEvent> per_ring[kRingCount];
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const std::uint64_t cap = cfg.ring_capacity[r];
    const std::uint64_t tail = seg.ring(r).tail.load(std::memory_order_acquire);
    const std::uint64_t lowest = tail > cap ? tail - cap : 0;
    std::vector<OwnedEvent> ring_events;
    for (std::uint64_t p = tail; p > lowest && ring_events.size() < limit;) {
      --p;
      SlotHeader& slot = seg.slot(r, p);
      const std::uint64_t s = slot.seq.load(std::memory_order_acquire);
      if (seq_lapped(s, p)) break;         // a later lap owns the slot: older events are gone
      if (!seq_committed(s, p)) continue;  // padding, or a claim not committed yet
      const std::uint32_t len = slot.length;
      if (len > cfg.max_payload_bytes) continue;  // corrupt slot: never read past it
      std::memcpy(copy.data(), static_cast<const void*>(&slot), sizeof(SlotHeader) + len);
      std::atomic_thread_fence(std::memory_order_acquire);
      // Producers write a reused slot before they change its seq, so besides the seq re-check
      // the copy is good only if nobody has claimed position p + capacity yet (claims precede
      // the writes; the fence orders our copy before this load).
      if (slot.seq.load(std::memory_order_relaxed) != s ||
          seg.ring(r).tail.load(std::memory_order_acquire) > p + cap) {
        break;
      }
      const auto& h = *reinterpret_cast<const SlotHeader*>(copy.data());
      const CachedTopic* t = topics.get(h.topic_id);
      if (t == nullptr || !topic_matches(pattern, t->name)) continue;
      OwnedEvent e;
      e.topic = h.topic_id;
      e.priority = static_cast<Priority>(r);
      e.flags = static_cast<std::uint16_t>(h.flags | kFlagFromHistory);
      e.schema_version = h.schema_version;
      e.id = EventId{h.producer, h.producer_epoch, h.producer_seq};
      e.timestamp_ns = h.timestamp_ns;
      e.position = p;
      e.topic_name = t->name;
      const std::byte* payload = copy.data() + sizeof(SlotHeader);
      e.payload.assign(payload, payload + len);
      ring_events.push_back(std::move(e));
    }
    std::reverse(ring_events.begin(), ring_events.end());
    per_ring[r] = std::move(ring_events);
  }
  // Merge the rings by timestamp, each ring kept in its own order (a four-way merge, not a
  // sort: producers stamp before they claim, so a ring is only nearly timestamp-ordered).
  std::size_t next[kRingCount] = {};
  for (;;) {
    std::uint32_t best = kRingCount;
    for (std::uint32_t r = 0; r < kRingCount; ++r) {
      if (next[r] == per_ring[r].size()) continue;
      if (best == kRingCount ||
          per_ring[r][next[r]].timestamp_ns < per_ring[best][next[best]].timestamp_ns) {
        best = r;
      }
    }
    if (best == kRingCount) break;
    all.push_back(std::move(per_ring[best][next[best]++]));
  }
  return all;
}

}  // namespace shmbus::detail
