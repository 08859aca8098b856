// Bus::publish_batch / try_publish_batch within one process: a batch is `count` publish()
// calls (order, producer sequences, full-ring policies, shedding, counters), for less per event.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shm/bus_access.hpp"
#include "shm/clock.hpp"
#include "shm/layout.hpp"
#include "shm/publish_steps.hpp"
#include "shm/segment.hpp"
#include "shmbus/bus.hpp"
#include "testing/pubsub_fixture.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;

struct Got {
  std::uint64_t value;
  std::uint64_t producer_seq;
};

struct BatchPublishTest : testing::PubSubFixture {
  BatchPublishTest() : PubSubFixture("batch") {}
  void TearDown() override {
    detail::set_publish_step_hook(nullptr);
    pub.reset();
    PubSubFixture::TearDown();
  }
  void attach_pub(FullPolicy policy, std::chrono::nanoseconds timeout = 10s) {
    auto p = Bus::attach(
        name, AgentOptions{.name = "pub", .full_policy = policy, .publish_timeout = timeout});
    ASSERT_TRUE(p) << p.message();
    pub = std::make_unique<Bus>(std::move(p.value()));
  }
  TopicId topic(const std::string& n) {
    auto t = pub->register_topic(n, sizeof(std::uint64_t));
    EXPECT_TRUE(t) << t.message();
    if (t) {
      EXPECT_TRUE(sub->on(n, [this](const EventView& e) {
        std::uint64_t v = 0;
        e.copy_to(v);
        got.push_back(Got{v, e.id.sequence});
      }));
    }
    return t ? *t : kInvalidTopic;
  }
  static std::vector<std::uint64_t> iota(std::uint64_t from, std::size_t n) {
    std::vector<std::uint64_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = from + i;
    return v;
  }
  detail::AgentRecord& record(Bus& b) {
    return detail::BusAccess::impl(b).segment().agent(b.agent_index());
  }
  detail::TopicAgentCounters& topic_counters(Bus& b, TopicId t) {
    return detail::BusAccess::impl(b).segment().topic_counters(b.agent_index(), t);
  }

  std::unique_ptr<Bus> pub;
  std::vector<Got> got;
};

TEST_F(BatchPublishTest, BatchArrivesCompleteInOrderWithConsecutiveProducerSequences) {
  attach_pub(FullPolicy::kWait);
  const TopicId t = topic("b.order");
  std::uint64_t one = 7;
  ASSERT_EQ(pub->publish(t, &one, sizeof(one)), PublishStatus::kOk);
  const auto items = iota(100, 100);  // more than three stretches
  const PublishBatchResult r = pub->publish_batch(t, items.data(), sizeof(std::uint64_t), 100);
  EXPECT_EQ(r.status, PublishStatus::kOk);
  EXPECT_EQ(r.published, 100u);
  sub->poll();
  ASSERT_EQ(got.size(), 101u);
  EXPECT_EQ(got[0].value, 7u);
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(got[i + 1].value, 100 + i);
    EXPECT_EQ(got[i + 1].producer_seq, got[0].producer_seq + 1 + i);
  }
  // An empty batch publishes nothing and is kOk.
  const PublishBatchResult e = pub->publish_batch(t, items.data(), sizeof(std::uint64_t), 0);
  EXPECT_EQ(e.status, PublishStatus::kOk);
  EXPECT_EQ(e.published, 0u);
}

TEST_F(BatchPublishTest, BadItemSizePublishesNothing) {
  attach_pub(FullPolicy::kWait);
  const TopicId t = topic("b.size");
  const auto items = iota(0, 8);
  const PublishBatchResult r = pub->publish_batch(t, items.data(), 4, 16);
  EXPECT_EQ(r.status, PublishStatus::kBadSize);
  EXPECT_EQ(r.published, 0u);
  const PublishBatchResult u = pub->publish_batch(kInvalidTopic, items.data(), 8, 8);
  EXPECT_EQ(u.status, PublishStatus::kUnknownTopic);
  EXPECT_EQ(u.published, 0u);
  EXPECT_EQ(sub->poll(), 0u);
  EXPECT_EQ(record(*pub).counters[2].published.load(), 0u);
}

TEST_F(BatchPublishTest, ReturnPolicyStopsAtAFullRingWithTheCountPublished) {
  attach_pub(FullPolicy::kReturn);
  const TopicId t = topic("b.full");
  const auto items = iota(0, 200);
  // NORMAL ring: 128 slots, 8 kept as history.
  const PublishBatchResult r = pub->publish_batch(t, items.data(), sizeof(std::uint64_t), 200);
  EXPECT_EQ(r.status, PublishStatus::kFull);
  EXPECT_EQ(r.published, 120u);
  EXPECT_EQ(record(*pub).counters[2].published.load(), 120u);
  EXPECT_EQ(record(*pub).counters[2].full.load(), 1u);
  EXPECT_EQ(topic_counters(*pub, t).published.load(), 120u);
  EXPECT_EQ(topic_counters(*pub, t).dropped.load(), 1u);
  sub->poll();
  ASSERT_EQ(got.size(), 120u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].value, i);
  // The rest goes once the subscriber has moved.
  const PublishBatchResult rest =
      pub->publish_batch(t, items.data() + r.published, sizeof(std::uint64_t), 200 - r.published);
  EXPECT_EQ(rest.status, PublishStatus::kOk);
  EXPECT_EQ(rest.published, 80u);
  sub->poll();
  ASSERT_EQ(got.size(), 200u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].value, i);
}

