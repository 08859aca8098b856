// Batch publishing across processes: a producer process publishing batches (Bus::publish_batch)
// is SIGKILLed mid-batch, again and again, often between a slot's claim and its commit. The
// supervisor (its own process) recovers the claimed slot; the subscriber sees a prefix of each
// batch, in order, with consecutive producer sequences: nothing torn, nothing twice.
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shm/publish_steps.hpp"
#include "shm/segment.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/supervisor.hpp"
#include "testing/supervisor_process.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using detail::Segment;
using testing::Child;
using testing::eventually;
using testing::SegmentGuard;
using testing::unique_bus_name;

constexpr std::uint32_t kBatch = 64;
constexpr int kIncarnations = 24;

struct Item {
  std::uint32_t incarnation;
  std::uint32_t index;  // within its batch
  std::uint64_t batch;
  std::uint64_t check[6];  // a function of the three above: a torn event fails it
};
static_assert(sizeof(Item) == 64);

std::uint64_t check_word(const Item& it, int k) {
  return (std::uint64_t{it.incarnation} << 40) ^ (it.batch << 8) ^ it.index ^
         (0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(k + 1));
}

// Between fill and commit of every 8th event: a pause, so that kills often land on a claimed,
// uncommitted slot (the recovery path) rather than elsewhere.
std::uint64_t g_steps = 0;
void hold_claim() noexcept {
  if (++g_steps % 8 == 0) {
    timespec ts{0, 200'000};
    nanosleep(&ts, nullptr);
  }
}

int run_producer(const std::string& name, TopicId topic, std::uint32_t incarnation,
                 testing::ReadyPipe& ready) {
  auto bus = Bus::attach(name, AgentOptions{.name = "prod" + std::to_string(incarnation),
                                            .full_policy = FullPolicy::kWait,
                                            .publish_timeout = 30s});
  if (!bus) return 2;
  detail::set_publish_step_hook(&hold_claim);
  std::vector<Item> items(kBatch);
  for (std::uint64_t b = 0;; ++b) {
    for (std::uint32_t i = 0; i < kBatch; ++i) {
      Item& it = items[i];
      it.incarnation = incarnation;
      it.index = i;
      it.batch = b;
      for (int k = 0; k < 6; ++k) it.check[k] = check_word(it, k);
    }
    // HIGH: never shed when the subscriber falls behind and the level rises.
    const PublishBatchResult r =
        bus->publish_batch(topic, items.data(), sizeof(Item), kBatch, Priority::kHigh);
    if (r.status != PublishStatus::kOk) return 30 + static_cast<int>(r.status);
    if (r.published != kBatch) return 3;
    if (b == 0) ready.signal();  // one whole batch out: the kill window may start
  }
}

TEST(BatchMultiProcessTest, ProducerKilledMidBatchLeavesAPrefixOfEachBatch) {
  const std::string name = unique_bus_name("mpbatch");
  SegmentGuard guard(name);
  // The subscriber must get every committed event.
  const SupervisorConfig sc = testing::lossless_supervisor_config(name, 256, 16, 16);
  Child supervisor = testing::fork_supervisor(sc);
  ASSERT_TRUE(testing::supervisor_up(name, supervisor));

  auto sub = Bus::attach(name, AgentOptions{.name = "sub"});
  ASSERT_TRUE(sub) << sub.message();
  auto topic = sub->register_topic("mpb.x", sizeof(Item));
  ASSERT_TRUE(topic) << topic.message();
  auto end_topic = sub->register_topic("mpb.end", 0);
  ASSERT_TRUE(end_topic) << end_topic.message();

  // What the subscriber saw: per incarnation, batches complete but for the last, which is a
  // prefix; producer sequences consecutive within an incarnation.
  std::int64_t inc = -1;
  std::uint64_t batch = 0;
  std::uint32_t next_index = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t events = 0;
  std::uint64_t truncated = 0;  // incarnations whose last batch was cut short
  std::vector<std::string> errors;
  bool ended = false;
  auto fail = [&](const std::string& what) {
    if (errors.size() < 10) errors.push_back(what);
  };
  ASSERT_TRUE(sub->on("mpb.x", [&](const EventView& e) {
    Item it{};
    if (e.payload.size() != sizeof(Item)) return fail("bad size");
    std::memcpy(&it, e.payload.data(), sizeof(Item));
    for (int k = 0; k < 6; ++k) {
      if (it.check[k] != check_word(it, k)) return fail("torn event");
    }
    ++events;
    if (static_cast<std::int64_t>(it.incarnation) != inc) {
      if (static_cast<std::int64_t>(it.incarnation) < inc) return fail("incarnation went back");
      if (inc >= 0 && next_index != 0) ++truncated;
      if (it.batch != 0 || it.index != 0) return fail("incarnation did not start at 0/0");
      inc = it.incarnation;
      batch = 0;
      next_index = 1;
      last_seq = e.id.sequence;
      return;
    }
    if (e.id.sequence != last_seq + 1) fail("producer sequence not consecutive");
    last_seq = e.id.sequence;
    if (next_index == kBatch) {
      if (it.batch != batch + 1 || it.index != 0) return fail("batch not followed by the next");
      batch = it.batch;
      next_index = 1;
      return;
    }
    if (it.batch != batch || it.index != next_index) {
      return fail("batch " + std::to_string(batch) + " cut at " + std::to_string(next_index) +
                  " in a live producer, or reordered");
    }
    ++next_index;
  }));
  ASSERT_TRUE(sub->on("mpb.end", [&](const EventView&) { ended = true; }));

  std::mt19937 rng(81);
  for (int k = 0; k < kIncarnations; ++k) {
    // The kill window opens once the producer has published its first batch: under TSan a
    // forked producer can take longer to attach than the whole window, and publish nothing.
    testing::ReadyPipe ready;
    Child producer = Child::fork(
        [&, k] { return run_producer(name, *topic, static_cast<std::uint32_t>(k), ready); });
    const auto ready_by = std::chrono::steady_clock::now() + 10s;
    bool started = false;
    while (!started && std::chrono::steady_clock::now() < ready_by) {
      (void)sub->poll();             // drain meanwhile: the producer waits on a full ring
      started = ready.wait(1, 2ms);  // (it rounds down to whole ms: 1 ms would not poll)
    }
    ASSERT_TRUE(started) << "producer " << k << " published no batch in 10 s; exit "
                         << (producer.running() ? std::string("none, running")
                                                : std::to_string(producer.wait(1s)));
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(5 + rng() % 30);
    while (std::chrono::steady_clock::now() < until) (void)sub->poll();
    ASSERT_TRUE(producer.running()) << "producer " << k << " exited " << producer.wait(1s);
    producer.kill(SIGKILL);
    ASSERT_EQ(producer.wait(10s), 128 + SIGKILL);
  }
  // An end marker behind everything: the subscriber passes it once every slot a dead producer
  // held has been closed.
  ASSERT_EQ(sub->publish(*end_topic, nullptr, 0), PublishStatus::kOk);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!ended && std::chrono::steady_clock::now() < deadline) (void)sub->poll();
  EXPECT_TRUE(ended) << "a slot a dead producer claimed was never closed";
  for (const std::string& e : errors) ADD_FAILURE() << e;
  EXPECT_EQ(inc, kIncarnations - 1);
  EXPECT_GT(events, 0u);
  std::printf("batch kills: %d incarnations, %llu events, %llu last batches cut short\n",
              kIncarnations, static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(truncated + (next_index != kBatch ? 1 : 0)));

  supervisor.kill(SIGTERM);
  EXPECT_EQ(supervisor.wait(10s), 0);
}

}  // namespace
}  // namespace shmbus
