// MetricsCollector: builds the Prometheus families from inspect_bus() and read_stats() at
// scrape time; MetricsServer: the Exposer around it. Series and their meaning are listed in
// README.md ("Metrics").
#include "supervisor/metrics_collector.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/exposer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <thread>
#include <utility>

#include "shmbus/bridge_stats.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/journal_recorder.hpp"
#include "shmbus/stats.hpp"

namespace shmbus::detail {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string ring_label(std::uint32_t r) {
  std::string s(priority_name(static_cast<Priority>(r)));
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Families by name, in the order first used; each sample carries the bus label first.
class Families {
 public:
  explicit Families(std::string bus) : bus_(std::move(bus)) {}

  MetricFamily& family(std::string_view name, std::string_view help, MetricType type) {
    for (MetricFamily& f : out_) {
      if (f.name == name) return f;
    }
    out_.push_back(MetricFamily{std::string(name), std::string(help), type, {}});
    return out_.back();
  }

  ClientMetric& sample(MetricFamily& f,
                       std::initializer_list<std::pair<const char*, std::string>> labels) {
    ClientMetric m;
    m.label.push_back({"bus", bus_});
    for (const auto& [k, v] : labels) m.label.push_back({k, v});
    f.metric.push_back(std::move(m));
    return f.metric.back();
  }

  void gauge(std::string_view name, std::string_view help, double v,
             std::initializer_list<std::pair<const char*, std::string>> labels = {}) {
    sample(family(name, help, MetricType::Gauge), labels).gauge.value = v;
  }
  void counter(std::string_view name, std::string_view help, double v,
               std::initializer_list<std::pair<const char*, std::string>> labels = {}) {
    sample(family(name, help, MetricType::Counter), labels).counter.value = v;
  }

  std::vector<MetricFamily> take() { return std::move(out_); }