TEST_F(BatchPublishTest, WaitPolicyWaitsOnAFullRingAndCompletesWhenASubscriberDrains) {
  attach_pub(FullPolicy::kWait);
  const TopicId t = topic("b.wait");
  const auto items = iota(0, 500);
  std::atomic<bool> done{false};
  PublishBatchResult r;
  std::thread producer([&] {
    r = pub->publish_batch(t, items.data(), sizeof(std::uint64_t), 500);
    done.store(true);
  });
  while (!done.load()) {
    sub->poll();
    std::this_thread::sleep_for(1ms);
  }
  producer.join();
  sub->poll();
  EXPECT_EQ(r.status, PublishStatus::kOk);
  EXPECT_EQ(r.published, 500u);
  ASSERT_EQ(got.size(), 500u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].value, i);
    EXPECT_EQ(got[i].producer_seq, got[0].producer_seq + i);
  }
  EXPECT_EQ(record(*pub).counters[2].published.load(), 500u);
  EXPECT_EQ(record(*pub).counters[2].full.load(), 0u);
}

TEST_F(BatchPublishTest, WaitPolicyTimesOutWithTheCountPublished) {
  attach_pub(FullPolicy::kWait, 20ms);
  const TopicId t = topic("b.timeout");
  const auto items = iota(0, 100);
  const PublishBatchResult r =
      pub->publish_batch(t, items.data(), sizeof(std::uint64_t), 100, Priority::kCritical);
  EXPECT_EQ(r.status, PublishStatus::kTimeout);
  EXPECT_EQ(r.published, 64u - 8u);  // CRITICAL ring: 64 slots less 8 of history
  EXPECT_EQ(record(*pub).counters[0].full.load(), 1u);
}

TEST_F(BatchPublishTest, TryBatchStopsUncountedAtAFullRingAndTheBatchGoesOnFromThere) {
  attach_pub(FullPolicy::kWait);
  const TopicId t = topic("b.try");
  const auto items = iota(0, 100);
  const auto t0 = std::chrono::steady_clock::now();
  const PublishBatchResult r =
      pub->try_publish_batch(t, items.data(), sizeof(std::uint64_t), 100, Priority::kCritical);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(r.status, PublishStatus::kFull);
  EXPECT_EQ(r.published, 56u);
  EXPECT_EQ(record(*pub).counters[0].full.load(), 0u);  // not an outcome yet
  EXPECT_EQ(topic_counters(*pub, t).dropped.load(), 0u);
  EXPECT_EQ(topic_counters(*pub, t).published.load(), 56u);
  sub->poll();
  const PublishBatchResult rest = pub->publish_batch(
      t, items.data() + r.published, sizeof(std::uint64_t), 100 - r.published, Priority::kCritical);
  EXPECT_EQ(rest.status, PublishStatus::kOk);
  EXPECT_EQ(rest.published, 44u);
  sub->poll();
  ASSERT_EQ(got.size(), 100u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].value, i);
}

TEST_F(BatchPublishTest, TryBatchOnAFullRingGivesItsRateLimitChargeBack) {
  attach_pub(FullPolicy::kWait);
  const TopicId t = topic("b.rate");
  const auto items = iota(0, 56);
  ASSERT_EQ(pub->publish_batch(t, items.data(), 8, 56, Priority::kCritical).published, 56u);
  detail::AgentRecord& rec = record(*pub);
  rec.rate_limit_per_s.store(1);  // a burst of one, the next token a second away
  std::uint64_t v = 999;
  const PublishBatchResult r = pub->try_publish_batch(t, &v, 8, 1, Priority::kCritical);
  ASSERT_EQ(r.status, PublishStatus::kFull);
  sub->poll();
  EXPECT_EQ(pub->publish_batch(t, &v, 8, 1, Priority::kCritical).status, PublishStatus::kOk);
  EXPECT_EQ(rec.counters[0].rate_limited.load(), 0u);
  // Charged once, and per event: a batch of two now gets neither through.
  const std::uint64_t two[2] = {1, 2};
  const PublishBatchResult limited = pub->publish_batch(t, two, 8, 2, Priority::kCritical);
  EXPECT_EQ(limited.status, PublishStatus::kRateLimited);
  EXPECT_EQ(limited.published, 0u);
  EXPECT_EQ(rec.counters[0].rate_limited.load(), 1u);
}

TEST_F(BatchPublishTest, RateLimitCountsEachEventOfABatch) {
  attach_pub(FullPolicy::kWait);
  const TopicId t = topic("b.burst");
  // 100 events/s: a burst of 10 tokens.
  record(*pub).rate_limit_per_s.store(100);
  const auto items = iota(0, 30);
  const PublishBatchResult r = pub->publish_batch(t, items.data(), 8, 30);
  EXPECT_EQ(r.status, PublishStatus::kRateLimited);
  EXPECT_GE(r.published, 10u);
  EXPECT_LE(r.published, 11u);  // a token may come back while the batch runs
  EXPECT_EQ(record(*pub).counters[2].published.load(), r.published);
  EXPECT_EQ(record(*pub).counters[2].rate_limited.load(), 1u);
}

