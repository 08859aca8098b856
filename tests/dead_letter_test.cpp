// Dead letters: failed events land in the bounded area of the segment with the
// failing handler and reason, are listed by another process without attaching,
// re-published (kFlagReplayed) by another process, and an overflow drops the
// oldest first and counts it. The multi-writer protocol also gets a threads-only
// test (TSan sees one process only).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shm/dead_letter_area.hpp"
#include "shm/segment.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/dead_letters.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::SegmentGuard;
using testing::unique_bus_name;

BusConfig dl_config(const std::string& name, std::uint32_t dead_letters) {
  BusConfig c;
  c.name = name;
  c.ring_capacity = {256, 256, 256, 256};
  c.history_depth = 16;
  c.max_agents = 8;
  c.max_topics = 32;
  c.dead_letter_capacity = dead_letters;
  return c;
}

std::uint64_t u64(std::span<const std::byte> p) {
  std::uint64_t v = 0;
  if (p.size() == sizeof v) std::memcpy(&v, p.data(), sizeof v);
  return v;
}

struct DeadLetterTest : ::testing::Test {
  void start(std::uint32_t capacity) {
    name = unique_bus_name("dl");
    auto b = Bus::create(dl_config(name, capacity),
                         AgentOptions{.name = "owner", .max_handler_failures = 0});
    ASSERT_TRUE(b) << b.message();
    owner = std::make_unique<Bus>(std::move(b.value()));
    auto t = owner->register_topic("order.new", sizeof(std::uint64_t));
    ASSERT_TRUE(t) << t.message();
    topic = *t;
  }
  void TearDown() override { owner.reset(); }
  void drain() {
    for (int quiet = 0; quiet < 3;) quiet = owner->poll() == 0 ? quiet + 1 : 0;
  }
  std::string name;
  std::unique_ptr<Bus> owner;
  TopicId topic = kInvalidTopic;
};

TEST_F(DeadLetterTest, ListedAndReplayedFromAnotherProcess) {
  start(64);
  std::vector<std::uint64_t> replayed;
  ASSERT_TRUE(owner->on(
      "order.new",
      [&](const EventView& v) {
        if ((v.flags & kFlagReplayed) == 0) {
          throw std::runtime_error("venue down for " + std::to_string(u64(v.payload)));
        }
        replayed.push_back(u64(v.payload));
      },
      HandlerOptions{"exec.route"}));
  for (std::uint64_t i = 0; i < 10; ++i) {
    ASSERT_EQ(owner->publish(topic, &i, sizeof i, Priority::kHigh), PublishStatus::kOk);
  }
  drain();

  Child child = Child::fork([&]() -> int {
    // Listing needs no agent record.
    auto letters = list_dead_letters(name);
    if (!letters || letters->size() != 10) return 2;
    for (std::uint64_t i = 0; i < 10; ++i) {
      const DeadLetter& d = (*letters)[i];
      if (d.topic_name != "order.new" || d.handler != "exec.route") return 3;
      if (d.reason != "venue down for " + std::to_string(i)) return 4;
      if (u64(d.payload) != i || d.priority != Priority::kHigh) return 5;
      if (d.index != i) return 6;
    }
    auto bus = Bus::attach(name, AgentOptions{.name = "replayer"});
    if (!bus) return 7;
    DeadLetterFilter filter;
    filter.pattern = "order.*";
    auto n = replay_dead_letters(*bus, filter);
    if (!n || *n != 10) return 8;
    return 0;
  });
  ASSERT_EQ(child.wait(30s), 0);
  drain();
  std::vector<std::uint64_t> want;
  for (std::uint64_t i = 0; i < 10; ++i) want.push_back(i);
  EXPECT_EQ(replayed, want);
  auto after = list_dead_letters(name);
  ASSERT_TRUE(after) << after.message();
  EXPECT_EQ(after->size(), 10u);  // replayed events succeeded: no new letters
}

