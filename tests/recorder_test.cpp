// The journal Recorder (shmbus/journal_recorder.hpp) on an in-process bus whose journal lives on
// a small tmpfs that fills up: under "hold" it keeps the event, holds producers back (their
// publishes time out) and counts it, then loses nothing once space returns; under "shed" it
// drops and counts per priority, journaling everything else in order.
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "shmbus/bus.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/journal_recorder.hpp"
#include "testing/recorder_thread.hpp"
#include "testing/test_support.hpp"

using namespace std::chrono_literals;
using namespace shmbus;
namespace fs = std::filesystem;

namespace {

class SmallTmpfs {
 public:
  SmallTmpfs() {
    std::string tmpl = "/tmp/shmbus_rec_XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
    ok_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=512k") == 0;
  }
  ~SmallTmpfs() {
    if (ok_) ::umount2(path_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  bool ok() const { return ok_; }
  bool grow() { return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, "size=8m") == 0; }
  std::string dir() const { return path_ + "/j"; }

 private:
  std::string path_;
  bool ok_ = false;
};

struct Rig {
  shmbus::testing::SegmentGuard guard{shmbus::testing::unique_bus_name("rec")};
  std::optional<Bus> bus;
  std::optional<shmbus::testing::RecorderThread> recorder;
  TopicId topic = kInvalidTopic;

