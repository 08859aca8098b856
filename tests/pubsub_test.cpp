// Publish/subscribe semantics within one process: patterns, once, on_any, off,
// wait_for, priority order, in-place claims, typed topics, full-ring policies.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "shm/bus_access.hpp"
#include "shm/layout.hpp"
#include "shm/segment.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/catalog.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/stats.hpp"
#include "testing/pubsub_fixture.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::pubsub_bus_config;
using testing::unique_bus_name;

struct Fixture : testing::PubSubFixture {
  Fixture() : PubSubFixture("pubsub") {}
  TopicId topic(const std::string& n) {
    auto t = owner->register_topic(n);
    EXPECT_TRUE(t) << t.message();
    return t ? *t : kInvalidTopic;
  }
  void publish_u64(TopicId t, std::uint64_t v, Priority p = Priority::kNormal) {
    ASSERT_EQ(owner->publish(t, &v, sizeof(v), p), PublishStatus::kOk);
  }
  static std::uint64_t u64(const EventView& e) {
    std::uint64_t v = 0;
    std::memcpy(&v, e.payload.data(), sizeof(v));
    return v;
  }
};

using PubSubTest = Fixture;

TEST_F(PubSubTest, ExactTopicReceivesOnlyItsEvents) {
  TopicId filled = topic("order.filled");
  TopicId quote = topic("md.quote");
  std::vector<std::uint64_t> got;
  ASSERT_TRUE(sub->on("order.filled", [&](const EventView& e) { got.push_back(u64(e)); }));
  publish_u64(filled, 1);
  publish_u64(quote, 2);
  publish_u64(filled, 3);
  sub->poll();
  EXPECT_EQ(got, (std::vector<std::uint64_t>{1, 3}));
}

TEST_F(PubSubTest, PrefixPatternMatchesDescendantsNotParent) {
  TopicId a = topic("order");
  TopicId b = topic("order.filled");
  TopicId c = topic("order.cancel.ack");
  TopicId d = topic("orders.x");
  std::vector<std::string> got;
  ASSERT_TRUE(sub->on("order.*", [&](const EventView& e) { got.emplace_back(e.topic_name); }));
  for (TopicId t : {a, b, c, d}) publish_u64(t, 0);
  sub->poll();
  EXPECT_EQ(got, (std::vector<std::string>{"order.filled", "order.cancel.ack"}));
}

TEST_F(PubSubTest, PatternMatchesTopicsRegisteredAfterSubscribing) {
  std::vector<std::string> got;
  ASSERT_TRUE(sub->on("md.*", [&](const EventView& e) { got.emplace_back(e.topic_name); }));
  TopicId late = topic("md.quote.ESZ6");
  publish_u64(late, 7);
  sub->poll();
  EXPECT_EQ(got, (std::vector<std::string>{"md.quote.ESZ6"}));
}

TEST_F(PubSubTest, OnAnyReceivesEverything) {
  TopicId a = topic("a.b");
  TopicId b = topic("c.d");
  int n = 0;
  ASSERT_TRUE(sub->on_any([&](const EventView&) { ++n; }));
  publish_u64(a, 1);
  publish_u64(b, 2);
  EXPECT_EQ(sub->poll(), 2u);
  EXPECT_EQ(n, 2);
}

TEST_F(PubSubTest, OnceFiresExactlyOnce) {
  TopicId t = topic("x.y");
  int n = 0;
  ASSERT_TRUE(sub->once("x.y", [&](const EventView&) { ++n; }));
  for (int i = 0; i < 5; ++i) publish_u64(t, static_cast<std::uint64_t>(i));
  sub->poll();
  EXPECT_EQ(n, 1);
}

TEST_F(PubSubTest, OffStopsDeliveryAndUnknownIdIsNotFound) {
  TopicId t = topic("x.y");
  int n = 0;
  auto id = sub->on("x.y", [&](const EventView&) { ++n; });
  ASSERT_TRUE(id);
  publish_u64(t, 1);
  sub->poll();
  ASSERT_TRUE(sub->off(*id));
  publish_u64(t, 2);
  sub->poll();
  EXPECT_EQ(n, 1);
  EXPECT_EQ(sub->off(*id).code(), Errc::kNotFound);
}