TEST_F(DeadLetterTest, ReplayFilterSelectsByHandlerAndIndex) {
  start(64);
  ASSERT_TRUE(owner->on(
      "order.new",
      [](const EventView& v) {
        if ((v.flags & kFlagReplayed) == 0) throw std::runtime_error("a");
      },
      HandlerOptions{"first"}));
  ASSERT_TRUE(owner->on(
      "order.new",
      [](const EventView& v) {
        if ((v.flags & kFlagReplayed) == 0 && u64(v.payload) % 2 == 0) {
          throw std::runtime_error("b");
        }
      },
      HandlerOptions{"second"}));
  for (std::uint64_t i = 0; i < 6; ++i)
    ASSERT_EQ(owner->publish(topic, &i, sizeof i), PublishStatus::kOk);
  drain();
  auto all = list_dead_letters(*owner);
  ASSERT_TRUE(all) << all.message();
  ASSERT_EQ(all->size(), 9u);  // 6 for "first", 3 for "second"
  DeadLetterFilter by_handler;
  by_handler.handler = "second";
  auto n = replay_dead_letters(*owner, by_handler);
  ASSERT_TRUE(n) << n.message();
  EXPECT_EQ(*n, 3u);
  DeadLetterFilter by_index;
  by_index.min_index = 7;
  auto m = replay_dead_letters(*owner, by_index);
  ASSERT_TRUE(m) << m.message();
  EXPECT_EQ(*m, 2u);
  DeadLetterFilter bad_pattern;
  bad_pattern.pattern = "bad..pattern";
  auto bad = replay_dead_letters(*owner, bad_pattern);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.code(), Errc::kInvalidArgument);
}

TEST_F(DeadLetterTest, OverflowDropsTheOldestAndCountsIt) {
  start(8);
  ASSERT_TRUE(owner->on(
      "order.new", [](const EventView&) { throw std::runtime_error("no"); },
      HandlerOptions{"rejecter"}));
  constexpr std::uint64_t kFailures = 20;
  for (std::uint64_t i = 0; i < kFailures; ++i) {
    ASSERT_EQ(owner->publish(topic, &i, sizeof i), PublishStatus::kOk);
  }
  drain();
  auto letters = list_dead_letters(name);
  ASSERT_TRUE(letters) << letters.message();
  ASSERT_EQ(letters->size(), 8u);
  for (std::size_t k = 0; k < 8; ++k) {
    EXPECT_EQ((*letters)[k].index, kFailures - 8 + k);
    EXPECT_EQ(u64((*letters)[k].payload), kFailures - 8 + k);
  }
  auto totals = dead_letter_totals(name);
  ASSERT_TRUE(totals) << totals.message();
  EXPECT_EQ(totals->written, kFailures);
  EXPECT_EQ(totals->dropped, kFailures - 8);
  EXPECT_EQ(totals->capacity, 8u);
}

TEST_F(DeadLetterTest, ZeroCapacityKeepsNothing) {
  start(0);
  ASSERT_TRUE(owner->on("order.new", [](const EventView&) { throw std::runtime_error("x"); }));
  std::uint64_t v = 1;
  ASSERT_EQ(owner->publish(topic, &v, sizeof v), PublishStatus::kOk);
  drain();
  auto letters = list_dead_letters(name);
  ASSERT_TRUE(letters) << letters.message();
  EXPECT_TRUE(letters->empty());
}

