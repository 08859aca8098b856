// read_stats (shmbus/stats.hpp): a relaxed snapshot of the segment's counters.
#include "shmbus/stats.hpp"

#include <cstring>
#include <exception>

#include "shm/bus_access.hpp"
#include "shm/dead_letter_area.hpp"
#include "shm/segment.hpp"
#include "shm/topic_registry.hpp"
#include "shmbus/fixed_text.hpp"

namespace shmbus {

static_assert(LatencyHistogram::kBuckets == detail::kLatencyBuckets);

std::uint64_t LatencyHistogram::total() const noexcept {
  std::uint64_t n = 0;
  for (std::uint64_t c : counts) n += c;
  return n;
}

std::size_t LatencyHistogram::percentile_bucket(double q) const noexcept {
  const std::uint64_t n = total();
  if (n == 0) return kBuckets;
  if (q <= 0) q = 1e-12;
  if (q > 1) q = 1;
  // The rank of the q-quantile, 1-based, rounded up: at least ceil(q * n) samples at or below.
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(n));
  if (static_cast<double>(rank) < q * static_cast<double>(n)) ++rank;
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    seen += counts[b];
    if (seen >= rank) return b;
  }
  return kBuckets - 1;
}

std::uint64_t LatencyHistogram::percentile_ns(double q) const noexcept {
  const std::size_t b = percentile_bucket(q);
  return b == kBuckets ? 0 : upper_ns(b);
}

namespace {

using detail::Segment;

BusStats collect(Segment& seg) {
  BusStats st;
  const detail::SegmentConfig& cfg = seg.config();
  for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
    const detail::RingHeader& ring = seg.ring(r);
    st.rings[r].tail = ring.tail.load(std::memory_order_acquire);
    st.rings[r].capacity = cfg.ring_capacity[r];
    st.rings[r].padded = ring.padded.load(std::memory_order_relaxed);
  }
  for (std::uint32_t i = 0; i < cfg.max_agents; ++i) {
    const detail::AgentRecord& rec = seg.agent(i);
    if (rec.state.load(std::memory_order_acquire) !=
        static_cast<std::uint32_t>(detail::AgentState::kActive)) {
      continue;
    }
    AgentStats a;
    a.index = i;
    a.name = symbol_view(rec.name);
    a.pid = rec.pid;
    for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
      const detail::RingCounters& c = rec.counters[r];
      RingAgentStats& out = a.rings[r];
      out.published = c.published.load(std::memory_order_relaxed);
      out.delivered = c.delivered.load(std::memory_order_relaxed);
      out.consumed = c.consumed.load(std::memory_order_relaxed);
      out.shed = c.shed.load(std::memory_order_relaxed);
      out.full = c.full.load(std::memory_order_relaxed);
      out.rate_limited = c.rate_limited.load(std::memory_order_relaxed);
      out.aborted = c.aborted.load(std::memory_order_relaxed);
      out.missed = c.missed.load(std::memory_order_relaxed);
      const std::uint32_t flags = rec.cursors[r].flags.load(std::memory_order_acquire);
      out.reading = (flags & detail::kReaderActive) != 0;
      out.tethered = (flags & detail::kReaderTethered) != 0;
      if (out.reading) {
        const std::uint64_t cursor = rec.cursors[r].position.load(std::memory_order_acquire);
        out.queue_depth = st.rings[r].tail > cursor ? st.rings[r].tail - cursor : 0;
        if (out.queue_depth > st.rings[r].max_queue_depth) {
          st.rings[r].max_queue_depth = out.queue_depth;
        }
      }
      a.published += out.published;
      a.delivered += out.delivered;
      a.shed += out.shed;
      a.dropped += out.full + out.rate_limited + out.aborted;
    }
    a.handler_failures = rec.handler_errors.load(std::memory_order_relaxed);
    a.handler_error_streak = rec.handler_error_streak.load(std::memory_order_relaxed);
    a.dead_lettered = rec.dead_lettered.load(std::memory_order_relaxed);
    a.handler_slow = rec.handler_slow.load(std::memory_order_relaxed);
    a.handlers_unsubscribed = rec.handlers_unsubscribed.load(std::memory_order_relaxed);
    for (std::size_t b = 0; b < LatencyHistogram::kBuckets; ++b) {
      a.latency.counts[b] = rec.latency_hist[b].load(std::memory_order_relaxed);
    }
    st.agents.push_back(std::move(a));
  }
  detail::TopicRegistry topics(seg);
  std::uint32_t n = topics.count();
  if (n > cfg.max_topics) n = cfg.max_topics;
  for (AgentStats& a : st.agents) {
    for (std::uint32_t t = 0; t < n; ++t) {
      const detail::TopicAgentCounters& c = seg.topic_counters(a.index, t);
      TopicCounts k;
      k.published = c.published.load(std::memory_order_relaxed);
      k.delivered = c.delivered.load(std::memory_order_relaxed);
      k.failed = c.failed.load(std::memory_order_relaxed);
      k.dead_lettered = c.dead_lettered.load(std::memory_order_relaxed);
      k.dropped = c.dropped.load(std::memory_order_relaxed);
      k.shed = c.shed.load(std::memory_order_relaxed);
      k.handlers = c.handlers.load(std::memory_order_relaxed);
      if ((k.published | k.delivered | k.failed | k.dead_lettered | k.dropped | k.shed |
           k.handlers) != 0) {
        a.topics.push_back(AgentTopicStats{t, k});
      }
    }
  }
  for (std::uint32_t t = 0; t < n && t < cfg.max_topics; ++t) {
    const detail::CachedTopic* ct = topics.get(t);
    if (ct == nullptr) break;
    TopicStats ts;
    ts.id = t;
    ts.name = ct->name;
    ts.payload_size = ct->payload_size;
    for (const AgentStats& a : st.agents) {
      for (const AgentTopicStats& at : a.topics) {
        if (at.topic != t) continue;
        ts.totals.published += at.counts.published;
        ts.totals.delivered += at.counts.delivered;
        ts.totals.failed += at.counts.failed;
        ts.totals.dead_lettered += at.counts.dead_lettered;
        ts.totals.dropped += at.counts.dropped;
        ts.totals.shed += at.counts.shed;
        ts.totals.handlers += at.counts.handlers;
        ts.subscribers += at.counts.handlers != 0 ? 1 : 0;
      }
    }
    st.topics.push_back(std::move(ts));
  }
  detail::DeadLetterArea dl(seg);
  st.dead_letters_written = dl.written();
  st.dead_letters_dropped = dl.dropped();
  st.dead_letter_capacity = dl.capacity();
  return st;
}

}  // namespace

Result<BusStats> read_stats(std::string_view bus_name) {
  try {
    auto seg = Segment::open(bus_name);
    if (!seg) return seg.error();
    return collect(**seg);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("read stats: ") + e.what());
  }
}

Result<BusStats> read_stats(Bus& bus) {
  try {
    return collect(detail::BusAccess::impl(bus).segment());
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("read stats: ") + e.what());
  }
}

}  // namespace shmbus