TEST_F(BatchPublishTest, CountersEqualThoseOfTheSameEventsPublishedSingly) {
  attach_pub(FullPolicy::kReturn);
  auto other =
      Bus::attach(name, AgentOptions{.name = "single", .full_policy = FullPolicy::kReturn});
  ASSERT_TRUE(other) << other.message();
  const TopicId t = topic("b.count");
  const auto items = iota(0, 200);
  // Both agents publish the same 200 events onto a ring with room for 120 (then drained).
  const PublishBatchResult r = pub->publish_batch(t, items.data(), 8, 200);
  sub->poll();
  std::size_t singly = 0;
  PublishStatus last = PublishStatus::kOk;
  for (std::uint64_t v : items) {
    last = other->publish(t, &v, sizeof(v));
    if (last != PublishStatus::kOk) break;
    ++singly;
  }
  EXPECT_EQ(r.published, singly);
  EXPECT_EQ(r.status, last);
  const detail::RingCounters& a = record(*pub).counters[2];
  const detail::RingCounters& b = record(*other).counters[2];
  EXPECT_EQ(a.published.load(), b.published.load());
  EXPECT_EQ(a.full.load(), b.full.load());
  EXPECT_EQ(a.shed.load(), b.shed.load());
  EXPECT_EQ(a.rate_limited.load(), b.rate_limited.load());
  EXPECT_EQ(a.aborted.load(), b.aborted.load());
  EXPECT_EQ(topic_counters(*pub, t).published.load(), topic_counters(*other, t).published.load());
  EXPECT_EQ(topic_counters(*pub, t).dropped.load(), topic_counters(*other, t).dropped.load());
  EXPECT_EQ(topic_counters(*pub, t).shed.load(), topic_counters(*other, t).shed.load());
}

// Set from the publish step hook: the level rises to CRITICAL after this many events.
detail::Segment* g_seg = nullptr;
int g_events_before_shed = 0;
void raise_level_mid_batch() noexcept {
  if (--g_events_before_shed == 0) {
    detail::SegmentHeader& h = g_seg->header();
    // A live supervisor's word: levels from a stale one are ignored.
    h.supervisor_heartbeat_ns.store(detail::monotonic_ns());
    h.backpressure[2].store(static_cast<std::uint32_t>(sys::BackpressureLevel::kCritical));
  }
}

TEST_F(BatchPublishTest, ShedLevelMidBatchStopsTheBatchAtTheNextEvent) {
  attach_pub(FullPolicy::kWait);
  const TopicId t = topic("b.shed");
  g_seg = &detail::BusAccess::impl(*pub).segment();
  g_events_before_shed = 5;
  detail::set_publish_step_hook(&raise_level_mid_batch);
  const auto items = iota(0, 20);
  const PublishBatchResult r = pub->publish_batch(t, items.data(), 8, 20);
  detail::set_publish_step_hook(nullptr);
  EXPECT_EQ(r.status, PublishStatus::kShed);
  EXPECT_EQ(r.published, 5u);  // the fifth was claimed when the level rose: it goes out
  EXPECT_EQ(record(*pub).counters[2].shed.load(), 1u);
  EXPECT_EQ(topic_counters(*pub, t).shed.load(), 1u);
  EXPECT_EQ(topic_counters(*pub, t).published.load(), 5u);
  // The HIGH ring has its own level (NORMAL): the same batch goes through there.
  const PublishBatchResult high = pub->publish_batch(t, items.data(), 8, 20, Priority::kHigh);
  EXPECT_EQ(high.status, PublishStatus::kOk);
  EXPECT_EQ(high.published, 20u);
  g_seg->header().backpressure[2].store(0);
  sub->poll();
  ASSERT_EQ(got.size(), 25u);
}

TEST_F(BatchPublishTest, SleepingSubscriberIsWokenByABatch) {
  attach_pub(FullPolicy::kWait);
  auto sleeper = Bus::attach(name, AgentOptions{.name = "sleeper", .wait = WaitStrategy::kBlock});
  ASSERT_TRUE(sleeper) << sleeper.message();
  const TopicId t = topic("b.wake");
  std::atomic<std::uint64_t> seen{0};
  ASSERT_TRUE(sleeper->on("b.wake", [&](const EventView&) { seen.fetch_add(1); }));
  std::thread waiter([&] {
    while (seen.load() < 3) (void)sleeper->poll_wait(1024, 5s);
  });
  std::this_thread::sleep_for(50ms);  // asleep on the futex by now
  const auto items = iota(0, 3);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(pub->publish_batch(t, items.data(), 8, 3).published, 3u);
  waiter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);  // woken, not timed out
  EXPECT_EQ(seen.load(), 3u);
}

}  // namespace
}  // namespace shmbus
