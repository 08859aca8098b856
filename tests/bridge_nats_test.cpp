// The bridge end to end: real nats-server processes on loopback ports, two buses on this host
// with one shmbus-bridge process each. Exactly once in both directions at every priority with no
// loops; a broker killed and restarted; a bridge killed and restarted; a JetStream cluster that
// loses a server; bad input of every kind. Waits are on conditions with deadlines, never sleeps.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bridge/hwm_file.hpp"
#include "bridge/wire_format.hpp"
#include "shmbus/bridge_stats.hpp"
#include "shmbus/bus.hpp"
#include "supervisor/metrics_collector.hpp"
#include "testing/nats_server.hpp"
#include "testing/test_support.hpp"

namespace {

using namespace shmbus;
using namespace std::chrono_literals;
using shmbus::testing::Child;
using shmbus::testing::eventually;
using shmbus::testing::NatsServer;
using shmbus::testing::NatsServerOptions;
using shmbus::testing::TempDir;

struct Payload {
  std::uint64_t seq;
  std::uint64_t prio;
};

BusConfig bridge_bus_config(const std::string& name) {
  BusConfig c;
  c.name = name;
  c.ring_capacity = {4096, 4096, 4096, 4096};
  c.history_depth = 1024;
  c.max_payload_bytes = 192;
  c.max_agents = 16;
  c.max_topics = 64;
  return c;
}

std::string bridge_bin() {
  // SHMBUS_BRIDGE_BIN: another build of the bridge, or a wrapper (valgrind) around it.
  if (const char* b = std::getenv("SHMBUS_BRIDGE_BIN")) return b;
  return shmbus::testing::bin_dir() + "/agents/bridge/shmbus-bridge";
}

#define SKIP_WITHOUT_NATS()                                                      \
  if (shmbus::testing::nats_server_path().empty()) {                             \
    GTEST_SKIP() << "nats-server is not installed (Debian package nats-server)"; \
  }

/// One bus created by the test (embedded), a publisher handle (the creator) and a subscriber
/// agent that records what arrives, polled by a thread of its own.
class TestBus {
 public:
  explicit TestBus(const std::string& tag) : name_(shmbus::testing::unique_bus_name(tag)) {
    name_.erase(std::remove(name_.begin(), name_.end(), '.'), name_.end());
    AgentOptions po;
    po.name = "pub";
    po.full_policy = FullPolicy::kWait;
    po.publish_timeout = 2s;
    auto b = Bus::create(bridge_bus_config(name_), po);
    EXPECT_TRUE(b.ok()) << b.message();
    pub_.emplace(std::move(*b));
    AgentOptions so;
    so.name = "sub";
    so.wait = WaitStrategy::kBlock;
    so.handler_budget = 0ns;
    auto s = Bus::attach(name_, so);
    EXPECT_TRUE(s.ok()) << s.message();
    sub_.emplace(std::move(*s));
    auto r = sub_->on_any([this](const EventView& e) {
      if ((e.flags & kFlagSystem) != 0) return;
      std::lock_guard<std::mutex> l(mu_);
      Payload p{};
      std::memcpy(&p, e.payload.data(), std::min(sizeof p, e.payload.size()));
      got_.push_back({std::string(e.topic_name), e.priority, e.id.producer, p.seq});
    });
    EXPECT_TRUE(r.ok());
    thread_ = std::thread([this] {
      while (!stop_.load()) sub_->poll_wait(1024, 5ms);
    });
  }
  ~TestBus() {
    stop_.store(true);
    sub_->stop();
    thread_.join();
  }
  const std::string& name() const { return name_; }
  Bus& pub() { return *pub_; }

  struct Got {
    std::string topic;
    Priority priority;
    std::uint32_t producer;
    std::uint64_t seq;
  };
  std::vector<Got> got() {
    std::lock_guard<std::mutex> l(mu_);
    return got_;
  }
  std::size_t count(const std::string& topic) {
    std::lock_guard<std::mutex> l(mu_);
    std::size_t n = 0;
    for (const auto& g : got_) n += g.topic == topic;
    return n;
  }

  /// Publishes `n` events per priority on `topic` (seq first..first+n-1), interleaved.
  void publish(const std::string& topic, std::uint64_t first, std::uint64_t n) {
    auto id = pub_->register_topic(topic, sizeof(Payload));
    ASSERT_TRUE(id.ok()) << id.message();
    for (std::uint64_t i = first; i < first + n; ++i) {
      for (std::uint32_t p = 0; p < kPriorityCount; ++p) {
        Payload pl{i, p};
        PublishStatus s{};
        do {
          s = pub_->publish(*id, &pl, sizeof pl, static_cast<Priority>(p));
        } while (s == PublishStatus::kTimeout || s == PublishStatus::kFull);
        ASSERT_EQ(s, PublishStatus::kOk);
      }
    }
  }
  /// The end marker: LOW, after everything else, so its arrival means all before it arrived.
  void publish_marker(const std::string& topic, std::uint64_t tag) {
    auto id = pub_->register_topic(topic, sizeof(Payload));
    ASSERT_TRUE(id.ok());
    Payload pl{tag, 3};
    ASSERT_EQ(pub_->publish(*id, &pl, sizeof pl, Priority::kLow), PublishStatus::kOk);
  }