 private:
  std::string bus_;
  std::vector<MetricFamily> out_;
};

double d(std::uint64_t v) {
  return static_cast<double>(v);
}

/// The stats histogram as a Prometheus histogram: bucket b's upper bound (exclusive in shmbus,
/// inclusive `le` in Prometheus; the difference is one nanosecond) in seconds, cumulative. The
/// sum is not recorded by the bus, so it is estimated from bucket midpoints (lower bound for
/// the open last bucket): use _bucket and _count for quantiles, _sum only as a rough mean.
void latency_histogram(Families& fam, const AgentStats& a) {
  MetricFamily& f = fam.family("shmbus_delivery_latency_seconds",
                               "Delivery latency (publish to first handler) per subscribing "
                               "agent, from the bus's log2 buckets; _sum is estimated",
                               MetricType::Histogram);
  ClientMetric& m = fam.sample(f, {{"agent", a.name}});
  const LatencyHistogram& h = a.latency;
  std::uint64_t cumulative = 0;
  double sum_ns = 0;
  for (std::size_t b = 0; b < LatencyHistogram::kBuckets; ++b) {
    const std::uint64_t n = h.counts[b];
    cumulative += n;
    const bool last = b + 1 == LatencyHistogram::kBuckets;
    const double lo = d(LatencyHistogram::lower_ns(b));
    sum_ns += d(n) * (last ? lo : (lo + d(LatencyHistogram::upper_ns(b))) / 2.0);
    m.histogram.bucket.push_back({cumulative, last ? std::numeric_limits<double>::infinity()
                                                   : d(LatencyHistogram::upper_ns(b)) / 1e9});
  }
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = sum_ns / 1e9;
}

void collect_rings(Families& fam, const BusSnapshot& snap) {
  const std::uint32_t history = snap.config.history_depth;
  for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
    const RingSnapshot& ring = snap.rings[r];
    const std::string rl = ring_label(r);
    const std::uint64_t usable = ring.capacity > history ? ring.capacity - history : ring.capacity;
    fam.gauge("shmbus_ring_fill_ratio",
              "Ring fill (tail less the slowest tethered cursor) over usable capacity "
              "(capacity less history_depth), as the backpressure thresholds see it",
              usable == 0 ? 0.0 : d(ring.fill) / d(usable), {{"ring", rl}});
    fam.gauge("shmbus_ring_fill_events", "Events between the slowest tethered cursor and the tail",
              d(ring.fill), {{"ring", rl}});
    fam.gauge("shmbus_ring_capacity", "Ring slots", d(ring.capacity), {{"ring", rl}});
    fam.gauge("shmbus_ring_backpressure_level",
              "Backpressure level: 0 normal, 1 warning, 2 high, 3 critical",
              d(static_cast<std::uint64_t>(ring.level)), {{"ring", rl}});
    fam.counter("shmbus_ring_slots_padded_total", "Slots of the ring padded by the supervisor",
                d(ring.padded), {{"ring", rl}});
  }
}

void collect_agents(Families& fam, const BusSnapshot& snap, const BusStats* stats) {
  for (const AgentSnapshot& a : snap.agents) {
    fam.gauge("shmbus_agent_up", "1 while the agent's process holds its liveness lock",
              a.alive ? 1.0 : 0.0, {{"agent", a.name}});
    fam.gauge("shmbus_agent_health",
              "Agent health: 0 unknown, 1 healthy, 2 degraded, 3 unhealthy, 4 dead",
              d(static_cast<std::uint64_t>(a.health)), {{"agent", a.name}});
    for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
      const std::string rl = ring_label(r);
      if ((a.reading_mask & (1u << r)) != 0) {
        fam.gauge("shmbus_agent_lag_events", "Ring tail less the agent's cursor (rings it reads)",
                  d(a.lag[r]), {{"agent", a.name}, {"ring", rl}});
      }
      fam.counter("shmbus_events_published_total", "Events published by the agent",
                  d(a.published[r]), {{"agent", a.name}, {"ring", rl}});
      fam.counter("shmbus_events_delivered_total",
                  "Events handed to at least one handler of the agent", d(a.delivered[r]),
                  {{"agent", a.name}, {"ring", rl}});
      fam.counter("shmbus_events_shed_total", "Publishes shed at backpressure CRITICAL",
                  d(a.shed[r]), {{"agent", a.name}, {"ring", rl}});
      fam.counter("shmbus_events_dropped_total",
                  "Publishes refused because the ring was full (kFull and kTimeout)", d(a.full[r]),
                  {{"agent", a.name}, {"ring", rl}});
      fam.counter("shmbus_events_rate_limited_total", "Publishes refused by the rate limit",
                  d(a.rate_limited[r]), {{"agent", a.name}, {"ring", rl}});
    }
    fam.counter("shmbus_events_failed_total",
                "Handler calls of the agent that threw (the bus counts them per agent, not per "
                "ring)",
                d(a.handler_errors), {{"agent", a.name}});
  }
  if (stats == nullptr) return;
  for (const AgentStats& s : stats->agents) {
    // Agents that subscribe only: a publisher-only agent has an all-zero histogram.
    bool reads = false;
    for (const RingAgentStats& r : s.rings) reads = reads || r.reading;
    if (reads || s.latency.total() != 0) latency_histogram(fam, s);
  }
}

void collect_topics(Families& fam, const BusStats& stats) {
  // From read_stats(): sums of the attached agents' per-topic counts (the registry's own
  // published counter is not maintained by the publish path).
  for (const TopicStats& t : stats.topics) {
    fam.counter("shmbus_topic_published_total",
                "Events published on the topic by the agents attached now", d(t.totals.published),
                {{"topic", t.name}});
  }
}

void collect_barriers(Families& fam, const BusSnapshot& snap) {
  for (const BarrierStatus& b : snap.barriers) {
    fam.counter("shmbus_barrier_rounds_completed_total", "Rounds closed with every participant",
                d(b.completed), {{"barrier", b.name}});
    fam.counter("shmbus_barrier_rounds_timed_out_total",
                "Rounds closed at the deadline with someone missing", d(b.timed_out),
                {{"barrier", b.name}});
    fam.gauge("shmbus_barrier_generation", "The barrier's current round", d(b.generation),
              {{"barrier", b.name}});
  }
}

}  // namespace

MetricsCollector::MetricsCollector(std::string bus_name) : bus_name_(std::move(bus_name)) {}

