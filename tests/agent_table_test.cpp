// The agent table: unique live names, capacity, and recovery of a killed agent
// (its name reusable, its cursors no longer holding producers back).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "shm/agent_table.hpp"
#include "shm/bus_access.hpp"
#include "shmbus/bus.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::ReadyPipe;
using testing::unique_bus_name;

BusConfig cfg(const std::string& name) {
  return testing::small_bus_config(name, 3, 16);
}

TEST(AgentTableTest, RecordHoldsNamePidAndStartTime) {
  auto bus = Bus::create(cfg(unique_bus_name("agents")), AgentOptions{.name = "alpha"});
  ASSERT_TRUE(bus);
  const detail::AgentRecord& rec = detail::BusAccess::impl(*bus).record();
  EXPECT_EQ(detail::agent_name(rec), "alpha");
  EXPECT_EQ(rec.pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_NE(rec.start_time, 0u);
  EXPECT_EQ(rec.state.load(), static_cast<std::uint32_t>(detail::AgentState::kActive));
}

TEST(AgentTableTest, DetachFreesTheRecordAndName) {
  const std::string name = unique_bus_name("agents");
  auto bus = Bus::create(cfg(name), AgentOptions{.name = "owner"});
  ASSERT_TRUE(bus);
  {
    auto a = Bus::attach(name, AgentOptions{.name = "x"});
    ASSERT_TRUE(a);
    EXPECT_EQ(Bus::attach(name, AgentOptions{.name = "x"}).code(), Errc::kAlreadyExists);
  }
  EXPECT_TRUE(Bus::attach(name, AgentOptions{.name = "x"}));
}

TEST(AgentTableTest, TableFullIsCapacityExceeded) {
  const std::string name = unique_bus_name("agents");
  auto bus = Bus::create(cfg(name), AgentOptions{.name = "a0"});
  ASSERT_TRUE(bus);
  auto a1 = Bus::attach(name, AgentOptions{.name = "a1"});
  auto a2 = Bus::attach(name, AgentOptions{.name = "a2"});
  ASSERT_TRUE(a1 && a2);
  auto a3 = Bus::attach(name, AgentOptions{.name = "a3"});
  EXPECT_EQ(a3.code(), Errc::kCapacityExceeded);
}

TEST(AgentTableTest, KilledAgentIsRecoveredAndItsCursorReleased) {
  const std::string name = unique_bus_name("agents");
  auto bus = Bus::create(cfg(name), AgentOptions{.name = "owner"});
  ASSERT_TRUE(bus);
  ReadyPipe ready;
  Child c = Child::fork([&] {
    auto b = Bus::attach(name, AgentOptions{.name = "doomed"});
    if (!b) return 2;
    if (!b->on("*", [](const EventView&) {})) return 3;  // a tethered cursor on every ring
    ready.signal();
    ::pause();
    return 0;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  c.kill(SIGKILL);
  ASSERT_EQ(c.wait(10s), 128 + SIGKILL);
  auto recovered =
      detail::sweep_dead_agents(detail::BusAccess::impl(*bus).segment(), bus->agent_index());
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].name, "doomed");
  for (const auto& cur :
       detail::BusAccess::impl(*bus).segment().agent(recovered[0].index).cursors) {
    EXPECT_EQ(cur.flags.load(), 0u);
  }
  EXPECT_TRUE(Bus::attach(name, AgentOptions{.name = "doomed"}));
}

TEST(AgentTableTest, LiveAgentIsNotSwept) {
  const std::string name = unique_bus_name("agents");
  auto bus = Bus::create(cfg(name), AgentOptions{.name = "owner"});
  ASSERT_TRUE(bus);
  auto other = Bus::attach(name, AgentOptions{.name = "alive"});
  ASSERT_TRUE(other);
  EXPECT_TRUE(detail::sweep_dead_agents(detail::BusAccess::impl(*bus).segment(), bus->agent_index())
                  .empty());
}

}  // namespace
}  // namespace shmbus