 private:
  std::string name_;
  std::optional<Bus> pub_, sub_;
  std::mutex mu_;
  std::vector<Got> got_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Every priority of `topic` carries seq 0..n-1 exactly once and in order.
void expect_exactly_once(const std::vector<TestBus::Got>& got, const std::string& topic,
                         std::uint64_t n) {
  std::array<std::vector<std::uint64_t>, kPriorityCount> seqs;
  for (const auto& g : got) {
    if (g.topic == topic) seqs[index_of(g.priority)].push_back(g.seq);
  }
  for (std::uint32_t p = 0; p < kPriorityCount; ++p) {
    // Say what went wrong: the first place the sequence breaks, and the missing ranges.
    std::string where;
    for (std::size_t i = 0; i < seqs[p].size() && where.empty(); ++i) {
      if (seqs[p][i] != i) {
        where =
            " first break at index " + std::to_string(i) + ": got " + std::to_string(seqs[p][i]);
      }
    }
    std::vector<int> seen(n, 0);
    for (auto x : seqs[p]) {
      if (x < n) ++seen[x];
    }
    std::string missing;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (seen[i] == 0 && (i == 0 || seen[i - 1] != 0)) missing += " " + std::to_string(i) + "..";
      if (seen[i] == 0 && (i + 1 == n || seen[i + 1] != 0)) missing += std::to_string(i);
    }
    ASSERT_EQ(seqs[p].size(), n) << topic << " priority " << p << where << " missing" << missing;
    ASSERT_TRUE(where.empty()) << topic << " priority " << p << where;
  }
}

std::string describe(const std::optional<bridge::BridgeStats>& s) {
  if (!s) return "no stats";
  std::string t =
      "connected " + std::to_string(s->connected) + " out{messages " +
      std::to_string(s->out.messages) + " acked " + std::to_string(s->out.acked) + " pending " +
      std::to_string(s->out.pending) + " retries " + std::to_string(s->out.retries) + " dups " +
      std::to_string(s->out.duplicates) + "} in{messages " + std::to_string(s->in.messages) +
      " dups " + std::to_string(s->in.duplicates) + " retries " + std::to_string(s->in.retries) +
      "} reconnects " + std::to_string(s->reconnects) + " error '" + s->last_error + "'";
  return t;
}

struct BridgeProc {
  std::vector<std::string> args;
  std::string state_dir;
  std::vector<std::string> env;  // added to the bridge's environment ("NAME=value")
  Child child;
  BridgeProc() = default;
  BridgeProc(BridgeProc&&) = default;
  BridgeProc& operator=(BridgeProc&&) = default;
  // A clean stop removes its /dev/shm registration; a killed bridge leaves it: remove it here.
  ~BridgeProc() {
    if (child.running()) {
      child.kill(SIGTERM);
      child.wait(10s);
    }
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--bus")
        ::unlink(bridge::bridge_registration_path(args[i + 1], "bridge").c_str());
    }
  }
  void start() { child = Child::exec(bridge_bin(), args, env); }
  std::optional<bridge::BridgeStats> stats() const {
    auto s = bridge::read_bridge_stats(state_dir);
    if (!s) return std::nullopt;
    return *s;
  }
  bool connected() const {
    auto s = stats();
    return s && s->connected == 1 && s->pid == static_cast<std::uint64_t>(child.pid());
  }
};

BridgeProc make_bridge(const TempDir& dir, const std::string& bus, const std::string& urls,
                       const std::string& other_bus, const std::vector<std::string>& extra = {}) {
  BridgeProc b;
  b.state_dir = dir.sub("state-" + bus);
  b.args = {"--bus",     bus,        "--nats",      urls,         "--export",
            "order.*",   "--import", "order.*",     "--from-bus", other_bus,
            "--durable", "order.*",  "--state-dir", b.state_dir};
  b.args.insert(b.args.end(), extra.begin(), extra.end());
  return b;
}

NatsServerOptions js_options(const std::string& store) {
  NatsServerOptions o;
  o.store_dir = store;
  return o;
}

class BridgeNatsTest : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_WITHOUT_NATS(); }
};

/// Two buses joined through one nats-server (JetStream on, in a temporary store), with a bridge
/// each that exports and imports `order.*` durably from the other: the setup of the end-to-end
/// tests. Destroyed in reverse: bridges, buses, server, directory.
struct JoinedBuses {
  TempDir dir{"bridge"};
  NatsServer nats;
  TestBus a, b;
  BridgeProc ba, bb;
  JoinedBuses(const std::string& tag_a, const std::string& tag_b)
      : nats(shmbus::testing::free_port(), js_options(dir.sub("js"))), a(tag_a), b(tag_b) {}
  /// Starts the server and both bridges; true once both bridges are connected.
  bool start() {
    if (!nats.start()) return false;
    ba = make_bridge(dir, a.name(), nats.url(), b.name());
    bb = make_bridge(dir, b.name(), nats.url(), a.name());
    ba.start();
    bb.start();
    return eventually([&] { return ba.connected() && bb.connected(); }, 20s);
  }
};