// The journals registered for the bus (journal::list_bus_journals), labelled by their agent.
void collect_journals(Families& fam, const BusSnapshot& snap, const std::string& bus) {
  for (const journal::BusJournal& j : journal::list_bus_journals(bus)) {
    const journal::RecorderStats& st = j.stats;
    std::uint64_t ring_lag = 0;
    for (const AgentSnapshot& a : snap.agents) {
      if (a.name == j.agent && a.alive) ring_lag = AgentSnapshot::total(a.lag);
    }
    const std::pair<const char*, std::string> l{"journal", j.agent};
    fam.gauge("shmbus_journal_up", "1 while the journal's recorder process runs",
              j.running ? 1.0 : 0.0, {l});
    fam.counter("shmbus_journal_records_total", "Records appended since the recorder started",
                d(st.records), {l});
    fam.counter("shmbus_journal_bytes_total", "Record bytes appended since the recorder started",
                d(st.bytes), {l});
    fam.gauge("shmbus_journal_ring_lag_events",
              "Events in the rings the journal agent has not read yet (its cursors' lag)",
              d(ring_lag), {l});
    fam.gauge("shmbus_journal_lag_seconds",
              "Journal time less publish time of the last journaled event", d(st.lag_ns) / 1e9,
              {l});
    fam.counter("shmbus_journal_syncs_total", "Syncs (msync/fdatasync) of the journal", d(st.syncs),
                {l});
    fam.gauge("shmbus_journal_sync_seconds_avg", "Average sync latency", d(st.sync_ns_avg) / 1e9,
              {l});
    fam.gauge("shmbus_journal_sync_seconds_max", "Worst sync latency", d(st.sync_ns_max) / 1e9,
              {l});
    for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
      fam.counter("shmbus_journal_shed_total", "Events dropped by the shed policy", d(st.shed[r]),
                  {l, {"ring", ring_label(r)}});
    }
    fam.counter("shmbus_journal_held_events_total",
                "Events the journal could not take at once (hold policy)", d(st.held_events), {l});
    fam.counter("shmbus_journal_held_seconds_total", "Time producers were held back by the journal",
                d(st.held_ns) / 1e9, {l});
    fam.counter("shmbus_journal_missed_total", "Ring positions the journal lost while untethered",
                d(st.missed), {l});
  }
}

// The bridges registered for the bus (bridge::list_bus_bridges), labelled by agent and direction.
void collect_bridges(Families& fam, const std::string& bus) {
  for (const bridge::BusBridge& b : bridge::list_bus_bridges(bus)) {
    const bridge::BridgeStats& st = b.stats;
    const std::pair<const char*, std::string> l{"bridge", b.agent};
    fam.gauge("shmbus_bridge_up", "1 while the bridge process runs", b.running ? 1.0 : 0.0, {l});
    fam.gauge("shmbus_bridge_connected", "1 while the bridge is connected to NATS", d(st.connected),
              {l});
    fam.counter("shmbus_bridge_reconnects_total", "Reconnections to NATS", d(st.reconnects), {l});
    for (const auto& [dir, ds] :
         {std::pair<const char*, const bridge::DirectionStats*>{"export", &st.out},
          {"import", &st.in}}) {
      const std::pair<const char*, std::string> dl{"direction", dir};
      fam.counter("shmbus_bridge_messages_total", "Messages forwarded", d(ds->messages), {l, dl});
      fam.counter("shmbus_bridge_bytes_total", "Wire bytes forwarded", d(ds->bytes), {l, dl});
      fam.gauge("shmbus_bridge_lag_seconds", "Forward time less origin publish time, last message",
                d(ds->lag_ns) / 1e9, {l, dl});
      for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
        fam.counter("shmbus_bridge_shed_total", "Events shed by backpressure across the link",
                    d(ds->shed[r]), {l, dl, {"ring", ring_label(r)}});
      }
      fam.counter("shmbus_bridge_acked_total", "JetStream acks (export) or acks sent (import)",
                  d(ds->acked), {l, dl});
      fam.gauge("shmbus_bridge_pending", "Durable exports not acked yet", d(ds->pending), {l, dl});
      fam.counter("shmbus_bridge_retries_total", "Durable resends or local publish retries",
                  d(ds->retries), {l, dl});
      fam.counter("shmbus_bridge_rejected_total", "Bad messages refused", d(ds->rejected), {l, dl});
    }
  }
}

