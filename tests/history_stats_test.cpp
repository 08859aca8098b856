// Ring history and bus statistics, read by another process: the last K matching
// events per ring in order, per-agent counters matching what the test did,
// queue depth, and delivery-latency percentiles consistent with timestamps the
// test took itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "shm/clock.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/stats.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::unique_bus_name;

BusConfig hs_config(const std::string& name) {
  BusConfig c;
  c.name = name;
  c.ring_capacity = {64, 64, 128, 64};
  c.history_depth = 32;  // <= capacity / 2
  c.max_agents = 8;
  c.max_topics = 32;
  return c;
}

std::uint64_t u64(std::span<const std::byte> p) {
  std::uint64_t v = 0;
  if (p.size() == sizeof v) std::memcpy(&v, p.data(), sizeof v);
  return v;
}

// Child-side check: prints what failed and returns `code` (the parent shows the code).
#define CHILD_EXPECT(cond, code)                                             \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "child: %s failed (line %d)\n", #cond, __LINE__); \
      return code;                                                           \
    }                                                                        \
  } while (0)

const AgentStats* find_agent(const BusStats& st, const std::string& name) {
  for (const auto& a : st.agents) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

TEST(HistoryTest, LastKMatchingEventsInOrderFromAnotherProcess) {
  const std::string name = unique_bus_name("hist");
  auto owner = Bus::create(hs_config(name), AgentOptions{.name = "owner"});
  ASSERT_TRUE(owner) << owner.message();
  auto quote = owner->register_topic("md.quote", sizeof(std::uint64_t));
  auto trade = owner->register_topic("md.trade", sizeof(std::uint64_t));
  auto fill = owner->register_topic("order.filled", sizeof(std::uint64_t));
  ASSERT_TRUE(quote && trade && fill);
  // 300 events on the NORMAL ring (capacity 128: the oldest are overwritten), interleaved
  // topics, and a few HIGH events in between.
  for (std::uint64_t i = 0; i < 300; ++i) {
    ASSERT_EQ(owner->publish(i % 2 == 0 ? *quote : *trade, &i, sizeof i), PublishStatus::kOk);
    if (i % 50 == 0) {
      ASSERT_EQ(owner->publish(*fill, &i, sizeof i, Priority::kHigh), PublishStatus::kOk);
    }
  }
  Child child = Child::fork([&]() -> int {
    auto late = Bus::attach(name, AgentOptions{.name = "late"});
    CHILD_EXPECT(late, 2);
    auto quotes = late->history("md.quote", 10);
    CHILD_EXPECT(quotes && quotes->size() == 10, 3);
    for (std::size_t k = 0; k < 10; ++k) {
      const OwnedEvent& e = (*quotes)[k];
      CHILD_EXPECT(u64(e.payload) == 280 + 2 * k, 4);
      CHILD_EXPECT(e.topic_name == "md.quote", 5);
      CHILD_EXPECT((e.flags & kFlagFromHistory) != 0, 6);
      CHILD_EXPECT(e.priority == Priority::kNormal, 7);
    }
    // Everything still kept on NORMAL: in order, ending with the last event, at least the
    // history reserve and at most a ring.
    auto md = late->history("md.*", 1000);
    CHILD_EXPECT(md && md->size() >= 32 && md->size() <= 128, 8);
    for (std::size_t k = 1; k < md->size(); ++k) {
      CHILD_EXPECT(u64((*md)[k].payload) == u64((*md)[k - 1].payload) + 1, 9);
    }
    CHILD_EXPECT(u64(md->back().payload) == 299, 10);
    // Across rings: merged by publish time; each ring keeps its order.
    auto all = late->history("*", 3);
    CHILD_EXPECT(all && all->size() == 6, 11);  // 3 HIGH + 3 NORMAL
    for (std::size_t k = 1; k < all->size(); ++k) {
      CHILD_EXPECT((*all)[k - 1].timestamp_ns <= (*all)[k].timestamp_ns, 12);
    }
    CHILD_EXPECT(u64(all->back().payload) == 299, 13);
    auto bad = late->history("md..x", 3);
    CHILD_EXPECT(!bad && bad.code() == Errc::kInvalidArgument, 14);
    return 0;
  });
  EXPECT_EQ(child.wait(30s), 0);
}

TEST(StatsTest, CountsReadFromAnotherProcessMatchWhatHappened) {
  const std::string name = unique_bus_name("stats");
  auto owner = Bus::create(hs_config(name), AgentOptions{.name = "owner"});
  ASSERT_TRUE(owner) << owner.message();
  // No handler budget: on a loaded machine or under a sanitizer a handler (a first throw)
  // can overrun 1 ms, and its slow report is one more sys.error event that the per-topic
  // counts below cannot tell from the 7 failure reports they check.
  auto sub = Bus::attach(
      name, AgentOptions{.name = "sub", .max_handler_failures = 0, .handler_budget = 0ns});
  ASSERT_TRUE(sub) << sub.message();
  auto t = owner->register_topic("order.new", sizeof(std::uint64_t));
  ASSERT_TRUE(t);
  ASSERT_TRUE(sub->on(
      "order.new",
      [](const EventView& v) {
        if (u64(v.payload) % 10 == 3) throw std::runtime_error("x");
      },
      HandlerOptions{"sometimes"}));
  for (std::uint64_t i = 0; i < 50; ++i) {
    ASSERT_EQ(owner->publish(*t, &i, sizeof i), PublishStatus::kOk);
    if (i < 20) {
      ASSERT_EQ(owner->publish(*t, &i, sizeof i, Priority::kHigh), PublishStatus::kOk);
    }
    if (i % 8 == 7) sub->poll();
  }
  while (sub->poll() != 0) {
  }
  // 7 more that the subscriber has not read yet: its queue depth on NORMAL.
  for (std::uint64_t i = 100; i < 107; ++i) {
    ASSERT_EQ(owner->publish(*t, &i, sizeof i), PublishStatus::kOk);
  }
  Child child = Child::fork([&]() -> int {
    auto st = read_stats(name);  // no agent record taken
    CHILD_EXPECT(st, 2);
    const AgentStats* o = find_agent(*st, "owner");
    const AgentStats* s = find_agent(*st, "sub");
    CHILD_EXPECT(o != nullptr && s != nullptr, 3);
    CHILD_EXPECT(o->rings[index_of(Priority::kNormal)].published == 57, 4);
    CHILD_EXPECT(o->rings[index_of(Priority::kHigh)].published == 20, 5);
    CHILD_EXPECT(o->published == 77 && o->shed == 0 && o->dropped == 0, 6);
    CHILD_EXPECT(s->rings[index_of(Priority::kNormal)].delivered == 50, 7);
    CHILD_EXPECT(s->rings[index_of(Priority::kHigh)].delivered == 20, 8);
    CHILD_EXPECT(s->delivered == 70, 9);
    // failures: values 3, 13, 23, 33, 43 on NORMAL and 3, 13 on HIGH
    CHILD_EXPECT(s->handler_failures == 7 && s->dead_lettered == 7, 10);
    CHILD_EXPECT(st->dead_letters_written == 7, 11);
    CHILD_EXPECT(s->rings[index_of(Priority::kNormal)].queue_depth == 7, 12);
    CHILD_EXPECT(s->rings[index_of(Priority::kNormal)].reading, 13);
    CHILD_EXPECT(s->rings[index_of(Priority::kNormal)].tethered, 14);
    CHILD_EXPECT(!o->rings[0].reading && o->rings[0].queue_depth == 0, 15);
    CHILD_EXPECT(s->latency.total() == 70 && o->latency.total() == 0, 16);
    CHILD_EXPECT(st->rings[index_of(Priority::kNormal)].tail == 57, 17);
    CHILD_EXPECT(st->rings[index_of(Priority::kNormal)].max_queue_depth == 7, 18);
    const TopicStats* order = nullptr;
    const TopicStats* error = nullptr;
    for (const auto& tp : st->topics) {
      if (tp.name == "order.new") order = &tp;
      if (tp.name == "sys.error") error = &tp;
    }
    CHILD_EXPECT(order != nullptr && error != nullptr, 19);
    // Per topic, summed over agents.
    CHILD_EXPECT(order->totals.published == 77, 20);
    CHILD_EXPECT(order->totals.delivered == 70, 21);
    CHILD_EXPECT(order->totals.failed == 7 && order->totals.dead_lettered == 7, 22);
    CHILD_EXPECT(order->totals.handlers == 1 && order->subscribers == 1, 23);
    CHILD_EXPECT(order->totals.dropped == 0 && order->totals.shed == 0, 24);
    CHILD_EXPECT(error->totals.published == 7, 25);  // one ERROR event per failure, by "sub"
    // Per agent and topic.
    auto topic_of = [](const AgentStats* a, TopicId id) -> const TopicCounts* {
      for (const auto& at : a->topics) {
        if (at.topic == id) return &at.counts;
      }
      return nullptr;
    };
    const TopicCounts* op = topic_of(o, order->id);
    const TopicCounts* sp = topic_of(s, order->id);
    CHILD_EXPECT(op != nullptr && sp != nullptr, 26);
    CHILD_EXPECT(op->published == 77 && op->delivered == 0 && op->handlers == 0, 27);
    CHILD_EXPECT(sp->published == 0 && sp->delivered == 70 && sp->failed == 7, 28);
    CHILD_EXPECT(sp->handlers == 1, 29);
    const TopicCounts* se = topic_of(s, error->id);
    CHILD_EXPECT(se != nullptr && se->published == 7, 30);
    return 0;
  });
  EXPECT_EQ(child.wait(30s), 0);
  auto missing = read_stats("no_such_bus_xyz");
  EXPECT_FALSE(missing);
  EXPECT_EQ(missing.code(), Errc::kNotFound);
}

TEST(StatsTest, PerTopicDroppedAndHandlerCountsFollowThePublishesAndSubscriptions) {
  const std::string name = unique_bus_name("drops");
  auto owner = Bus::create(hs_config(name),
                           AgentOptions{.name = "owner", .full_policy = FullPolicy::kReturn});
  ASSERT_TRUE(owner) << owner.message();
  auto sub = Bus::attach(name, AgentOptions{.name = "sub"});
  ASSERT_TRUE(sub) << sub.message();
  auto t = owner->register_topic("md.quote", sizeof(std::uint64_t));
  ASSERT_TRUE(t);
  auto first = sub->on("md.*", [](const EventView&) {});
  auto second = sub->on("md.quote", [](const EventView&) {});
  ASSERT_TRUE(first && second);
  // The subscriber does not dispatch: its cursor holds the LOW ring (64 slots) until full.
  std::uint64_t ok = 0;
  std::uint64_t refused = 0;
  for (std::uint64_t i = 0; i < 100; ++i) {
    const PublishStatus st = owner->publish(*t, &i, sizeof i, Priority::kLow);
    (st == PublishStatus::kOk ? ok : refused) += 1;
  }
  ASSERT_GT(refused, 0u);
  auto counts = [&](const std::string& agent) {
    auto st = read_stats(name);
    EXPECT_TRUE(st) << st.message();
    TopicCounts k;
    for (const auto& a : st->agents) {
      if (a.name != agent) continue;
      for (const auto& at : a.topics) {
        if (at.topic == *t) k = at.counts;
      }
    }
    return k;
  };
  const TopicCounts o = counts("owner");
  EXPECT_EQ(o.published, ok);
  EXPECT_EQ(o.dropped, refused);
  EXPECT_EQ(counts("sub").handlers, 2u);
  ASSERT_TRUE(sub->off(*second));
  EXPECT_EQ(counts("sub").handlers, 1u);
}

TEST(StatsTest, LatencyPercentilesAreConsistentWithTestTimestamps) {
  const std::string name = unique_bus_name("lat");
  auto owner = Bus::create(hs_config(name), AgentOptions{.name = "owner"});
  ASSERT_TRUE(owner) << owner.message();
  // No handler budget: a slow-handler report (a vector growing under TSan can take over 1 ms)
  // is a sys.error on the CRITICAL ring that the next poll(1) would consume instead of the
  // event published for it, leaving the last event unread.
  auto sub = Bus::attach(name, AgentOptions{.name = "sub", .handler_budget = 0ns});
  ASSERT_TRUE(sub) << sub.message();
  auto t = owner->register_topic("md.quote", sizeof(std::uint64_t));
  ASSERT_TRUE(t);
  // For each event the bus's latency lies between (poll start - publish time) and
  // (handler start - publish time), both taken here on the same clock.
  std::vector<std::uint64_t> lower;
  std::vector<std::uint64_t> upper;
  std::uint64_t poll_start = 0;
  ASSERT_TRUE(sub->on("md.quote", [&](const EventView& v) {
    const std::uint64_t now = detail::monotonic_ns();
    lower.push_back(poll_start - v.timestamp_ns);
    upper.push_back(now - v.timestamp_ns);
  }));
  constexpr std::uint64_t kEvents = 200;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    ASSERT_EQ(owner->publish(*t, &i, sizeof i), PublishStatus::kOk);
    // Latencies spread from ~0 to ~200 us.
    const std::uint64_t until = detail::monotonic_ns() + (i % 20) * 10'000;
    while (detail::monotonic_ns() < until) {
    }
    poll_start = detail::monotonic_ns();
    ASSERT_EQ(sub->poll(1), 1u);
  }
  auto st = read_stats(name);
  ASSERT_TRUE(st) << st.message();
  const AgentStats* s = find_agent(*st, "sub");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->latency.total(), kEvents);
  std::sort(lower.begin(), lower.end());
  std::sort(upper.begin(), upper.end());
  for (double q : {0.5, 0.9, 0.99, 1.0}) {
    const std::size_t b = s->latency.percentile_bucket(q);
    ASSERT_LT(b, LatencyHistogram::kBuckets);
    const std::size_t rank = static_cast<std::size_t>(q * kEvents + 0.999999) - 1;
    // The bus's q-quantile is in [lower_ns(b), upper_ns(b)); the test's bounds bracket it.
    EXPECT_LE(LatencyHistogram::lower_ns(b), upper[rank]) << "q=" << q;
    EXPECT_GT(LatencyHistogram::upper_ns(b), lower[rank]) << "q=" << q;
    EXPECT_EQ(s->latency.percentile_ns(q), LatencyHistogram::upper_ns(b));
  }
  EXPECT_LE(s->latency.percentile_ns(0.5), s->latency.percentile_ns(0.99));
}

TEST(StatsTest, HistogramPercentileMath) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile_ns(0.5), 0u);
  EXPECT_EQ(h.percentile_bucket(0.5), LatencyHistogram::kBuckets);
  h.counts[3] = 90;   // [256, 512) ns
  h.counts[10] = 10;  // [32768, 65536) ns
  EXPECT_EQ(h.total(), 100u);
  EXPECT_EQ(h.percentile_bucket(0.5), 3u);
  EXPECT_EQ(h.percentile_bucket(0.9), 3u);
  EXPECT_EQ(h.percentile_bucket(0.91), 10u);
  EXPECT_EQ(h.percentile_ns(0.99), 65536u);
  EXPECT_EQ(LatencyHistogram::lower_ns(0), 0u);
  EXPECT_EQ(LatencyHistogram::upper_ns(0), 64u);
  EXPECT_EQ(LatencyHistogram::lower_ns(1), 64u);
  EXPECT_EQ(LatencyHistogram::upper_ns(LatencyHistogram::kBuckets - 1), ~0ull);
}

}  // namespace
}  // namespace shmbus