TEST_F(BridgeNatsTest, ExactlyOnceBothWaysEveryPriorityNoLoops) {
  JoinedBuses net("ba", "bb");
  ASSERT_TRUE(net.start());
  TestBus &a = net.a, &b = net.b;
  BridgeProc& ba = net.ba;
  const std::uint64_t n = shmbus::testing::scaled(2000);
  std::thread ta([&] {
    a.publish("order.a", 0, n);
    a.publish_marker("order.enda", 1);
  });
  std::thread tb([&] {
    b.publish("order.b", 0, n);
    b.publish_marker("order.endb", 1);
  });
  ta.join();
  tb.join();
  ASSERT_TRUE(
      eventually([&] { return b.count("order.enda") == 1 && a.count("order.endb") == 1; }, 60s))
      << "B has " << b.count("order.a") << " of A's events, A has " << a.count("order.b");
  expect_exactly_once(b.got(), "order.a", n);
  expect_exactly_once(a.got(), "order.b", n);
  // No loops: each bus's own topic arrives only from its own publisher.
  for (const auto& g : a.got()) {
    if (g.topic == "order.a") {
      ASSERT_EQ(g.producer, a.pub().agent_index());
    }
  }
  for (const auto& g : b.got()) {
    if (g.topic == "order.b") {
      ASSERT_EQ(g.producer, b.pub().agent_index());
    }
  }
  // The STATS file is refreshed every 50 ms.
  ASSERT_TRUE(eventually(
      [&] {
        auto sa = ba.stats();
        return sa && sa->out.acked >= 4 * n + 1 && sa->in.messages == 4 * n + 1;
      },
      10s));
  EXPECT_EQ(ba.stats()->in.rejected, 0u);
  EXPECT_EQ(ba.stats()->out.pending, 0u);
}

/// Counts the NATS messages and the events in them on a subject pattern, from the test process
/// (what travels on the wire, decoded by the wire format's own reader).
class WireWatch {
 public:
  WireWatch(const std::string& url, const std::string& subject) {
    EXPECT_EQ(natsConnection_ConnectTo(&nc_, url.c_str()), NATS_OK);
    EXPECT_EQ(natsConnection_Subscribe(&sub_, nc_, subject.c_str(), &WireWatch::on_msg, this),
              NATS_OK);
    natsSubscription_SetPendingLimits(sub_, -1, -1);
    EXPECT_EQ(natsConnection_FlushTimeout(nc_, 5000), NATS_OK);
  }
  ~WireWatch() {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
    natsConnection_Destroy(nc_);
  }
  std::uint64_t messages() const { return messages_.load(); }
  std::uint64_t events() const { return events_.load(); }
  /// Messages of more than one event.
  std::uint64_t batches() const { return batches_.load(); }

 private:
  static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* self) {
    auto* me = static_cast<WireWatch*>(self);
    bridge::detail::WireReader r;
    std::string scratch;
    const auto* d = reinterpret_cast<const std::byte*>(natsMsg_GetData(m));
    if (r.open(std::span(d, static_cast<std::size_t>(natsMsg_GetDataLength(m))), scratch) ==
        bridge::detail::DecodeStatus::kOk) {
      me->events_.fetch_add(r.count());
      if (r.count() > 1) me->batches_.fetch_add(1);
    }
    me->messages_.fetch_add(1);
    natsMsg_Destroy(m);
  }
  natsConnection* nc_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::atomic<std::uint64_t> messages_{0}, events_{0}, batches_{0};
};