TEST_F(PubSubTest, OffInsideHandlerIsSafe) {
  TopicId t = topic("x.y");
  int first = 0;
  int second = 0;
  SubscriptionId id1 = 0;
  auto r1 = sub->on("x.y", [&](const EventView&) {
    ++first;
    (void)sub->off(id1);
  });
  ASSERT_TRUE(r1);
  id1 = *r1;
  ASSERT_TRUE(sub->on("x.y", [&](const EventView&) { ++second; }));
  publish_u64(t, 1);
  publish_u64(t, 2);
  sub->poll();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
}

TEST_F(PubSubTest, WaitForReturnsMatchingEventWithPredicate) {
  TopicId t = topic("sig.done");
  ASSERT_TRUE(sub->on("*", [](const EventView&) {}));  // subscribe before publishing
  publish_u64(t, 1);
  publish_u64(t, 42);
  auto e = sub->wait_for("sig.done", 1s, [](const EventView& v) { return u64(v) == 42; });
  ASSERT_TRUE(e) << e.message();
  EXPECT_EQ(u64(e->view()), 42u);
  EXPECT_EQ(e->topic_name, "sig.done");
}

TEST_F(PubSubTest, WaitForTimesOut) {
  (void)topic("sig.never");
  auto start = std::chrono::steady_clock::now();
  auto e = sub->wait_for("sig.never", 50ms);
  EXPECT_FALSE(e);
  EXPECT_EQ(e.code(), Errc::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
}

TEST_F(PubSubTest, WaitForRejectsBadPattern) {
  EXPECT_EQ(sub->wait_for("bad pattern", 10ms).code(), Errc::kInvalidArgument);
}

TEST_F(PubSubTest, HigherPriorityDrainsFirst) {
  TopicId t = topic("p.x");
  std::vector<Priority> order;
  ASSERT_TRUE(sub->on("p.x", [&](const EventView& e) { order.push_back(e.priority); }));
  publish_u64(t, 1, Priority::kLow);
  publish_u64(t, 2, Priority::kNormal);
  publish_u64(t, 3, Priority::kHigh);
  publish_u64(t, 4, Priority::kCritical);
  publish_u64(t, 5, Priority::kLow);
  sub->poll();
  EXPECT_EQ(order, (std::vector<Priority>{Priority::kCritical, Priority::kHigh, Priority::kNormal,
                                          Priority::kLow, Priority::kLow}));
}

// A lower event waits for the higher rings' claims that were open when it was first seen (one
// of them may hold an event committed before it), but not for claims made after: a producer
// that claims HIGH slots back to back, never without one open, must not hold NORMAL forever.
TEST_F(PubSubTest, LowerEventWaitsOnlyForHigherClaimsOpenWhenItWasSeen) {
  TopicId t = topic("p.x");
  std::vector<std::uint64_t> order;
  ASSERT_TRUE(sub->on("p.x", [&](const EventView& e) { order.push_back(u64(e)); }));
  auto claim_u64 = [&](std::uint64_t v) {
    Claim c = owner->claim(t, sizeof v, Priority::kHigh);
    EXPECT_TRUE(c.ok());
    std::memcpy(c.data().data(), &v, sizeof v);
    return c;
  };
  publish_u64(t, 1, Priority::kNormal);
  Claim c0 = claim_u64(100);   // open before the subscriber sees event 1
  EXPECT_EQ(sub->poll(), 0u);  // 1 waits: c0 may hold an event committed before it
  ASSERT_EQ(owner->commit(c0), PublishStatus::kOk);
  Claim c1 = claim_u64(101);  // claimed after event 1 was seen: cannot hold anything older
  sub->poll();
  EXPECT_EQ(order, (std::vector<std::uint64_t>{100, 1}));
  ASSERT_EQ(owner->commit(c1), PublishStatus::kOk);
  sub->poll();
  EXPECT_EQ(order, (std::vector<std::uint64_t>{100, 1, 101}));
}

TEST_F(PubSubTest, CriticalPublishedDuringLowHandlerRunsBeforeNextLow) {
  TopicId t = topic("p.x");
  std::vector<std::uint64_t> order;
  bool injected = false;
  ASSERT_TRUE(sub->on("p.x", [&](const EventView& e) {
    order.push_back(u64(e));
    if (!injected) {
      injected = true;
      publish_u64(t, 100, Priority::kCritical);
    }
  }));
  publish_u64(t, 1, Priority::kLow);
  publish_u64(t, 2, Priority::kLow);
  sub->poll();
  EXPECT_EQ(order, (std::vector<std::uint64_t>{1, 100, 2}));
}

TEST_F(PubSubTest, EventCarriesIdentityAndTimestamp) {
  TopicId t = topic("id.x");
  std::vector<EventView> seen;
  std::vector<EventId> ids;
  std::vector<std::uint64_t> ts;
  ASSERT_TRUE(sub->on("id.x", [&](const EventView& e) {
    ids.push_back(e.id);
    ts.push_back(e.timestamp_ns);
  }));
  publish_u64(t, 1);
  publish_u64(t, 2);
  sub->poll();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].producer, owner->agent_index());
  EXPECT_EQ(ids[1].sequence, ids[0].sequence + 1);
  EXPECT_GT(ts[0], 0u);
  EXPECT_LE(ts[0], ts[1]);
}