std::vector<prometheus::MetricFamily> MetricsCollector::Collect() const {
  Families fam(bus_name_);
  const char* up_help = "1 while a supervisor runs on the bus (0: the bus cannot be read)";
  try {
    auto snap = inspect_bus(bus_name_);
    if (!snap) {
      fam.gauge("shmbus_supervisor_up", up_help, 0.0);
      return fam.take();
    }
    auto stats = read_stats(bus_name_);  // failure only loses the histograms and failures
    const BusSnapshot& s = snap.value();
    fam.gauge("shmbus_supervisor_up", up_help, s.supervisor_alive ? 1.0 : 0.0);
    fam.gauge("shmbus_bus_health", "Bus health: 0 unknown, 1 healthy, 2 degraded, 3 unhealthy",
              d(static_cast<std::uint64_t>(s.bus_health)));
    collect_rings(fam, s);
    collect_agents(fam, s, stats ? &stats.value() : nullptr);
    if (stats) collect_topics(fam, stats.value());
    collect_barriers(fam, s);
    collect_journals(fam, s, bus_name_);
    collect_bridges(fam, bus_name_);
    fam.counter("shmbus_claims_padded_total", "Stuck claims closed (padded) by the supervisor",
                d(s.claims_padded));
    fam.counter("shmbus_agents_recovered_total", "Records of dead agents recovered",
                d(s.agents_recovered));
    fam.counter("shmbus_agents_untethered_total", "Slow subscribers untethered",
                d(s.agents_untethered));
    return fam.take();
  } catch (const std::exception&) {
    // Out of memory while copying: report the endpoint alive but the bus unreadable.
    Families down(bus_name_);
    down.gauge("shmbus_supervisor_up", up_help, 0.0);
    return down.take();
  }
}

std::string metrics_bind_address(const std::string& address) {
  if (address.empty()) return {};
  if (address.find(':') == std::string::npos) return "127.0.0.1:" + address;
  return address;
}

MetricsServer::MetricsServer() = default;
MetricsServer::MetricsServer(MetricsServer&&) noexcept = default;
MetricsServer& MetricsServer::operator=(MetricsServer&&) noexcept = default;
namespace {

// One connection to our own listening port on loopback (v4 and v6: the bind address may be
// either); it is closed at once, unanswered.
void poke(std::uint16_t port) noexcept {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  v6.sin6_addr = in6addr_loopback;
  const std::pair<const sockaddr*, socklen_t> targets[] = {
      {reinterpret_cast<const sockaddr*>(&v4), sizeof v4},
      {reinterpret_cast<const sockaddr*>(&v6), sizeof v6}};
  for (const auto& [addr, len] : targets) {
    const int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    (void)::connect(fd, addr, len);
    ::close(fd);
  }
}

}  // namespace

MetricsServer::~MetricsServer() {
  if (!exposer) return;
  // Stops the HTTP threads before the collector goes. civetweb's listening thread polls its
  // sockets with a 2 s timeout and looks at the stop flag only between polls, so a plain stop
  // takes up to 2 s (every supervisor stop, every metrics test). A connection to the port ends
  // that poll at once; keep making them until the Exposer is gone.
  std::atomic<bool> stopped{false};
  std::thread waker;
  if (port != 0) {
    try {
      waker = std::thread([this, &stopped] {
        while (!stopped.load(std::memory_order_acquire)) {
          poke(port);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      });
    } catch (const std::exception&) {
      // No thread: the stop just takes its 2 s.
    }
  }
  exposer.reset();
  stopped.store(true, std::memory_order_release);
  if (waker.joinable()) waker.join();
}

Result<MetricsServer> MetricsServer::start(const std::string& bus_name,
                                           const std::string& address) {
  const std::string bind = metrics_bind_address(address);
  if (bind.empty()) return make_error(Errc::kInvalidArgument, "metrics: empty address");
  MetricsServer s;
  s.collector = std::make_shared<MetricsCollector>(bus_name);
  try {
    // One worker thread is plenty for a scrape every few seconds.
    s.exposer = std::make_unique<prometheus::Exposer>(bind, 1);
    s.exposer->RegisterCollectable(s.collector);
    const std::vector<int> ports = s.exposer->GetListeningPorts();
    if (!ports.empty() && ports.front() > 0 && ports.front() <= 65535) {
      s.port = static_cast<std::uint16_t>(ports.front());
    }
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem,
                      "metrics: cannot serve on " + bind + " (port in use?): " + e.what());
  }
  return s;
}

}  // namespace shmbus::detail