/// Core (not durable) topic md.a from A to B through real processes: chunks of events of every
/// priority published in bursts, each chunk awaited before the next (so no ring of B fills and
/// nothing is shed); every event arrives exactly once, in order per priority. A imports md.* from
/// every bus too, so its own exports come back to it and are dropped as loops, counted per event.
/// Returns the wire watch's figures over the flow: messages, events, messages of several events.
struct CoreFlow {
  std::uint64_t messages = 0, events = 0, batches = 0;
};
CoreFlow core_flow(const std::vector<std::string>& extra) {
  TempDir dir("bridge");
  NatsServer nats(shmbus::testing::free_port(), js_options(dir.sub("js")));
  EXPECT_TRUE(nats.start());
  TestBus a("ma"), b("mb");
  BridgeProc ba, bb;
  ba.state_dir = dir.sub("state-a");
  ba.args = {"--bus", a.name(),   "--nats", nats.url(),    "--export",
             "md.*",  "--import", "md.*",   "--state-dir", ba.state_dir};
  ba.args.insert(ba.args.end(), extra.begin(), extra.end());
  bb.state_dir = dir.sub("state-b");
  bb.args = {"--bus", b.name(),     "--nats", nats.url(),    "--import",
             "md.*",  "--from-bus", a.name(), "--state-dir", bb.state_dir};
  ba.start();
  bb.start();
  EXPECT_TRUE(eventually([&] { return ba.connected() && bb.connected(); }, 20s));
  WireWatch watch(nats.url(), "shmbus." + a.name() + ".md.>");
  // B's subscription reaches the server before the flow starts: a probe must arrive. (A's own
  // subscription went out on its connection before any of its publishes: every export of A
  // comes back to A.)
  std::uint64_t probes = 0;
  EXPECT_TRUE(eventually(
      [&] {
        a.publish_marker("md.probe", probes++);
        return b.count("md.probe") > 0;
      },
      20s));
  // Once the probes settled, the counters' base for the flow.
  std::optional<bridge::BridgeStats> sa0, sb0;
  EXPECT_TRUE(eventually(
      [&] {
        sa0 = ba.stats();
        sb0 = bb.stats();
        return sa0 && sb0 && sa0->out.messages == probes && watch.events() == probes &&
               sa0->loops_dropped == probes && sb0->in.messages == b.count("md.probe");
      },
      10s));
  const std::uint64_t m0 = watch.messages();
  const std::uint64_t chunks = 8, per = shmbus::testing::scaled(250);
  for (std::uint64_t k = 0; k < chunks; ++k) {
    a.publish("md.a", k * per, per);
    EXPECT_TRUE(eventually([&] { return b.count("md.a") == 4 * (k + 1) * per; }, 30s))
        << "chunk " << k << ": B has " << b.count("md.a")
        << "; A's bridge: " << describe(ba.stats()) << "; B's bridge: " << describe(bb.stats());
  }
  expect_exactly_once(b.got(), "md.a", chunks * per);
  // Counters count events, not NATS messages.
  const std::uint64_t events = 4 * chunks * per;
  EXPECT_TRUE(eventually(
      [&] {
        auto sa = ba.stats();
        auto sb = bb.stats();
        return sa && sb && sa->out.messages - sa0->out.messages == events &&
               sb->in.messages - sb0->in.messages == events &&
               sa->loops_dropped - sa0->loops_dropped == events &&
               watch.events() - probes == events;
      },
      10s))
      << "events " << events << "; A's bridge: " << describe(ba.stats()) << " loops "
      << ba.stats()->loops_dropped << "; B's bridge: " << describe(bb.stats()) << "; wire "
      << watch.events();
  // Bytes are the wire's: what A sent is what B took (nothing shed, nothing rejected).
  EXPECT_EQ(ba.stats()->out.bytes - sa0->out.bytes, bb.stats()->in.bytes - sb0->in.bytes);
  EXPECT_EQ(bb.stats()->in.rejected, 0u);
  // No loop: A's bus holds its own events once, none came back into it.
  EXPECT_EQ(a.count("md.a"), events);
  return {watch.messages() - m0, watch.events() - probes, watch.batches()};
}

TEST_F(BridgeNatsTest, CoreTopicBatchedExactlyOnceInOrderWithoutBrokerRestart) {
  const CoreFlow f = core_flow({});
  // Bursts of one topic travel as batch frames: fewer NATS messages than events.
  EXPECT_GT(f.batches, 0u);
  EXPECT_LT(f.messages, f.events);
}

TEST_F(BridgeNatsTest, CoreTopicUnbatchedAndJsonStayOneEventPerMessage) {
  for (const auto& extra :
       {std::vector<std::string>{"--batch", "1"}, std::vector<std::string>{"--format", "json"}}) {
    const CoreFlow f = core_flow(extra);
    EXPECT_EQ(f.batches, 0u) << extra[0];
    EXPECT_EQ(f.messages, f.events) << extra[0];
  }
}

}  // namespace

