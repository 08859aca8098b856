// The bridge end to end: real nats-server processes on loopback ports, two buses on this host
// with one shmbus-bridge process each. Exactly once in both directions at every priority with no
// loops; a broker killed and restarted; a bridge killed and restarted; a JetStream cluster that
// loses a server; bad input of every kind. Waits are on conditions with deadlines, never sleeps.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bridge/wire_format.hpp"
#include "shmbus/bridge_stats.hpp"
#include "shmbus/bus.hpp"
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
    ASSERT_EQ(seqs[p].size(), n) << topic << " priority " << p;
    for (std::uint64_t i = 0; i < n; ++i) {
      ASSERT_EQ(seqs[p][i], i) << topic << " priority " << p << " index " << i;
    }
  }
}

struct BridgeProc {
  std::vector<std::string> args;
  std::string state_dir;
  Child child;
  void start() { child = Child::exec(bridge_bin(), args); }
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

TEST_F(BridgeNatsTest, ExactlyOnceBothWaysEveryPriorityNoLoops) {
  TempDir dir("bridge");
  NatsServer nats(shmbus::testing::free_port(), js_options(dir.sub("js")));
  ASSERT_TRUE(nats.start());
  TestBus a("ba"), b("bb");
  BridgeProc ba = make_bridge(dir, a.name(), nats.url(), b.name());
  BridgeProc bb = make_bridge(dir, b.name(), nats.url(), a.name());
  ba.start();
  bb.start();
  ASSERT_TRUE(eventually([&] { return ba.connected() && bb.connected(); }, 20s));
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

}  // namespace
