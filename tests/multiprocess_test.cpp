// Publish/subscribe across real processes: N producer x M subscriber processes
// over every priority and several topics. Every subscriber gets every event it
// subscribed to exactly once, per-producer FIFO holds within a priority, and a
// lower-priority handler never runs while a higher event published before it
// is pending. Also: a producer killed between claim and commit does not wedge
// subscribers, even without a supervisor.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "shmbus/bus.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::ReadyPipe;
using testing::scaled;
using testing::SegmentGuard;
using testing::unique_bus_name;

constexpr int kProducers = 4;
constexpr int kSubscribers = 4;
const std::array<const char*, 4> kTopics = {"mp.a", "mp.b", "mp.c.x", "mp.c.y"};
// What each subscriber subscribes to; -1 = every topic.
const std::array<const char*, kSubscribers> kPatterns = {"*", "mp.c.*", "mp.a", "*"};

struct Payload {
  std::uint32_t producer;
  std::uint32_t priority;
  std::uint64_t round;
};

bool subscribed(int sub, int topic) {
  std::string p = kPatterns[static_cast<std::size_t>(sub)];
  return topic_matches(p, kTopics[static_cast<std::size_t>(topic)]);
}

// Producer p publishes, for each round k, one event per priority from CRITICAL to LOW,
// on topic k % 4. So when LOW k arrives, CRITICAL/HIGH/NORMAL k were committed before it.
int run_producer(const std::string& bus_name, int p, std::uint64_t rounds) {
  auto bus = Bus::attach(bus_name, AgentOptions{.name = "prod" + std::to_string(p),
                                                .wait = WaitStrategy::kSpinYield,
                                                .full_policy = FullPolicy::kWait,
                                                .publish_timeout = 60s});
  if (!bus) return 2;
  std::array<TopicId, 4> ids{};
  for (std::size_t t = 0; t < kTopics.size(); ++t) {
    auto id = bus->find_topic(kTopics[t]);
    if (!id) return 3;
    ids[t] = *id;
  }
  for (std::uint64_t k = 0; k < rounds; ++k) {
    for (std::uint32_t pr = 0; pr < kPriorityCount; ++pr) {
      Payload pl{static_cast<std::uint32_t>(p), pr, k};
      if (bus->publish(ids[k % 4], &pl, sizeof(pl), static_cast<Priority>(pr)) !=
          PublishStatus::kOk) {
        return 4;
      }
    }
  }
  return 0;
}

int run_subscriber(const std::string& bus_name, int s, std::uint64_t rounds, ReadyPipe& ready) {
  auto bus = Bus::attach(
      bus_name, AgentOptions{.name = "sub" + std::to_string(s), .wait = WaitStrategy::kBlock});
  if (!bus) return 2;
  // seen[p][priority][round]
  std::vector<std::vector<std::vector<std::uint8_t>>> seen(
      kProducers,
      std::vector<std::vector<std::uint8_t>>(kPriorityCount, std::vector<std::uint8_t>(rounds, 0)));
  std::uint64_t expected = 0;
  for (std::uint64_t k = 0; k < rounds; ++k) {
    if (subscribed(s, static_cast<int>(k % 4))) expected += kProducers * kPriorityCount;
  }
  std::uint64_t got = 0;
  int failure = 0;
  // Per producer and priority: the next round we expect (FIFO), and how many were handled.
  std::array<std::array<std::uint64_t, kPriorityCount>, kProducers> next_round{};
  std::array<std::array<std::uint64_t, kPriorityCount>, kProducers> handled{};
  auto on_event = [&](const EventView& e) {
    // "*" also matches the bus's own sys.* events (e.g. a handler over its time budget on this
    // loaded machine is reported on sys.error); only the producers' events are counted.
    if ((e.flags & kFlagSystem) != 0) return;
    Payload pl{};
    if (!e.copy_to(pl) || pl.producer >= kProducers || pl.priority >= kPriorityCount ||
        pl.round >= rounds || pl.priority != index_of(e.priority)) {
      failure = failure ? failure : 10;
      return;
    }
    auto& slot = seen[pl.producer][pl.priority][pl.round];
    if (slot != 0) failure = failure ? failure : 11;  // duplicate
    slot = 1;
    // FIFO per producer within a priority: rounds this subscriber sees only increase.
    if (pl.round < next_round[pl.producer][pl.priority]) failure = failure ? failure : 12;
    next_round[pl.producer][pl.priority] = pl.round + 1;
    // Priority: every higher-priority event of this round (same topic, published before
    // this one) was handled already.
    for (std::uint32_t h = 0; h < pl.priority; ++h) {
      if (seen[pl.producer][h][pl.round] == 0 && failure == 0) {
        failure = 13;
        std::fprintf(stderr, "sub %d: %s event of producer %u round %llu before %s\n", s,
                     priority_name(e.priority).data(), pl.producer,
                     static_cast<unsigned long long>(pl.round),
                     priority_name(static_cast<Priority>(h)).data());
      }
    }
    ++handled[pl.producer][pl.priority];
    if (++got == expected) bus->stop();
  };
  if (!bus->on(kPatterns[static_cast<std::size_t>(s)], on_event)) return 5;
  ready.signal();
  bus->run_for(120s);
  if (failure != 0) return failure;
  if (got != expected) return 14;
  return 0;
}

