// The ring protocol (shm/ring/): the slot seq word's encoding, checks and CASes on
// staged words (SlotSeqTest); then threads in one process (so ThreadSanitizer sees
// every access): several producer threads, several subscriber handles, exactly-once
// and per-producer FIFO delivery; tiny rings so producers wrap and wait often.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "shm/ring/slot_seq.hpp"
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

// ---- the seq word, staged ------------------------------------------------------------------
// A plain array of slot headers stands in for a ring of kCap slots: each test writes the words
// a lap would leave and checks what the helpers decide.

constexpr std::uint64_t kCap = 4;

struct StagedRing {
  detail::SlotHeader slots[kCap]{};
  detail::SlotHeader& at(std::uint64_t pos) { return slots[pos % kCap]; }
  void stage(std::uint64_t pos, std::uint64_t seq) { at(pos).seq.store(seq); }
};

TEST(SlotSeqTest, EncodesCommittedAsPositionPlusOneAndPaddedWithTheTopBit) {
  EXPECT_EQ(detail::committed_seq(0), 1u);
  EXPECT_EQ(detail::committed_seq(41), 42u);
  EXPECT_EQ(detail::padded_seq(41), 42u | detail::kSeqPad);
  EXPECT_EQ(detail::kSeqPad, 1ull << 63);
}

TEST(SlotSeqTest, ClassifiesEveryWordASlotCanHoldForOnePosition) {
  const std::uint64_t p = 9;  // slot 1, third lap
  struct Case {
    const char* what;
    std::uint64_t seq;
    bool committed, padded, settled, lapped;
  };
  const Case cases[] = {
      {"never written", 0, false, false, false, false},
      {"previous lap committed", detail::committed_seq(p - kCap), false, false, false, false},
      {"previous lap padded", detail::padded_seq(p - kCap), false, false, false, false},
      {"committed", detail::committed_seq(p), true, false, true, false},
      {"padded", detail::padded_seq(p), false, true, true, false},
      {"next lap committed", detail::committed_seq(p + kCap), false, false, true, true},
      {"next lap padded", detail::padded_seq(p + kCap), false, false, true, true},
  };
  for (const Case& c : cases) {
    StagedRing ring;
    ring.stage(p, c.seq);
    const std::uint64_t s = ring.at(p).seq.load();
    EXPECT_EQ(detail::seq_committed(s, p), c.committed) << c.what;
    EXPECT_EQ(detail::seq_padded(s, p), c.padded) << c.what;
    EXPECT_EQ(detail::seq_settled(s, p), c.settled) << c.what;
    EXPECT_EQ(detail::seq_lapped(s, p), c.lapped) << c.what;
  }
}

TEST(SlotSeqTest, CommitOfAClaimWinsOverALaterPad) {
  StagedRing ring;
  const std::uint64_t p = 6;
  const std::uint64_t before = detail::committed_seq(p - kCap);  // what the claimant saw
  ring.stage(p, before);
  EXPECT_TRUE(detail::commit_claimed(ring.at(p), p, before));
  EXPECT_FALSE(detail::pad_slot(ring.at(p), p));
  EXPECT_EQ(ring.at(p).seq.load(), detail::committed_seq(p));
}

TEST(SlotSeqTest, PadOfAStalledClaimMakesItsCommitFail) {
  StagedRing ring;
  const std::uint64_t p = 6;
  const std::uint64_t before = detail::padded_seq(p - kCap);
  ring.stage(p, before);
  EXPECT_TRUE(detail::pad_slot(ring.at(p), p));
  EXPECT_FALSE(detail::commit_claimed(ring.at(p), p, before));
  EXPECT_FALSE(detail::pad_claimed(ring.at(p), p, before));  // nor can it cancel
  EXPECT_EQ(ring.at(p).seq.load(), detail::padded_seq(p));
}

TEST(SlotSeqTest, ClaimantCancelPadsItsOwnSlot) {
  StagedRing ring;
  const std::uint64_t p = 3;
  ring.stage(p, 0);
  EXPECT_TRUE(detail::pad_claimed(ring.at(p), p, 0));
  EXPECT_TRUE(detail::seq_padded(ring.at(p).seq.load(), p));
}

TEST(SlotSeqTest, PadSlotLeavesALaterLapAlone) {
  StagedRing ring;
  const std::uint64_t p = 5;
  ring.stage(p, detail::committed_seq(p + kCap));
  EXPECT_FALSE(detail::pad_slot(ring.at(p), p));
  EXPECT_EQ(ring.at(p).seq.load(), detail::committed_seq(p + kCap));
}

TEST(SlotSeqTest, PadSlotLeavesOtherSlotsAlone) {
  StagedRing ring;
  for (std::uint64_t p = 0; p < kCap; ++p) ring.stage(p, detail::committed_seq(p));
  ring.stage(kCap + 2, detail::committed_seq(2));  // slot 2 waits for position kCap + 2
  EXPECT_TRUE(detail::pad_slot(ring.at(kCap + 2), kCap + 2));
  for (std::uint64_t p = 0; p < kCap; ++p) {
    if (p == 2) continue;
    EXPECT_EQ(ring.at(p).seq.load(), detail::committed_seq(p)) << p;
  }
  EXPECT_EQ(ring.at(2).seq.load(), detail::padded_seq(kCap + 2));
}

// ---- the protocol with threads -------------------------------------------------------------

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