  Rig(const std::string& dir, journal::Backpressure bp) {
    BusConfig config;
    config.name = guard.name();
    config.ring_capacity = {256, 256, 1024, 256};
    config.history_depth = 16;
    AgentOptions pub{.name = "pub"};
    pub.full_policy = FullPolicy::kWait;
    pub.publish_timeout = 50ms;
    auto b = Bus::create(config, pub);
    EXPECT_TRUE(b) << b.message();
    if (!b) return;
    bus.emplace(std::move(*b));
    topic = bus->register_topic("t.fill", 120).value();
    journal::RecorderOptions o;
    o.bus = guard.name();
    o.agent_name = "journal";
    o.topics = {"t.*"};
    o.backpressure = bp;
    o.journal.dir = dir;
    o.journal.file_bytes = 64 << 10;
    recorder.emplace(o);
  }
  bool recording() const { return recorder && recorder->rec; }
  PublishStatus publish(std::uint64_t v) {
    std::byte p[120] = {};
    std::memcpy(p, &v, sizeof v);
    return bus->publish(topic, p, sizeof p);
  }
};

std::vector<std::uint64_t> journaled(const std::string& dir) {
  std::vector<std::uint64_t> out;
  auto r = journal::Reader::open(dir);
  EXPECT_TRUE(r) << r.message();
  if (!r) return out;
  journal::Record rec;
  while (r->next(rec).value()) {
    std::uint64_t v = 0;
    std::memcpy(&v, rec.payload.data(), sizeof v);
    out.push_back(v);
  }
  return out;
}

}  // namespace

TEST(RecorderTest, HoldKeepsProducersBackOnAFullDiskAndLosesNothing) {
  SmallTmpfs fs_;
  if (!fs_.ok()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  std::vector<std::uint64_t> acked;
  {
    Rig rig(fs_.dir(), journal::Backpressure::kHold);
    ASSERT_TRUE(rig.recording());
    std::uint64_t v = 1;
    // Publish until producers are held back: the journal's disk is full, its cursor stays.
    bool held = false;
    for (; v < 20000 && !held; ++v) {
      const auto st = rig.publish(v);
      if (st == PublishStatus::kOk) acked.push_back(v);
      held = st == PublishStatus::kTimeout;
    }
    ASSERT_TRUE(held) << "publisher never held back";
    ASSERT_TRUE(shmbus::testing::eventually(
        [&] {
          auto st = journal::read_recorder_stats(fs_.dir());
          return st && st->held_events >= 1;
        },
        10s));
    ASSERT_TRUE(fs_.grow());
    // The held event goes in at the next retry, then the backlog drains.
    ASSERT_TRUE(shmbus::testing::eventually(
        [&] {
          auto st = journal::read_recorder_stats(fs_.dir());
          return st && st->records >= acked.size();
        },
        10s));
    for (std::uint64_t k = 0; k < 500; ++k, ++v) {
      ASSERT_EQ(rig.publish(v), PublishStatus::kOk);
      acked.push_back(v);
    }
    ASSERT_TRUE(shmbus::testing::eventually(
        [&] {
          auto st = journal::read_recorder_stats(fs_.dir());
          return st && st->records >= acked.size();
        },
        10s));
    auto st = journal::read_recorder_stats(fs_.dir());
    ASSERT_TRUE(st);
    EXPECT_GT(st->held_ns, 0u);
    EXPECT_EQ(st->shed[2], 0u);
  }
  EXPECT_EQ(journaled(fs_.dir()), acked);
}

TEST(RecorderTest, ShedDropsAndCountsByPriorityWhenTheDiskIsFull) {
  SmallTmpfs fs_;
  if (!fs_.ok()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  constexpr std::uint64_t kEvents = 4000;
  {
    Rig rig(fs_.dir(), journal::Backpressure::kShed);
    ASSERT_TRUE(rig.recording());
    for (std::uint64_t v = 1; v <= kEvents; ++v) ASSERT_EQ(rig.publish(v), PublishStatus::kOk);
    ASSERT_TRUE(shmbus::testing::eventually(
        [&] {
          auto st = journal::read_recorder_stats(fs_.dir());
          return st && st->records + st->shed[2] == kEvents;
        },
        10s));
    auto st = journal::read_recorder_stats(fs_.dir());
    ASSERT_TRUE(st);
    EXPECT_GT(st->shed[2], 0u);  // NORMAL
    EXPECT_EQ(st->shed[0] + st->shed[1] + st->shed[3], 0u);
    EXPECT_EQ(st->held_events, 0u);
  }
  const auto kept = journaled(fs_.dir());
  ASSERT_FALSE(kept.empty());
  for (std::size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(kept[i], i + 1);  // a prefix, in order
}

// An outage of the journal agent longer than the ring's history loses the oldest events it
// missed (nothing holds producers back while no recorder runs); a resumed recorder journals
// what the history still holds and counts the overwritten rest as missed, exactly, instead of
// losing it silently.
TEST(RecorderTest, ResumeAfterAnOutageLongerThanTheHistoryCountsWhatWasOverwritten) {
  shmbus::testing::SegmentGuard guard(shmbus::testing::unique_bus_name("outage"));
  shmbus::testing::TempDir tmp("outage");
  BusConfig config;
  config.name = guard.name();
  config.ring_capacity = {256, 256, 256, 256};
  config.history_depth = 16;
  AgentOptions pub{.name = "pub"};
  pub.full_policy = FullPolicy::kWait;
  auto bus = Bus::create(config, pub);
  ASSERT_TRUE(bus) << bus.message();
  const TopicId topic = bus->register_topic("t.fill", 8).value();
  journal::RecorderOptions o;
  o.bus = guard.name();
  o.agent_name = "journal";
  o.resume_from_history = true;
  o.journal.dir = tmp.sub("j");
  o.journal.file_bytes = 64 << 10;
  auto run_until = [&](std::uint64_t records, const std::function<void()>& publish) {
    shmbus::testing::RecorderThread r(o);
    if (!r.rec) return journal::RecorderStats{};
    publish();
    // STATS, not r.rec->stats(): the run thread is writing those.
    EXPECT_TRUE(shmbus::testing::eventually(
        [&] {
          auto st = journal::read_recorder_stats(o.journal.dir);
          return st && st->records >= records;
        },
        20s))
        << records;
    r.stop();
    return r.rec->stats();
  };
  std::uint64_t v = 0;
  auto publish_n = [&](std::uint64_t n) {
    for (std::uint64_t k = 0; k < n; ++k, ++v) {
      ASSERT_EQ(bus->publish(topic, &v, sizeof v), PublishStatus::kOk);
    }
  };
  (void)run_until(50, [&] { publish_n(50); });  // values 0..49 journaled
  publish_n(1000);                              // 50..1049 while no recorder runs: ring laps
  // The restarted recorder gets the history (its last 16 events or more), then 10 new ones.
  const auto st = run_until(26, [&] { publish_n(10); });
  const auto got = journaled(tmp.sub("j"));
  ASSERT_GE(got.size(), 50u + 16u + 10u);
  for (std::uint64_t i = 0; i < 50; ++i) ASSERT_EQ(got[i], i);
  const std::uint64_t resumed_at = got[50];
  EXPECT_GT(resumed_at, 50u) << "an outage of 1000 events fits no 256-slot ring";
  for (std::size_t i = 50; i < got.size(); ++i) ASSERT_EQ(got[i], resumed_at + (i - 50));
  EXPECT_EQ(got.back(), v - 1);
  EXPECT_EQ(st.missed, resumed_at - 50) << "the overwritten events are counted, exactly";
}