namespace {

/// Publishes `chunks` chunks of `per_chunk` events per priority on A's `order.a`, calling
/// `between(k)` after chunk k; then the end marker; then waits for B to see it.
void chunked_flow(TestBus& a, TestBus& b, std::uint64_t chunks, std::uint64_t per_chunk,
                  const std::function<void(std::uint64_t)>& between,
                  const std::function<std::string()>& state = {}) {
  for (std::uint64_t k = 0; k < chunks; ++k) {
    a.publish("order.a", k * per_chunk, per_chunk);
    between(k);
  }
  a.publish_marker("order.enda", 1);
  ASSERT_TRUE(eventually([&] { return b.count("order.enda") == 1; }, 120s))
      << "B has " << b.count("order.a") << " of " << 4 * chunks * per_chunk << "; "
      << (state ? state() : std::string());
  expect_exactly_once(b.got(), "order.a", chunks * per_chunk);
}

TEST_F(BridgeNatsTest, BrokerKilledAndRestartedLosesAndDuplicatesNothing) {
  JoinedBuses net("ka", "kb");
  ASSERT_TRUE(net.start());
  NatsServer& nats = net.nats;
  TestBus &a = net.a, &b = net.b;
  BridgeProc& ba = net.ba;
  const std::uint64_t per = shmbus::testing::scaled(200);
  chunked_flow(a, b, 10, per, [&](std::uint64_t k) {
    if (k == 2) {
      // Mid-stream: chunk 2 is still in flight when the broker dies.
      nats.kill();
    } else if (k == 5) {
      ASSERT_TRUE(nats.start());  // same port, same store
    }
  });
  ASSERT_TRUE(eventually(
      [&] {
        auto s = ba.stats();
        return s && s->reconnects >= 1 && s->out.pending == 0;
      },
      20s));
}

TEST_F(BridgeNatsTest, BridgesKilledAndRestartedResumeWithNoLossNoDuplicate) {
  JoinedBuses net("ra", "rb");
  ASSERT_TRUE(net.start());
  TestBus &a = net.a, &b = net.b;
  BridgeProc &ba = net.ba, &bb = net.bb;
  const std::uint64_t per = shmbus::testing::scaled(200);
  chunked_flow(
      a, b, 10, per,
      [&](std::uint64_t k) {
        if (k == 2) {
          bb.child.kill(SIGKILL);  // the importer, while chunk 2 streams in
          bb.child.wait(10s);
        } else if (k == 3) {
          ba.child.kill(SIGKILL);  // the exporter: chunk 4 is published while it is down
          ba.child.wait(10s);
        } else if (k == 4) {
          bb.start();
          ba.start();
          ASSERT_TRUE(eventually([&] { return ba.connected() && bb.connected(); }, 20s));
        }
      },
      [&] {
        return "A's bridge: " + describe(ba.stats()) + "; B's bridge: " + describe(bb.stats());
      });
}

/// Two buses, B importing A's durable `order.*` through its stream, both bridges with `extra`.
struct DurablePair {
  TempDir dir{"bridge"};
  NatsServer nats;
  TestBus a, b;
  BridgeProc ba, bb;
  DurablePair(const std::string& tag_a, const std::string& tag_b,
              const std::vector<std::string>& extra)
      : nats(shmbus::testing::free_port(), js_options(dir.sub("js"))), a(tag_a), b(tag_b) {
    ba = make_bridge(dir, a.name(), nats.url(), b.name(), extra);
    bb = make_bridge(dir, b.name(), nats.url(), a.name(), extra);
  }
  bool start() {
    if (!nats.start()) return false;
    ba.start();
    bb.start();
    return eventually([&] { return ba.connected() && bb.connected(); }, 20s);
  }
  std::string state() const {
    return "A's bridge: " + describe(ba.stats()) + "; B's bridge: " + describe(bb.stats());
  }
};

/// B's importing bridge works through a backlog of batches and is SIGKILLed (by the fault
/// point `fault` of its importer, SHMBUS_BRIDGE_FAULT) at one step of the first event after a
/// message's first: some of that message's events are in B's bus, the rest are not. Restarted,
/// it ends with each event once, in order.
void import_killed_mid_batch(const std::string& fault) {
  DurablePair net("da", "db", {"--batch", "64"});
  ASSERT_TRUE(net.start());
  TestBus &a = net.a, &b = net.b;
  BridgeProc &ba = net.ba, &bb = net.bb;
  WireWatch watch(net.nats.url(), "shmbus." + a.name() + ".order.>");
  const std::uint64_t per = shmbus::testing::scaled(500);
  // A first chunk: the stream, B's consumer and B's mark file exist.
  a.publish("order.a", 0, per);
  ASSERT_TRUE(eventually([&] { return b.count("order.a") == 4 * per; }, 30s)) << net.state();
  // B's bridge dies; a backlog of batches builds up in the stream.
  bb.child.kill(SIGKILL);
  bb.child.wait(10s);
  a.publish("order.a", per, 2 * per);
  ASSERT_TRUE(eventually(
      [&] {
        auto s = ba.stats();
        return s && s->out.acked == 4 * 3 * per && s->out.pending == 0;
      },
      30s))
      << net.state();
  EXPECT_GT(watch.batches(), 0u) << "durable events went one per message";
  // Restarted with the fault point: it kills itself inside the first message of the backlog
  // that holds more than one event.
  bb.env = {"SHMBUS_BRIDGE_FAULT=" + fault};
  bb.start();
  ASSERT_EQ(bb.child.wait(60s), 128 + SIGKILL) << fault << " never fired; " << net.state();
  bb.env.clear();
  bridge::detail::HwmFile hwm;
  bool existed = false;
  ASSERT_TRUE(hwm.open(bb.state_dir + "/import." + a.name() + ".hwm", existed).ok());
  ASSERT_TRUE(existed);
  const auto st = hwm.load();
  EXPECT_GT(st.pending, st.done) << "the message in flight is not done";
  EXPECT_GE(st.pending_index, 1u) << "killed past the message's first event";
  EXPECT_LT(b.count("order.a"), 4 * 3 * per);
  // Restarted once more: the rest of the backlog and a last chunk, each event once, in order.
  bb.start();
  ASSERT_TRUE(eventually([&] { return bb.connected(); }, 20s));
  a.publish("order.a", 3 * per, per);
  a.publish_marker("order.enda", 1);
  ASSERT_TRUE(eventually([&] { return b.count("order.enda") == 1; }, 60s))
      << "B has " << b.count("order.a") << " of " << 4 * 4 * per << "; " << net.state();
  expect_exactly_once(b.got(), "order.a", 4 * per);
  // The killed message came again: its events already in B were skipped by their ring marks.
  ASSERT_TRUE(eventually(
      [&] {
        auto s = bb.stats();
        return s && s->in.duplicates >= 1;
      },
      10s))
      << net.state();
}

// Killed with the event's intent in the mark file and the event not published: the restart
// finds it not in B's rings and the redelivered message publishes it.
TEST_F(BridgeNatsTest, DurableImporterKilledBeforeAPublishMidBatchLosesNothing) {
  import_killed_mid_batch("kill-before-publish");
}

// Killed with the event in B's rings and not marked: the restart finds it in the rings'
// history and marks it, so the redelivered message skips it.
TEST_F(BridgeNatsTest, DurableImporterKilledAfterAPublishMidBatchDuplicatesNothing) {
  import_killed_mid_batch("kill-after-publish");
}

// Killed with the event published and marked, its message not done.
TEST_F(BridgeNatsTest, DurableImporterKilledAfterAMarkMidBatchIsExactlyOnce) {
  import_killed_mid_batch("kill-after-mark");
}

TEST_F(BridgeNatsTest, DurableUnbatchedStaysOneEventPerMessage) {
  DurablePair net("ua", "ub", {"--batch", "1"});
  ASSERT_TRUE(net.start());
  WireWatch watch(net.nats.url(), "shmbus." + net.a.name() + ".order.>");
  const std::uint64_t per = shmbus::testing::scaled(500);
  net.a.publish("order.a", 0, per);
  ASSERT_TRUE(eventually([&] { return net.b.count("order.a") == 4 * per; }, 30s)) << net.state();
  expect_exactly_once(net.b.got(), "order.a", per);
  ASSERT_TRUE(eventually([&] { return watch.events() == 4 * per; }, 10s));
  EXPECT_EQ(watch.batches(), 0u);
  EXPECT_EQ(watch.messages(), watch.events());
}

TEST_F(BridgeNatsTest, ClusterOfThreeLosesAServerAndTheFlowGoesOn) {
  TempDir dir("bridge");
  const std::array<int, 3> client{shmbus::testing::free_port(), shmbus::testing::free_port(),
                                  shmbus::testing::free_port()};
  const std::array<int, 3> route{shmbus::testing::free_port(), shmbus::testing::free_port(),
                                 shmbus::testing::free_port()};
  std::vector<std::unique_ptr<NatsServer>> servers;
  std::string urls;
  for (int i = 0; i < 3; ++i) {
    NatsServerOptions o = js_options(dir.sub("js" + std::to_string(i)));
    o.server_name = "n" + std::to_string(i);
    o.cluster_port = route[i];
    for (int j = 0; j < 3; ++j) {
      if (j != i) o.route_ports.push_back(route[j]);
    }
    servers.push_back(std::make_unique<NatsServer>(client[i], o));
    urls += (i == 0 ? "" : ",") + servers.back()->url();
  }
  for (auto& s : servers) ASSERT_TRUE(s->start());
  TestBus a("ca"), b("cb");
  BridgeProc ba = make_bridge(dir, a.name(), urls, b.name(), {"--replicas", "3"});
  BridgeProc bb = make_bridge(dir, b.name(), urls, a.name(), {"--replicas", "3"});
  ba.start();
  bb.start();
  ASSERT_TRUE(eventually([&] { return ba.connected() && bb.connected(); }, 30s));
  const std::uint64_t per = shmbus::testing::scaled(100);
  chunked_flow(a, b, 8, per, [&](std::uint64_t k) {
    if (k == 2) {
      // Once the replicated streams carry events (the cluster formed, streams placed on all
      // three), lose a server while chunk 2 is in flight.
      ASSERT_TRUE(eventually([&] { return b.count("order.a") >= 4 * per; }, 60s));
      servers[0]->kill();
    }
  });
}

/// Publishes one raw NATS message (bad input the bridge must refuse).
void raw_publish(const std::string& url, const std::string& subject,
                 const std::vector<std::byte>& data) {
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, url.c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_Publish(nc, subject.c_str(), data.data(), static_cast<int>(data.size())),
            NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(nc, 5000), NATS_OK);
  natsConnection_Destroy(nc);
}

