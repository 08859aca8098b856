// inspect_bus: a read-only copy of a live segment for tools (shmbus/inspect.hpp). Maps the
// segment through Segment::open (which validates header, version and regions), then reads
// every record with acquire loads and treats each value as untrusted input.
#include "shmbus/inspect.hpp"

#include <cstring>
#include <exception>

#include "shm/barrier_registry.hpp"
#include "shm/clock.hpp"
#include "shm/error_log.hpp"
#include "shm/layout.hpp"
#include "shm/segment.hpp"
#include "shmbus/fixed_text.hpp"

namespace shmbus {

namespace {

using namespace detail;

sys::HealthState to_health(std::uint32_t v) noexcept {
  // Segment bytes are input: an out-of-range value reads as unknown.
  if (v > static_cast<std::uint32_t>(sys::HealthState::kDead)) {
    return sys::HealthState::kUnknown;
  }
  return static_cast<sys::HealthState>(v);
}

sys::BackpressureLevel to_level(std::uint32_t v) noexcept {
  if (v > static_cast<std::uint32_t>(sys::BackpressureLevel::kCritical)) {
    return sys::BackpressureLevel::kNormal;
  }
  return static_cast<sys::BackpressureLevel>(v);
}

std::uint64_t age(std::uint64_t now, std::uint64_t then) noexcept {
  return (then == 0 || then > now) ? 0 : now - then;
}

void read_agent(const Segment& seg, std::uint32_t i, std::uint64_t now,
                const std::array<std::uint64_t, kPriorityCount>& tails, AgentSnapshot& a) {
  const AgentRecord& rec = seg.agent(i);
  a.index = i;
  a.epoch = rec.epoch;
  a.pid = rec.pid;
  a.name = std::string(symbol_view(rec.name));
  a.alive = seg.agent_alive(i);
  a.health = to_health(rec.health.load(std::memory_order_relaxed));
  a.heartbeat_age_ns = age(now, rec.heartbeat_ns.load(std::memory_order_relaxed));
  a.handler_errors = rec.handler_errors.load(std::memory_order_relaxed);
  a.handler_error_streak = rec.handler_error_streak.load(std::memory_order_relaxed);
  a.max_delivery_latency_ns = rec.max_delivery_latency_ns.load(std::memory_order_relaxed);
  a.rate_limit_per_s = rec.rate_limit_per_s.load(std::memory_order_relaxed);
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const ReaderCursor& c = rec.cursors[r];
    const std::uint32_t f = c.flags.load(std::memory_order_acquire);
    const std::uint64_t pos = c.position.load(std::memory_order_acquire);
    const bool reads = (f & kReaderActive) != 0;
    if (reads) a.reading_mask = static_cast<std::uint8_t>(a.reading_mask | (1u << r));
    if (reads && (f & kReaderTethered) != 0) {
      a.tethered_mask = static_cast<std::uint8_t>(a.tethered_mask | (1u << r));
    }
    a.cursor[r] = pos;
    // A cursor past the tail is damage (or a tail read before the cursor moved): no lag.
    a.lag[r] = (reads && pos <= tails[r]) ? tails[r] - pos : 0;
    const RingCounters& k = rec.counters[r];
    a.published[r] = k.published.load(std::memory_order_relaxed);
    a.delivered[r] = k.delivered.load(std::memory_order_relaxed);
    a.consumed[r] = k.consumed.load(std::memory_order_relaxed);
    a.shed[r] = k.shed.load(std::memory_order_relaxed);
    a.full[r] = k.full.load(std::memory_order_relaxed);
    a.rate_limited[r] = k.rate_limited.load(std::memory_order_relaxed);
    a.aborted[r] = k.aborted.load(std::memory_order_relaxed);
    a.missed[r] = k.missed.load(std::memory_order_relaxed);
  }
  a.last_error = std::string(symbol_view(rec.last_error));
}

void read_topics(const Segment& seg, BusSnapshot& s) {
  std::uint32_t n = seg.header().topic_count.load(std::memory_order_acquire);
  if (n > seg.config().max_topics) n = seg.config().max_topics;  // count is input too
  s.topics.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const TopicEntry& e = seg.topic(i);
    TopicSnapshot t;
    t.id = i;
    t.name = std::string(symbol_view(e.name));
    t.payload_size = e.payload_size;
    t.schema_version = e.schema_version;
    // Each agent record's row of the topic-stats region (a freed record keeps its row).
    for (std::uint32_t a = 0; a < seg.config().max_agents; ++a) {
      t.published += seg.topic_counters(a, i).published.load(std::memory_order_relaxed);
    }
    if (!validate_topic_name(t.name).empty() || t.payload_size > seg.config().max_payload_bytes) {
      t.name = "<corrupt entry " + std::to_string(i) + ">";
    }
    s.topics.push_back(std::move(t));
  }
}