// A writer preempted between claiming its entry and committing makes the writer a lap later
// give up (counted dropped); the slow writer's letter, committed last, stays in the entry and
// must be listed though it is older than the last `capacity` claims.
TEST(DeadLetterAreaTest, SlowWritersLetterIsListedWhenTheNextLapGaveUp) {
  const std::string name = unique_bus_name("dlslow");
  SegmentGuard guard(name);
  auto seg = detail::Segment::create(dl_config(name, 4));
  ASSERT_TRUE(seg) << seg.message();
  detail::DeadLetterArea area(**seg);
  auto& header = *reinterpret_cast<detail::DeadLetterHeader*>(
      (*seg)->region((*seg)->plan().dead_letters_offset));
  auto& entry0 = *reinterpret_cast<detail::DeadLetterEntry*>(
      (*seg)->region((*seg)->plan().dead_letters_offset) + sizeof(detail::DeadLetterHeader));
  // The slow writer claims index 0 and marks entry 0 as being written, as write() does.
  ASSERT_EQ(header.head.fetch_add(1), 0u);
  entry0.seq.store(1 | detail::kDeadLetterWriting);
  alignas(64) std::byte raw[sizeof(detail::SlotHeader)] = {};
  auto& h = *reinterpret_cast<detail::SlotHeader*>(raw);
  for (std::uint64_t v = 1; v <= 4; ++v) {  // indices 1..4; index 4 is entry 0's next lap
    h.producer_seq = v;
    detail::DeadLetterRecord rec;
    rec.event = &h;
    rec.payload = reinterpret_cast<const std::byte*>(&v);
    rec.length = sizeof v;
    rec.handler = "h";
    rec.reason = "r";
    EXPECT_EQ(area.write(rec), v != 4) << v;
  }
  // The slow writer finishes its letter and commits.
  entry0.producer_seq = 0;
  entry0.seq.store(1);
  const auto kept = area.read();
  ASSERT_EQ(kept.size(), 4u);
  for (std::uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(kept[i].index, i);  // oldest first
    EXPECT_EQ(kept[i].producer_seq, i);
  }
  EXPECT_EQ(area.written(), 5u);
  EXPECT_EQ(area.dropped() + kept.size(), 5u);
}

TEST(DeadLetterAreaTest, ConcurrentWritersNeverTearAnEntry) {
  const std::string name = unique_bus_name("dlmt");
  SegmentGuard guard(name);
  auto seg = detail::Segment::create(dl_config(name, 16));
  ASSERT_TRUE(seg) << seg.message();
  detail::DeadLetterArea area(**seg);
  constexpr int kThreads = 4;
  const std::uint64_t per_thread = testing::scaled(20'000);
  std::atomic<bool> go{false};
  std::atomic<bool> stop_reader{false};
  std::atomic<std::uint64_t> torn{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) {
      }
      alignas(64) std::byte raw[sizeof(detail::SlotHeader)] = {};
      auto& h = *reinterpret_cast<detail::SlotHeader*>(raw);
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        const std::uint64_t v = (static_cast<std::uint64_t>(t) << 32) | i;
        h.producer_seq = v;
        h.topic_id = static_cast<std::uint32_t>(t);
        const std::string reason = std::to_string(v);
        const std::string handler = "h" + std::to_string(t);
        detail::DeadLetterRecord rec;
        rec.event = &h;
        rec.payload = reinterpret_cast<const std::byte*>(&v);
        rec.length = sizeof v;
        rec.handler = handler;
        rec.reason = reason;
        (void)area.write(rec);
      }
    });
  }
  std::thread reader([&] {
    while (!stop_reader.load()) {
      for (const auto& c : area.read()) {
        std::uint64_t v = 0;
        std::memcpy(&v, c.payload.data(), sizeof v);
        const bool ok = c.payload.size() == sizeof v && c.producer_seq == v &&
                        c.topic_id == (v >> 32) && c.reason == std::to_string(v) &&
                        c.handler == "h" + std::to_string(v >> 32);
        if (!ok) torn.fetch_add(1);
      }
    }
  });
  go.store(true);
  for (auto& t : threads) t.join();
  stop_reader.store(true);
  reader.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(area.written(), kThreads * per_thread);
  const auto kept = area.read();
  EXPECT_LE(kept.size(), 16u);
  EXPECT_GE(kept.size(), 1u);
  // Every letter is either kept or counted as dropped.
  EXPECT_EQ(area.dropped() + kept.size(), kThreads * per_thread);
}

}  // namespace
}  // namespace shmbus