std::vector<std::byte> wire(const std::string& bus, const std::string& topic, std::size_t payload) {
  using namespace shmbus::bridge::detail;
  std::vector<std::byte> p(payload, std::byte{7});
  WireEvent w;
  w.priority = Priority::kHigh;
  w.host = "elsewhere";
  w.bus = bus;
  w.topic = topic;
  w.payload = p;
  std::vector<std::byte> out(binary_size(w));
  encode_binary(w, out);
  return out;
}

TEST_F(BridgeNatsTest, BadInputIsCountedAndNamedAndTheBusFlows) {
  TempDir dir("bridge");
  NatsServer nats(shmbus::testing::free_port(), js_options(dir.sub("js")));
  ASSERT_TRUE(nats.start());
  TestBus b("xb");
  BridgeProc bb;
  bb.state_dir = dir.sub("state");
  bb.args = {"--bus", b.name(), "--nats", nats.url(), "--import", "*", "--state-dir", bb.state_dir};
  bb.start();
  ASSERT_TRUE(eventually([&] { return bb.connected(); }, 20s));
  // The subscription reaches the server before the first message: a valid one must arrive.
  ASSERT_TRUE(eventually(
      [&] {
        raw_publish(nats.url(), "shmbus.X.good.one", wire("X", "good.one", 16));
        return b.count("good.one") > 0;
      },
      20s));
  raw_publish(nats.url(), "shmbus.X.bad$topic", wire("X", "bad.topic", 16));
  auto v = wire("X", "t.v", 16);
  v[4] = std::byte{99};  // schema version 99
  raw_publish(nats.url(), "shmbus.X.t.v", v);
  raw_publish(nats.url(), "shmbus.X.t.big", wire("X", "t.big", 1000));  // bus limit: 192
  ASSERT_TRUE(eventually(
      [&] {
        auto s = bb.stats();
        return s && s->reject_subject == 1 && s->reject_version == 1 && s->reject_too_large == 1;
      },
      20s));
  EXPECT_NE(std::string(bb.stats()->last_error).find("larger than"), std::string::npos)
      << bb.stats()->last_error;
  // A batch frame: the event too large is refused alone, the others are published in order;
  // a truncated frame publishes none of its events.
  {
    using namespace shmbus::bridge::detail;
    BatchEncoder enc;
    enc.reserve(8192);
    ASSERT_TRUE(enc.begin("elsewhere", "X", "t.mix", 0));
    const std::vector<std::byte> small(16, std::byte{1}), big(1000, std::byte{2});
    for (const auto* p : {&small, &big, &small}) {
      WireEvent w;
      w.priority = Priority::kHigh;
      w.payload = *p;
      ASSERT_TRUE(enc.append(w));
    }
    const auto f = enc.finish();
    const std::vector<std::byte> frame(f.begin(), f.end());
    raw_publish(nats.url(), "shmbus.X.t.mix", frame);
    raw_publish(nats.url(), "shmbus.X.t.mix",
                std::vector<std::byte>(frame.begin(), frame.end() - 1));
    ASSERT_TRUE(eventually(
        [&] {
          auto s = bb.stats();
          return s && s->reject_too_large == 2 && s->reject_other == 1 && b.count("t.mix") == 2;
        },
        20s))
        << "t.mix " << b.count("t.mix") << "; " << describe(bb.stats());
  }
  // The bridge still works and the bus was never held: a local publisher goes on.
  b.publish("local.t", 0, 5000);
  raw_publish(nats.url(), "shmbus.X.good.two", wire("X", "good.two", 16));
  ASSERT_TRUE(eventually([&] { return b.count("good.two") == 1; }, 20s));
  EXPECT_EQ(b.count("t.v") + b.count("t.big"), 0u);
}