TEST_F(PubSubTest, ClaimCommitBuildsInPlace) {
  TopicId t = topic("inplace.x");
  std::string got;
  ASSERT_TRUE(sub->on("inplace.x", [&](const EventView& e) {
    got.assign(reinterpret_cast<const char*>(e.payload.data()), e.payload.size());
  }));
  Claim c = owner->claim(t, 5, Priority::kHigh);
  ASSERT_TRUE(c.ok());
  std::memcpy(c.data().data(), "hello", 5);
  EXPECT_EQ(owner->commit(c), PublishStatus::kOk);
  sub->poll();
  EXPECT_EQ(got, "hello");
}

TEST_F(PubSubTest, CancelledClaimIsSkipped) {
  TopicId t = topic("inplace.x");
  std::vector<std::uint64_t> got;
  ASSERT_TRUE(sub->on("inplace.x", [&](const EventView& e) { got.push_back(u64(e)); }));
  {
    Claim c = owner->claim(t, 8, Priority::kNormal);
    ASSERT_TRUE(c.ok());
    owner->cancel(c);
  }
  {
    Claim dropped = owner->claim(t, 8, Priority::kNormal);  // destroyed uncommitted: cancelled
    ASSERT_TRUE(dropped.ok());
  }
  publish_u64(t, 9);
  sub->poll();
  EXPECT_EQ(got, (std::vector<std::uint64_t>{9}));
}

TEST_F(PubSubTest, TypedTopicRoundTrip) {
  auto q = owner->topic<catalog::Quote>("md.quote.ESZ6");
  ASSERT_TRUE(q) << q.message();
  catalog::Quote in{};
  in.bid_price_e9 = 4'500'250'000'000;
  catalog::Quote out{};
  ASSERT_TRUE(sub->on("md.quote.*", [&](const EventView& e) { ASSERT_TRUE(e.copy_to(out)); }));
  ASSERT_EQ(owner->publish(*q, in, Priority::kHigh), PublishStatus::kOk);
  sub->poll();
  EXPECT_EQ(out.bid_price_e9, in.bid_price_e9);
  EXPECT_EQ(owner->publish(q->id, &in, sizeof(in) - 1), PublishStatus::kBadSize);
}

