// Smoke test of the demo pipeline: the supervisor and every example agent as separate processes
// on one bus for a few seconds. Barrier rounds must complete, orders must be filled (counted by a
// subscriber here), no agent may turn unhealthy, and everything stops cleanly on SIGTERM.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shmbus/barrier.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/sys_events.hpp"
#include "testing/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using shmbus::testing::Child;

std::string agent_path(const std::string& name) {
  return shmbus::testing::bin_dir() + "/agents/examples/" + name;
}

// The real supervisor on `bus_name`; true once it runs the bus.
bool start_supervisor(const std::string& bus_name, Child& out) {
  // Port 0: the default port (9464) is MetricsTest's; tests run in parallel.
  out = Child::exec(shmbus::testing::bin_dir() + "/agents/supervisor/shmbus-supervisor",
                    {"--bus", bus_name, "--log-level", "warn", "--metrics-address", "127.0.0.1:0"});
  return shmbus::testing::eventually(
      [&] {
        auto s = shmbus::inspect_bus(bus_name);
        return s.ok() && s->supervisor_alive;
      },
      20s);
}

TEST(DemoTest, PipelineFillsOrdersAndCompletesBarrierRounds) {
  shmbus::testing::SegmentGuard guard(shmbus::testing::unique_bus_name("demo"));
  const std::string& bus_name = guard.name();
  Child supervisor;
  ASSERT_TRUE(start_supervisor(bus_name, supervisor));

  // A subscriber of our own, attached before the pipeline starts so it sees every fill.
  auto bus =
      shmbus::Bus::attach(bus_name, {.name = "demo-test", .wait = shmbus::WaitStrategy::kBlock});
  ASSERT_TRUE(bus.ok()) << bus.message();
  std::uint64_t fills = 0;
  ASSERT_TRUE(bus->on("order.filled", [&](const shmbus::EventView&) { ++fills; }).ok());

  const std::vector<std::string> common{"--bus", bus_name, "--log-level", "warn"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return extra;
  };
  std::vector<Child> agents;
  agents.push_back(Child::exec(agent_path("cio"), with({"--strategies", "3"})));
  agents.push_back(Child::exec(agent_path("risk"), with({})));
  agents.push_back(Child::exec(agent_path("execution"), with({})));
  agents.push_back(Child::exec(agent_path("logger"), with({})));
  for (const char* id : {"1", "2", "3"}) {
    agents.push_back(Child::exec(agent_path("strategy"), with({"--id", id})));
  }
  agents.push_back(Child::exec(agent_path("md_feed"), with({"--rate", "200"})));

  // Run for at least a few seconds (health is judged over time), dispatching all along: our
  // cursor is tethered, so it must keep up. Every agent's health is sampled on the way.
  std::uint64_t completed = 0;
  std::vector<std::string> unhealthy;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 60s) {
    bus->run_for(100ms);
    auto barriers = shmbus::list_barriers(bus_name);
    if (barriers) {
      for (const auto& b : *barriers) {
        if (b.name == "decision") completed = b.completed;
      }
    }
    if (auto s = shmbus::inspect_bus(bus_name)) {
      for (const auto& a : s->agents) {
        if (a.health == shmbus::sys::HealthState::kUnhealthy ||
            a.health == shmbus::sys::HealthState::kDead) {
          unhealthy.push_back(a.name);
        }
      }
    }
    if (fills >= 5 && completed >= 5 && std::chrono::steady_clock::now() - start >= 4s) break;
  }
  EXPECT_GE(completed, 5u);
  EXPECT_GE(fills, 5u);
  EXPECT_TRUE(unhealthy.empty()) << "unhealthy at some point: " << unhealthy.front();

  auto snap = shmbus::inspect_bus(bus_name);
  ASSERT_TRUE(snap.ok()) << snap.message();
  std::vector<std::string> names;
  for (const auto& a : snap->agents) {
    names.push_back(a.name);
    EXPECT_TRUE(a.alive) << a.name;
    EXPECT_NE(a.health, shmbus::sys::HealthState::kUnhealthy) << a.name;
    EXPECT_NE(a.health, shmbus::sys::HealthState::kDead) << a.name;
  }
  for (const char* want : {"supervisor", "cio", "risk", "execution", "logger", "strategy-1",
                           "strategy-2", "strategy-3", "md_feed", "demo-test"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_NE(snap->bus_health, shmbus::sys::HealthState::kUnhealthy);

  // Clean stop: every agent exits 0 on SIGTERM, then the supervisor removes the segment.
  for (Child& c : agents) c.kill(SIGTERM);
  for (Child& c : agents) EXPECT_EQ(c.wait(20s), 0);
  bus = shmbus::Error{};  // detach before the supervisor leaves
  supervisor.kill(SIGTERM);
  EXPECT_EQ(supervisor.wait(20s), 0);
  EXPECT_EQ(shmbus::inspect_bus(bus_name).code(), shmbus::Errc::kNotFound);
}

// The soak's failing handlers (scripts/soak.sh): a strategy whose quote handler throws in
// bursts longer than max_handler_failures is isolated (sys.error per throw), unsubscribed by
// the bus, and subscribes again by itself, over and over, while the agent stays alive and
// healthy. Without the recovery there would be exactly one kHandlerUnsubscribed.
TEST(DemoTest, StrategyWhoseHandlerFailsInBurstsRecovers) {
  shmbus::testing::SegmentGuard guard(shmbus::testing::unique_bus_name("fail"));
  const std::string& bus_name = guard.name();
  Child supervisor;
  ASSERT_TRUE(start_supervisor(bus_name, supervisor));
  auto bus =
      shmbus::Bus::attach(bus_name, {.name = "fail-test", .wait = shmbus::WaitStrategy::kBlock});
  ASSERT_TRUE(bus.ok()) << bus.message();
  std::uint64_t thrown = 0, unsubscribed = 0;
  ASSERT_TRUE(bus->on("sys.error",
                      [&](const shmbus::EventView& e) {
                        shmbus::sys::ErrorEvent err;
                        if (!e.copy_to(err) || shmbus::symbol_view(err.agent) != "strategy-1")
                          return;
                        if (err.kind == shmbus::sys::ErrorKind::kHandlerException) ++thrown;
                        if (err.kind == shmbus::sys::ErrorKind::kHandlerUnsubscribed) {
                          EXPECT_EQ(shmbus::symbol_view(err.handler), "strategy.quotes");
                          ++unsubscribed;
                        }
                      })
                  .ok());

  const std::vector<std::string> common{"--bus", bus_name, "--log-level", "warn"};
  // Bursts of 6 throws every 60 quotes: max_handler_failures (5) is reached in each burst.
  Child strategy =
      Child::exec(agent_path("strategy"), {"--id", "1", "--fail-every", "60", "--fail-burst", "6",
                                           "--bus", bus_name, "--log-level", "warn"});
  Child feed = Child::exec(agent_path("md_feed"),
                           {"--rate", "1000", "--bus", bus_name, "--log-level", "warn"});
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> unhealthy;
  while (unsubscribed < 4 && std::chrono::steady_clock::now() - start < 60s) {
    bus->run_for(100ms);
    if (auto s = shmbus::inspect_bus(bus_name)) {
      for (const auto& a : s->agents) {
        // DEGRADED during a burst is the health monitor doing its job (an error streak);
        // UNHEALTHY or DEAD would mean the streak never ended or the agent died.
        if (a.name == "strategy-1" && (a.health == shmbus::sys::HealthState::kUnhealthy ||
                                       a.health == shmbus::sys::HealthState::kDead)) {
          unhealthy.push_back(std::string(shmbus::sys::health_name(a.health)));
        }
      }
    }
  }
  // Each unsubscription needs the handler subscribed and failing 5 calls in a row: 4 of them
  // mean it was subscribed again at least 3 times, and each burst was isolated call by call.
  EXPECT_GE(unsubscribed, 4u);
  EXPECT_GE(thrown, 5 * unsubscribed);
  EXPECT_TRUE(unhealthy.empty()) << "strategy-1 was " << unhealthy.front();
  EXPECT_TRUE(strategy.running());

  for (Child* c : {&feed, &strategy}) c->kill(SIGTERM);
  EXPECT_EQ(feed.wait(20s), 0);
  EXPECT_EQ(strategy.wait(20s), 0);
  bus = shmbus::Error{};
  supervisor.kill(SIGTERM);
  EXPECT_EQ(supervisor.wait(20s), 0);
}

}  // namespace