TEST_F(BridgeNatsTest, UnreachableServerIsReportedAndNeverBlocksTheBus) {
  TempDir dir("bridge");
  TestBus a("ua");
  BridgeProc ba;
  ba.state_dir = dir.sub("state");
  const std::string url = "nats://127.0.0.1:" + std::to_string(shmbus::testing::free_port());
  ba.args = {"--bus",     a.name(),  "--nats",      url,          "--export", "*",
             "--durable", "order.*", "--state-dir", ba.state_dir, "--window", "1024"};
  ba.start();
  ASSERT_TRUE(eventually(
      [&] {
        auto s = ba.stats();
        return s && s->pid == static_cast<std::uint64_t>(ba.child.pid());
      },
      20s));
  // Three rings' worth of events on core and durable topics: a bridge that held producers
  // back would make these publishes wait (kWait policy) and time out.
  a.publish("md.x", 0, 3 * 4096);
  a.publish("order.x", 0, 3 * 4096);
  ASSERT_TRUE(eventually(
      [&] {
        auto s = ba.stats();
        std::uint64_t shed = 0;
        for (auto x : s->out.shed) shed += x;
        return s && shed > 0 && s->connected == 0 &&
               std::string(s->last_error).find("NATS") != std::string::npos;
      },
      20s))
      << ba.stats()->last_error;
  EXPECT_TRUE(ba.child.running());
}