TEST_F(PubSubTest, FullRingReturnsFullThenDeliversAcceptedEvents) {
  // Recreate with a kReturn publisher.
  auto pub = Bus::attach(name, AgentOptions{.name = "pub", .full_policy = FullPolicy::kReturn});
  ASSERT_TRUE(pub) << pub.message();
  auto t = pub->register_topic("full.x");
  ASSERT_TRUE(t);
  std::vector<std::uint64_t> got;
  ASSERT_TRUE(sub->on("full.x", [&](const EventView& e) { got.push_back(u64(e)); }));
  // NORMAL ring: 128 slots, 8 kept as history.
  std::uint64_t accepted = 0;
  PublishStatus last = PublishStatus::kOk;
  for (std::uint64_t i = 0; i < 200; ++i) {
    last = pub->publish(*t, &i, sizeof(i));
    if (last != PublishStatus::kOk) break;
    ++accepted;
  }
  EXPECT_EQ(last, PublishStatus::kFull);
  EXPECT_EQ(accepted, 120u);
  sub->poll();
  ASSERT_EQ(got.size(), accepted);
  for (std::uint64_t i = 0; i < accepted; ++i) EXPECT_EQ(got[i], i);
  // Space again once the subscriber has moved.
  std::uint64_t v = 1000;
  EXPECT_EQ(pub->publish(*t, &v, sizeof(v)), PublishStatus::kOk);
}

TEST_F(PubSubTest, FullRingWithWaitPolicyTimesOut) {
  auto pub = Bus::attach(
      name, AgentOptions{.name = "pub", .full_policy = FullPolicy::kWait, .publish_timeout = 20ms});
  ASSERT_TRUE(pub) << pub.message();
  auto t = pub->register_topic("full.y");
  ASSERT_TRUE(t);
  ASSERT_TRUE(sub->on("full.y", [](const EventView&) {}));
  PublishStatus s = PublishStatus::kOk;
  int n = 0;
  for (std::uint64_t i = 0; i < 200 && s == PublishStatus::kOk; ++i, ++n) {
    s = pub->publish(*t, &i, sizeof(i), Priority::kCritical);
  }
  EXPECT_EQ(s, PublishStatus::kTimeout);
  EXPECT_EQ(n, 64 - 8 + 1);  // CRITICAL ring: 64 slots less 8 of history, then the timeout
}

TEST_F(PubSubTest, TryPublishOnAFullRingReturnsFullAtOnceAndCountsNothing) {
  // A 10 s publish_timeout: a try that waited would blow the test's time.
  auto pub = Bus::attach(
      name, AgentOptions{.name = "pub", .full_policy = FullPolicy::kWait, .publish_timeout = 10s});
  ASSERT_TRUE(pub) << pub.message();
  auto t = pub->register_topic("full.t");
  ASSERT_TRUE(t);
  std::vector<std::uint64_t> got;
  ASSERT_TRUE(sub->on("full.t", [&](const EventView& e) { got.push_back(u64(e)); }));
  int accepted = 0;
  for (std::uint64_t i = 0; i < 64 - 8; ++i, ++accepted) {
    ASSERT_EQ(pub->try_publish(*t, &i, sizeof(i), Priority::kCritical), PublishStatus::kOk);
  }
  const auto before = read_stats(*pub);
  ASSERT_TRUE(before) << before.message();
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t v = 999;
  EXPECT_EQ(pub->try_publish(*t, &v, sizeof(v), Priority::kCritical), PublishStatus::kFull);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  const auto after = read_stats(*pub);
  ASSERT_TRUE(after) << after.message();
  auto mine = [&](const BusStats& s) {
    for (const AgentStats& a : s.agents) {
      if (a.name == "pub") return a;
    }
    return AgentStats{};
  };
  EXPECT_EQ(mine(*after).dropped, mine(*before).dropped);  // not an outcome yet
  sub->poll();
  EXPECT_EQ(pub->try_publish(*t, &v, sizeof(v), Priority::kCritical), PublishStatus::kOk);
  sub->poll();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(accepted) + 1);
  EXPECT_EQ(got.back(), 999u);
}