void read_rings(const Segment& seg, BusSnapshot& s) {
  const SegmentHeader& h = seg.header();
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    RingSnapshot& ring = s.rings[r];
    ring.priority = static_cast<Priority>(r);
    ring.capacity = seg.config().ring_capacity[r];
    ring.tail = seg.ring(r).tail.load(std::memory_order_acquire);
    ring.level = to_level(h.backpressure[r].load(std::memory_order_relaxed));
    ring.padded = seg.ring(r).padded.load(std::memory_order_relaxed);
    ring.quarantined = seg.ring(r).quarantined.load(std::memory_order_relaxed);
  }
}

void fill_rings(BusSnapshot& s) {
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    RingSnapshot& ring = s.rings[r];
    std::uint64_t slowest = ring.tail;
    for (const AgentSnapshot& a : s.agents) {
      if ((a.tethered_mask & (1u << r)) == 0) continue;
      ring.has_tethered = true;
      if (a.cursor[r] < slowest) slowest = a.cursor[r];
    }
    ring.slowest = slowest;
    ring.fill = ring.tail - slowest;
    ring.fill_pct = ring.capacity == 0 ? 0.0
                                       : 100.0 * static_cast<double>(ring.fill) /
                                             static_cast<double>(ring.capacity);
  }
}

Result<BusSnapshot> inspect(std::string_view bus_name) {
  auto opened = Segment::open(bus_name);
  if (!opened) return opened.error();
  const Segment& seg = **opened;
  const SegmentHeader& h = seg.header();
  BusSnapshot s;
  s.bus_name = std::string(bus_name);
  s.config = seg.bus_config();
  s.segment_bytes = seg.size();
  s.creation_time_ns = h.creation_time_ns;
  s.taken_mono_ns = monotonic_ns();
  s.bus_health = to_health(h.bus_health.load(std::memory_order_relaxed));
  s.supervisor_pid = h.supervisor_pid.load(std::memory_order_relaxed);
  s.supervisor_alive = seg.supervisor_alive();
  s.supervisor_heartbeat_age_ns =
      age(s.taken_mono_ns, h.supervisor_heartbeat_ns.load(std::memory_order_relaxed));
  s.supervisor_epoch = h.supervisor_epoch.load(std::memory_order_relaxed);
  s.claims_padded = h.claims_padded.load(std::memory_order_relaxed);
  s.agents_recovered = h.agents_recovered.load(std::memory_order_relaxed);
  s.agents_untethered = h.agents_untethered.load(std::memory_order_relaxed);

  read_rings(seg, s);
  std::array<std::uint64_t, kPriorityCount> tails{};
  for (std::uint32_t r = 0; r < kRingCount; ++r) tails[r] = s.rings[r].tail;
  for (std::uint32_t i = 0; i < seg.config().max_agents; ++i) {
    const std::uint32_t state = seg.agent(i).state.load(std::memory_order_acquire);
    if (state > static_cast<std::uint32_t>(AgentState::kActive)) {
      s.corrupt_agent_records.push_back(i);
      continue;
    }
    if (state != static_cast<std::uint32_t>(AgentState::kActive)) continue;
    AgentSnapshot a;
    read_agent(seg, i, s.taken_mono_ns, tails, a);
    s.agents.push_back(std::move(a));
  }
  fill_rings(s);
  read_topics(seg, s);

  try {
    s.barriers = read_all_status(BarrierTable(**opened), monotonic_ns());
  } catch (const std::exception& e) {
    s.barriers_error = std::string("list barriers: ") + e.what();
  }
  return s;
}

}  // namespace

Result<BusSnapshot> inspect_bus(std::string_view bus_name) {
  try {
    return inspect(bus_name);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, "inspect " + std::string(bus_name) + ": " + e.what());
  }
}

Result<std::vector<ErrorRecord>> recent_errors(std::string_view bus_name, std::size_t limit) {
  try {
    auto opened = Segment::open(bus_name);
    if (!opened) return opened.error();
    std::vector<ErrorRecord> out;
    for (ErrorLogCopy& c : ErrorLog(**opened).read(limit)) {
      ErrorRecord r;
      r.index = c.index;
      r.time_ns = c.time_ns;
      r.error_mono_ns = c.error_mono_ns;
      r.event_sequence = c.event_sequence;
      r.count = c.count;
      r.agent_index = c.agent;
      r.topic = c.topic;
      // Segment bytes are input: an unknown kind or code reads as unknown.
      r.kind = c.code > static_cast<std::uint32_t>(sys::ErrorKind::kInternal)
                   ? sys::ErrorKind::kUnknown
                   : static_cast<sys::ErrorKind>(c.code);
      r.errc = c.errc > static_cast<std::uint32_t>(Errc::kState) ? Errc::kSystem
                                                                 : static_cast<Errc>(c.errc);
      r.agent = std::move(c.agent_name);
      r.handler = std::move(c.handler);
      r.message = std::move(c.text);
      out.push_back(std::move(r));
    }
    return out;
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, "errors of " + std::string(bus_name) + ": " + e.what());
  }
}

}  // namespace shmbus
