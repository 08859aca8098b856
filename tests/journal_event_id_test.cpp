// What an event id promises (README "Journal, record and replay", "Event ids"): two journals of
// one bus name every event they share by the same (priority, ring position), and carry the same
// producer identity for it, while each journal's own event id is dense and increasing in that
// journal's order (and differs between journals that started at different times).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "shmbus/bus.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/journal_recorder.hpp"
#include "testing/recorder_thread.hpp"
#include "testing/test_support.hpp"

using namespace std::chrono_literals;
using namespace shmbus;
namespace fs = std::filesystem;

namespace {

struct Seen {
  std::uint64_t journal_id = 0;
  std::uint32_t producer = 0;
  std::uint32_t producer_epoch = 0;
  std::uint64_t producer_seq = 0;
  std::uint64_t value = 0;
};
using Key = std::pair<Priority, std::uint64_t>;  // (priority, ring position): the bus's name

/// Runs a recorder of every t.* event on its own thread until destroyed.
struct RunningRecorder : shmbus::testing::RecorderThread {
  RunningRecorder(const std::string& bus, const std::string& name, const std::string& d)
      : RecorderThread(options(bus, name, d)), dir(d) {}
  static journal::RecorderOptions options(const std::string& bus, const std::string& name,
                                          const std::string& dir) {
    journal::RecorderOptions o;
    o.bus = bus;
    o.agent_name = name;
    o.topics = {"t.*"};
    o.journal.dir = dir;
    o.journal.file_bytes = 64 << 10;
    return o;
  }
  // From STATS: the run thread writes the recorder's own counters.
  std::uint64_t records() const {
    auto st = journal::read_recorder_stats(dir);
    return st ? st->records : 0;
  }
  std::string dir;
};

/// Every record of a journal by its bus key; checks the journal's own ids and per-ring order.
std::map<Key, Seen> read_journal(const std::string& dir) {
  std::map<Key, Seen> out;
  auto r = journal::Reader::open(dir);
  EXPECT_TRUE(r) << r.message();
  if (!r) return out;
  journal::Record rec;
  std::uint64_t expect_id = 1;
  std::map<Priority, std::uint64_t> last_position;
  while (r->next(rec).value()) {
    EXPECT_EQ(rec.event_id, expect_id++) << dir << ": journal ids are dense and increasing";
    const auto it = last_position.find(rec.meta.priority);
    if (it != last_position.end()) {
      EXPECT_GT(rec.meta.ring_position, it->second) << dir << ": ring order kept per priority";
    }
    last_position[rec.meta.priority] = rec.meta.ring_position;
    Seen s;
    s.journal_id = rec.event_id;
    s.producer = rec.meta.producer;
    s.producer_epoch = rec.meta.producer_epoch;
    s.producer_seq = rec.meta.producer_seq;
    std::memcpy(&s.value, rec.payload.data(), sizeof s.value);
    const bool fresh = out.emplace(Key{rec.meta.priority, rec.meta.ring_position}, s).second;
    EXPECT_TRUE(fresh) << dir << ": (priority, ring position) names one event per journal";
  }
  return out;
}

}  // namespace

TEST(JournalEventIdTest, TwoJournalsOfABusNameEachSharedEventAlike) {
  shmbus::testing::SegmentGuard guard(shmbus::testing::unique_bus_name("evid"));
  shmbus::testing::TempDir tmp("evid");
  BusConfig config;
  config.name = guard.name();
  config.ring_capacity = {1024, 1024, 1024, 1024};
  AgentOptions pub{.name = "pub"};
  pub.full_policy = FullPolicy::kWait;
  auto bus = Bus::create(config, pub);
  ASSERT_TRUE(bus) << bus.message();
  const TopicId topic = bus->register_topic("t.fill", 8).value();
  const Priority prios[] = {Priority::kCritical, Priority::kHigh, Priority::kNormal,
                            Priority::kLow};
  auto publish = [&](std::uint64_t v) {
    ASSERT_EQ(bus->publish(topic, &v, sizeof v, prios[v % 4]), PublishStatus::kOk) << v;
  };

  RunningRecorder a(guard.name(), "ja", tmp.sub("a"));
  ASSERT_TRUE(a.rec);
  for (std::uint64_t v = 0; v < 100; ++v) publish(v);  // journal a only
  ASSERT_TRUE(shmbus::testing::eventually([&] { return a.records() == 100; }, 20s));
  RunningRecorder b(guard.name(), "jb", tmp.sub("b"));
  ASSERT_TRUE(b.rec);
  for (std::uint64_t v = 100; v < 1100; ++v) publish(v);  // both
  ASSERT_TRUE(
      shmbus::testing::eventually([&] { return a.records() == 1100 && b.records() == 1000; }, 20s));
  a.stop();
  b.stop();

  const auto ja = read_journal(tmp.sub("a"));
  const auto jb = read_journal(tmp.sub("b"));
  ASSERT_EQ(ja.size(), 1100u);
  ASSERT_EQ(jb.size(), 1000u);
  std::size_t shared = 0;
  std::uint64_t a_min = ~0ull, a_max = 0, b_min = ~0ull, b_max = 0;
  for (const auto& [key, sb] : jb) {
    const auto it = ja.find(key);
    ASSERT_NE(it, ja.end()) << "event at ring position " << key.second << " missing from a";
    const Seen& sa = it->second;
    EXPECT_EQ(sa.value, sb.value) << "same key, same event";
    EXPECT_EQ(sa.producer, sb.producer);
    EXPECT_EQ(sa.producer_epoch, sb.producer_epoch);
    EXPECT_EQ(sa.producer_seq, sb.producer_seq);
    EXPECT_EQ(prios[sb.value % 4], key.first);
    a_min = std::min(a_min, sa.journal_id);
    a_max = std::max(a_max, sa.journal_id);
    b_min = std::min(b_min, sb.journal_id);
    b_max = std::max(b_max, sb.journal_id);
    ++shared;
  }
  EXPECT_EQ(shared, 1000u);
  // The journal's own id is per journal: b started 100 events later, so it numbers the shared
  // events 1..1000 and a numbers them 101..1100 (each in its own order, which may interleave
  // the rings differently: the same event may get the same number in both by chance, so the
  // ranges are what is promised, not a difference per event).
  EXPECT_EQ(b_min, 1u);
  EXPECT_EQ(b_max, 1000u);
  EXPECT_EQ(a_min, 101u);
  EXPECT_EQ(a_max, 1100u);
}