TEST_F(PubSubTest, TryPublishOnAFullRingIsNotChargedToTheRateLimit) {
  // The binding's retry, try_publish then publish, is one event: charged to the rate limit once.
  auto pub = Bus::attach(
      name, AgentOptions{.name = "pub", .full_policy = FullPolicy::kWait, .publish_timeout = 10s});
  ASSERT_TRUE(pub) << pub.message();
  auto t = pub->register_topic("full.r");
  ASSERT_TRUE(t);
  ASSERT_TRUE(sub->on("full.r", [](const EventView&) {}));
  for (std::uint64_t i = 0; i < 64 - 8; ++i) {
    ASSERT_EQ(pub->try_publish(*t, &i, sizeof(i), Priority::kCritical), PublishStatus::kOk);
  }
  // 1 event/s: a burst of one, the next token a second away.
  detail::AgentRecord& rec = detail::BusAccess::impl(*pub).segment().agent(pub->agent_index());
  rec.rate_limit_per_s.store(1);
  std::uint64_t v = 999;
  ASSERT_EQ(pub->try_publish(*t, &v, sizeof(v), Priority::kCritical), PublishStatus::kFull);
  sub->poll();
  EXPECT_EQ(pub->publish(*t, &v, sizeof(v), Priority::kCritical), PublishStatus::kOk);
  EXPECT_EQ(rec.counters[0].rate_limited.load(), 0u);
  // Charged once, not never: the next event within the second is over the limit.
  EXPECT_EQ(pub->publish(*t, &v, sizeof(v), Priority::kCritical), PublishStatus::kRateLimited);
  EXPECT_EQ(rec.counters[0].rate_limited.load(), 1u);
}

TEST_F(PubSubTest, PurePublisherDoesNotHoldProducersBack) {
  // `owner` never subscribes; with no subscriber at all the ring never fills.
  sub.reset();
  TopicId t = topic("free.x");
  for (std::uint64_t i = 0; i < 1000; ++i) publish_u64(t, i);
}

TEST_F(PubSubTest, StartFromHistoryDeliversRecentEvents) {
  TopicId t = topic("hist.x");
  for (std::uint64_t i = 0; i < 20; ++i) publish_u64(t, i);
  auto late = Bus::attach(name, AgentOptions{.name = "late", .start_from_history = true});
  ASSERT_TRUE(late) << late.message();
  std::vector<std::uint64_t> got;
  ASSERT_TRUE(late->on("hist.x", [&](const EventView& e) { got.push_back(u64(e)); }));
  late->poll();
  ASSERT_EQ(got.size(), 8u);  // history_depth
  EXPECT_EQ(got.front(), 12u);
  EXPECT_EQ(got.back(), 19u);
}

TEST_F(PubSubTest, RunReturnsAfterStopFromHandler) {
  TopicId t = topic("stop.x");
  ASSERT_TRUE(sub->on("stop.x", [&](const EventView&) { sub->stop(); }));
  publish_u64(t, 1);
  sub->run();  // returns because the handler stopped it
  SUCCEED();
}