TEST(MultiProcessTest, FourByFourExactlyOnceFifoAndPriorityOrder) {
  const std::string name = unique_bus_name("mp");
  SegmentGuard guard(name);
  BusConfig cfg;
  cfg.name = name;
  cfg.ring_capacity = {1024, 1024, 2048, 2048};
  cfg.max_agents = 16;
  auto owner = Bus::create(cfg, AgentOptions{.name = "owner"});
  ASSERT_TRUE(owner) << owner.message();
  for (const char* t : kTopics) ASSERT_TRUE(owner->register_topic(t, sizeof(Payload)));

  const std::uint64_t rounds = scaled(25'000);  // x4 priorities x4 producers = 400k events
  ReadyPipe ready;
  std::vector<Child> subs;
  for (int s = 0; s < kSubscribers; ++s) {
    subs.push_back(Child::fork([&, s] { return run_subscriber(name, s, rounds, ready); }));
  }
  ASSERT_TRUE(ready.wait(kSubscribers, 30s)) << "subscribers did not come up";
  std::vector<Child> prods;
  for (int p = 0; p < kProducers; ++p) {
    prods.push_back(Child::fork([&, p] { return run_producer(name, p, rounds); }));
  }
  for (int p = 0; p < kProducers; ++p) {
    EXPECT_EQ(prods[static_cast<std::size_t>(p)].wait(180s), 0) << "producer " << p;
  }
  for (int s = 0; s < kSubscribers; ++s) {
    // 10 duplicate, 12 FIFO broken, 13 priority order broken, 14 missing events.
    EXPECT_EQ(subs[static_cast<std::size_t>(s)].wait(180s), 0) << "subscriber " << s;
  }
}

TEST(MultiProcessTest, ProducerKilledBetweenClaimAndCommitDoesNotWedgeSubscribers) {
  const std::string name = unique_bus_name("mpkill");
  SegmentGuard guard(name);
  BusConfig cfg;
  cfg.name = name;
  cfg.ring_capacity = {64, 64, 128, 128};
  cfg.history_depth = 16;
  cfg.max_agents = 8;
  auto owner = Bus::create(cfg, AgentOptions{.name = "owner", .wait = WaitStrategy::kBlock});
  ASSERT_TRUE(owner) << owner.message();
  auto topic = owner->register_topic("k.x", sizeof(std::uint64_t));
  ASSERT_TRUE(topic);
  std::vector<std::uint64_t> got;
  ASSERT_TRUE(owner->on("k.x", [&](const EventView& e) {
    std::uint64_t v = 0;
    e.copy_to(v);
    got.push_back(v);
  }));

  ReadyPipe ready;
  Child victim = Child::fork([&] {
    auto bus = Bus::attach(name, AgentOptions{.name = "victim"});
    if (!bus) return 2;
    std::uint64_t before = 1;
    if (bus->publish(*topic, &before, sizeof(before)) != PublishStatus::kOk) return 3;
    Claim c = bus->claim(*topic, sizeof(std::uint64_t));  // never committed
    if (!c.ok()) return 4;
    ready.signal();
    ::pause();
    return 0;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  victim.kill(SIGKILL);
  ASSERT_EQ(victim.wait(10s), 128 + SIGKILL);

  std::uint64_t after = 2;
  ASSERT_EQ(owner->publish(*topic, &after, sizeof(after)), PublishStatus::kOk);
  // The reader is stuck behind the dead claim until it notices the dead producer and pads it.
  auto e = owner->wait_for("k.x", 5s, [](const EventView& v) {
    std::uint64_t x = 0;
    v.copy_to(x);
    return x == 2;
  });
  ASSERT_TRUE(e) << e.message();
  EXPECT_EQ(got, (std::vector<std::uint64_t>{1, 2}));  // nothing lost, nothing twice
  // The victim's name is free again.
  auto again = Bus::attach(name, AgentOptions{.name = "victim"});
  EXPECT_TRUE(again) << again.message();
}

}  // namespace
}  // namespace shmbus