// The state directory is the bridge's alone, and the kernel says whether its bridge lives: a
// second bridge on it is refused (exit 5, "used by another live process"); a SIGKILLed bridge
// leaves its registration and STATS behind, and the listing shows it stopped, until a restarted
// bridge takes the directory over. No nats-server: the bridge runs with an unreachable URL.
TEST_F(BridgeNatsTest, StateDirIsOneBridgesAndAKilledBridgeShowsStopped) {
  TempDir dir("bridge");
  TestBus a("la");
  const std::string url = "nats://127.0.0.1:" + std::to_string(shmbus::testing::free_port());
  auto make = [&] {
    BridgeProc b;
    b.state_dir = dir.sub("state");
    b.args = {"--bus", a.name(), "--nats", url, "--export", "md.*", "--state-dir", b.state_dir};
    return b;
  };
  auto listed = [&] {
    const auto all = bridge::list_bus_bridges(a.name());
    return all.size() == 1 ? std::optional<bridge::BusBridge>(all[0]) : std::nullopt;
  };
  BridgeProc first = make();
  first.start();
  ASSERT_TRUE(eventually(
      [&] {
        auto l = listed();
        return l && l->running && l->stats.pid == static_cast<std::uint64_t>(first.child.pid());
      },
      20s));
  BridgeProc second = make();
  second.args.insert(second.args.end(), {"--name", "bridge2"});
  second.start();
  EXPECT_EQ(second.child.wait(20s), 5);  // refused: the directory is the first bridge's
  ASSERT_TRUE(listed() && listed()->running);
  first.child.kill(SIGKILL);
  first.child.wait(10s);
  auto after = listed();
  ASSERT_TRUE(after) << "a killed bridge keeps its registration";
  EXPECT_FALSE(after->running);
  BridgeProc third = make();
  third.start();
  EXPECT_TRUE(eventually(
      [&] {
        auto l = listed();
        return l && l->running && l->stats.pid == static_cast<std::uint64_t>(third.child.pid());
      },
      20s));
}

TEST_F(BridgeNatsTest, WrongCredentialsAreAClearErrorAndExitCode3) {
  TempDir dir("bridge");
  NatsServerOptions o = js_options(dir.sub("js"));
  o.user = "trader";
  o.password = "right";
  NatsServer nats(shmbus::testing::free_port(), o);
  ASSERT_TRUE(nats.start());
  TestBus a("wa");
  BridgeProc ba;
  ba.state_dir = dir.sub("state");
  ba.args = {"--bus",  a.name(), "--nats",     nats.url(), "--export",    "*",
             "--user", "trader", "--password", "wrong",    "--state-dir", ba.state_dir};
  ba.start();
  EXPECT_EQ(ba.child.wait(30s), 3);
  // Meanwhile the bus was never held.
  a.publish("md.x", 0, 2 * 4096);
}

}  // namespace

namespace {

std::string run_output(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

TEST_F(BridgeNatsTest, StatusShowsTheBridgeInTextAndJson) {
  JoinedBuses net("sa", "sb");
  ASSERT_TRUE(net.start());
  TestBus &a = net.a, &b = net.b;
  BridgeProc& bb = net.bb;
  a.publish("order.a", 0, 10);
  a.publish_marker("order.enda", 1);
  ASSERT_TRUE(eventually([&] { return b.count("order.enda") == 1; }, 30s));
  ASSERT_TRUE(eventually([&] { return bb.stats()->in.messages == 41; }, 10s));
  const std::string cli = shmbus::testing::bin_dir() + "/agents/cli/shmbus";
  const std::string json = run_output(cli + " status --bus " + b.name() + " --json");
  const auto j = nlohmann::json::parse(json, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json;
  ASSERT_TRUE(j.contains("bridges")) << json;
  ASSERT_EQ(j["bridges"].size(), 1u) << json;
  const auto& br = j["bridges"][0];
  EXPECT_EQ(br["agent"], "bridge");
  EXPECT_EQ(br["running"], true);
  EXPECT_EQ(br["connected"], true);
  EXPECT_EQ(br["import"]["messages"], 41);
  EXPECT_GT(br["import"]["bytes"].get<std::uint64_t>(), 41u * 16);
  const std::string text = run_output(cli + " status --bus " + b.name());
  EXPECT_NE(text.find("bridges"), std::string::npos) << text;
  EXPECT_NE(text.find("import  messages 41"), std::string::npos) << text;
  // The supervisor's metrics read the same registration.
  double imported = -1, up = -1;
  for (const auto& fam : shmbus::detail::MetricsCollector(b.name()).Collect()) {
    for (const auto& m : fam.metric) {
      bool ours = false, import_dir = false;
      for (const auto& l : m.label) {
        ours = ours || (l.name == "bridge" && l.value == "bridge");
        import_dir = import_dir || (l.name == "direction" && l.value == "import");
      }
      if (!ours) continue;
      if (fam.name == "shmbus_bridge_messages_total" && import_dir) imported = m.counter.value;
      if (fam.name == "shmbus_bridge_up") up = m.gauge.value;
    }
  }
  EXPECT_EQ(imported, 41.0);
  EXPECT_EQ(up, 1.0);
}

}  // namespace