// An idle bus: poll_wait returns at its deadline, not after the backoff's last sleep, whatever
// the wait strategy (the bound is generous for a loaded CI machine; bench measures it exactly).
// A gap handler must be able to tell where the hole is: the notice comes before the first
// event after the gap, with exactly the number of events lost in between. Here the events after
// the hole arrive within the same poll() that finds it: a LOW event's handler publishes them
// after the NORMAL reader has found it was lapped.
TEST_F(PubSubTest, GapNoticeComesBeforeTheFirstEventAfterTheGap) {
  const TopicId t = topic("t.gap");
  const TopicId trigger = topic("t.trigger");
  std::vector<std::int64_t> log;  // >= 0: an event's value; < 0: a gap of -missed events
  ASSERT_TRUE(sub->on(
      "t.gap", [&](const EventView& e) { log.push_back(static_cast<std::int64_t>(u64(e))); }));
  sub->on_gap([&](Priority p, std::uint64_t missed) {
    if (p == Priority::kNormal) log.push_back(-static_cast<std::int64_t>(missed));
  });
  for (std::uint64_t v = 0; v < 5; ++v) publish_u64(t, v);
  while (sub->poll() != 0) {
  }
  ASSERT_EQ(log.size(), 5u);
  // Untether the subscriber (as the supervisor does to a slow one) and lap it.
  auto& cursor = detail::BusAccess::impl(*sub).segment().agent(sub->agent_index()).cursors[2];
  cursor.flags.fetch_and(~static_cast<std::uint32_t>(detail::kReaderTethered));
  const std::uint64_t lapped_to = 5 + 3 * 128;
  for (std::uint64_t v = 5; v < lapped_to; ++v) publish_u64(t, v);
  ASSERT_TRUE(sub->on("t.trigger", [&](const EventView&) {
    for (std::uint64_t v = lapped_to; v < lapped_to + 5; ++v) publish_u64(t, v);
  }));
  publish_u64(trigger, 0, Priority::kLow);
  (void)sub->poll();  // one poll: finds the lap, runs the LOW handler, then the new events
  ASSERT_FALSE(log.empty());
  ASSERT_EQ(log.back(), static_cast<std::int64_t>(lapped_to + 4));
  std::int64_t expect = 0;
  std::size_t gaps = 0;
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i] < 0) {
      ++gaps;
      expect += -log[i];  // the next event is exactly `missed` past the last one handled
      continue;
    }
    ASSERT_EQ(log[i], expect) << "entry " << i
                              << ": an event after a hole with no notice before it";
    ++expect;
  }
  EXPECT_EQ(gaps, 1u);
}

TEST(PubSubWaitTest, PollWaitOnAnIdleBusReturnsAtItsTimeout) {
  for (WaitStrategy w : {WaitStrategy::kBlock, WaitStrategy::kSpinYield, WaitStrategy::kBusySpin}) {
    const std::string name = unique_bus_name("pollwait");
    auto bus = Bus::create(pubsub_bus_config(name), AgentOptions{.name = "idle", .wait = w});
    ASSERT_TRUE(bus) << bus.message();
    ASSERT_TRUE(bus->on("nothing.*", [](const EventView&) {}));
    for (int i = 0; i < 3; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      EXPECT_EQ(bus->poll_wait(16, 10ms), 0u);
      const auto took = std::chrono::steady_clock::now() - t0;
      EXPECT_GE(took, 10ms);
      EXPECT_LT(took, 150ms) << "wait strategy " << static_cast<int>(w) << ": "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                             << " ms";
    }
  }
}

// An agent that sits in poll_wait with nothing to do keeps its heartbeat fresh, so the
// supervisor does not mistake idle for stalled.
TEST(PubSubWaitTest, IdleBlockingAgentKeepsHeartbeating) {
  const std::string name = unique_bus_name("idlebeat");
  auto bus = Bus::create(
      pubsub_bus_config(name),
      AgentOptions{.name = "idle", .wait = WaitStrategy::kBlock, .heartbeat_period = 20ms});
  ASSERT_TRUE(bus) << bus.message();
  ASSERT_TRUE(bus->on("nothing.*", [](const EventView&) {}));
  std::atomic<bool> done{false};
  std::uint64_t worst_age_ns = 0;
  std::thread watcher([&] {
    while (!done.load()) {
      if (auto s = inspect_bus(name)) {
        for (const auto& a : s->agents) {
          if (a.name == "idle") worst_age_ns = std::max(worst_age_ns, a.heartbeat_age_ns);
        }
      }
      std::this_thread::sleep_for(5ms);  // sampling period of the observer, not a wait
    }
  });
  (void)bus->poll_wait(16, 600ms);
  done.store(true);
  watcher.join();
  // Period 20 ms; the dispatcher beats at half of it. 200 ms leaves room for a loaded machine.
  EXPECT_LT(worst_age_ns, 200'000'000u)
      << "heartbeat went stale for " << worst_age_ns / 1'000'000 << " ms while idle";
}

}  // namespace
}  // namespace shmbus
