// The ring protocol with threads in one process (so ThreadSanitizer sees every
// access): several producer threads, several subscriber handles, exactly-once
// and per-producer FIFO delivery; tiny rings so producers wrap and wait often.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "shmbus/bus.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::scaled;
using testing::unique_bus_name;

struct Msg {
  std::uint32_t producer;
  std::uint32_t pad;
  std::uint64_t n;
};

TEST(RingTest, ThreadsExactlyOnceAndFifoWithWrapping) {
  const std::string name = unique_bus_name("ring");
  BusConfig cfg;
  cfg.name = name;
  cfg.ring_capacity = {64, 64, 64, 64};
  cfg.history_depth = 4;
  cfg.max_agents = 16;
  auto owner = Bus::create(cfg, AgentOptions{.name = "owner"});
  ASSERT_TRUE(owner) << owner.message();
  auto topic = owner->register_topic("r.x", sizeof(Msg));
  ASSERT_TRUE(topic);

  constexpr int kProd = 3;
  constexpr int kSub = 3;
  const std::uint64_t per_producer = scaled(20'000);
  std::vector<std::unique_ptr<Bus>> subs;
  for (int s = 0; s < kSub; ++s) {
    auto b = Bus::attach(
        name, AgentOptions{.name = "s" + std::to_string(s), .wait = WaitStrategy::kBlock});
    ASSERT_TRUE(b) << b.message();
    subs.push_back(std::make_unique<Bus>(std::move(b.value())));
  }
  std::vector<std::atomic<int>> failures(kSub);
  std::vector<std::thread> sub_threads;
  for (int s = 0; s < kSub; ++s) {
    Bus* bus = subs[static_cast<std::size_t>(s)].get();
    auto* fail = &failures[static_cast<std::size_t>(s)];
    std::vector<std::uint64_t>* next = new std::vector<std::uint64_t>(kProd, 0);
    std::uint64_t* count = new std::uint64_t(0);
    ASSERT_TRUE(bus->on("r.x", [=](const EventView& e) {
      Msg m{};
      if (!e.copy_to(m) || m.producer >= kProd || m.n != (*next)[m.producer]) {
        fail->fetch_add(1);
      } else {
        ++(*next)[m.producer];
      }
      if (++*count == per_producer * kProd) bus->stop();
    }));
    sub_threads.emplace_back([bus, next, count] {
      bus->run_for(120s);
      delete next;
      delete count;
    });
  }
  std::vector<std::unique_ptr<Bus>> prods;
  for (int p = 0; p < kProd; ++p) {
    auto b =
        Bus::attach(name, AgentOptions{.name = "p" + std::to_string(p), .publish_timeout = 60s});
    ASSERT_TRUE(b) << b.message();
    prods.push_back(std::make_unique<Bus>(std::move(b.value())));
  }
  std::atomic<int> publish_failures{0};
  std::vector<std::thread> prod_threads;
  for (int p = 0; p < kProd; ++p) {
    Bus* bus = prods[static_cast<std::size_t>(p)].get();
    prod_threads.emplace_back([&, bus, p] {
      for (std::uint64_t n = 0; n < per_producer; ++n) {
        Msg m{static_cast<std::uint32_t>(p), 0, n};
        if (bus->publish(*topic, &m, sizeof(m)) != PublishStatus::kOk) publish_failures++;
      }
    });
  }
  for (auto& t : prod_threads) t.join();
  for (auto& t : sub_threads) t.join();
  EXPECT_EQ(publish_failures.load(), 0);
  for (int s = 0; s < kSub; ++s) EXPECT_EQ(failures[static_cast<std::size_t>(s)].load(), 0);
}

TEST(RingTest, ConcurrentPublishersFromOneHandleGetUniqueSequences) {
  const std::string name = unique_bus_name("ring2");
  BusConfig cfg;
  cfg.name = name;
  cfg.ring_capacity = {64, 64, 64, 64};
  cfg.max_agents = 4;
  cfg.history_depth = 16;
  auto owner = Bus::create(cfg, AgentOptions{.name = "owner"});
  ASSERT_TRUE(owner) << owner.message();
  auto topic = owner->register_topic("r.y");
  ASSERT_TRUE(topic);
  auto sub = Bus::attach(name, AgentOptions{.name = "sub"});
  ASSERT_TRUE(sub);
  std::vector<std::uint64_t> seqs;
  ASSERT_TRUE(sub->on("r.y", [&](const EventView& e) { seqs.push_back(e.id.sequence); }));
  const std::uint64_t n = scaled(5'000);
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    while (!done.load() || sub->poll() != 0) {
      if (sub->poll() == 0) std::this_thread::yield();
    }
  });
  std::thread a([&] {
    for (std::uint64_t i = 0; i < n; ++i)
      ASSERT_EQ(owner->publish(*topic, &i, 8), PublishStatus::kOk);
  });
  std::thread b([&] {
    for (std::uint64_t i = 0; i < n; ++i)
      ASSERT_EQ(owner->publish(*topic, &i, 8), PublishStatus::kOk);
  });
  a.join();
  b.join();
  done = true;
  consumer.join();
  ASSERT_EQ(seqs.size(), 2 * n);
  std::sort(seqs.begin(), seqs.end());
  EXPECT_EQ(std::adjacent_find(seqs.begin(), seqs.end()), seqs.end());
}

}  // namespace
}  // namespace shmbus
