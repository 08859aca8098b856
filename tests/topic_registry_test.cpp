// The topic registry: ids, per-process caches seeing other processes' topics,
// conflicting registrations, capacity, and pattern matching.
#include <gtest/gtest.h>

#include "shm/topic_registry.hpp"
#include "shmbus/bus.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::unique_bus_name;

BusConfig cfg(const std::string& name) {
  return testing::small_bus_config(name, 4, 16);
}

TEST(TopicRegistryTest, RegisterIsIdempotentAndIdsAreDense) {
  auto bus = Bus::create(cfg(unique_bus_name("topics")), AgentOptions{.name = "a"});
  ASSERT_TRUE(bus);
  auto a = bus->register_topic("order.filled", 16);
  auto b = bus->register_topic("md.quote.ESZ6");
  auto a2 = bus->register_topic("order.filled", 16);
  ASSERT_TRUE(a && b && a2);
  EXPECT_EQ(*a, 0u);
  EXPECT_EQ(*b, 1u);
  EXPECT_EQ(*a2, *a);
  EXPECT_EQ(bus->topic_name(*b), "md.quote.ESZ6");
  EXPECT_EQ(bus->find_topic("nope.x").code(), Errc::kNotFound);
}

TEST(TopicRegistryTest, ConflictingSizeOrSchemaIsRejected) {
  auto bus = Bus::create(cfg(unique_bus_name("topics")), AgentOptions{.name = "a"});
  ASSERT_TRUE(bus);
  ASSERT_TRUE(bus->register_topic("x.y", 16, 2));
  EXPECT_EQ(bus->register_topic("x.y", 24).code(), Errc::kInvalidArgument);
  EXPECT_EQ(bus->register_topic("x.y", 16, 3).code(), Errc::kInvalidArgument);
  EXPECT_TRUE(bus->register_topic("x.y", 16));  // schema 0 = any
}

TEST(TopicRegistryTest, TopicRegisteredInAnotherProcessIsFound) {
  const std::string name = unique_bus_name("topics");
  auto bus = Bus::create(cfg(name), AgentOptions{.name = "a"});
  ASSERT_TRUE(bus);
  Child c = Child::fork([&] {
    auto other = Bus::attach(name, AgentOptions{.name = "b"});
    if (!other) return 2;
    return other->register_topic("risk.limit", 8) ? 0 : 3;
  });
  ASSERT_EQ(c.wait(10s), 0);
  auto id = bus->find_topic("risk.limit");
  ASSERT_TRUE(id) << id.message();
  std::uint64_t v = 5;
  EXPECT_EQ(bus->publish(*id, &v, sizeof(v)), PublishStatus::kOk);
}

TEST(TopicRegistryTest, FullRegistryIsCapacityExceeded) {
  auto bus = Bus::create(cfg(unique_bus_name("topics")), AgentOptions{.name = "a"});
  ASSERT_TRUE(bus);
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(bus->register_topic("t.n" + std::to_string(i)));
  auto r = bus->register_topic("t.one_more");
  EXPECT_EQ(r.code(), Errc::kCapacityExceeded);
  EXPECT_NE(r.message().find("max_topics"), std::string::npos) << r.message();
}

TEST(TopicRegistryTest, PatternMatching) {
  EXPECT_TRUE(topic_matches("*", "a"));
  EXPECT_TRUE(topic_matches("order.*", "order.filled"));
  EXPECT_TRUE(topic_matches("order.*", "order.cancel.ack"));
  EXPECT_FALSE(topic_matches("order.*", "order"));
  EXPECT_FALSE(topic_matches("order.*", "orders.x"));
  EXPECT_TRUE(topic_matches("md.quote", "md.quote"));
  EXPECT_FALSE(topic_matches("md.quote", "md.quote.ESZ6"));
  EXPECT_TRUE(validate_topic_pattern("a.*").empty());
  EXPECT_FALSE(validate_topic_pattern("a*").empty());
  EXPECT_FALSE(validate_topic_pattern(".*").empty());
}

}  // namespace
}  // namespace shmbus
