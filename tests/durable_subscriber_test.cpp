// Durable subscribers (shmbus/journal_durable.hpp) across real processes: a journal writer process
// appends events while a durable subscriber process is SIGKILLed at random points and restarted
// each time. In the end every journaled event was handled in order, the only repeats are
// flagged redeliveries after a checkpoint, and the state stored with the checkpoint saw each
// event exactly once. Plus the checkpoint's bad inputs.
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "shmbus/bus.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/journal_durable.hpp"
#include "shmbus/journal_recorder.hpp"
#include "testing/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace shmbus;
using namespace shmbus::journal;
using shmbus::testing::Child;
using shmbus::testing::SegmentGuard;

namespace {

using shmbus::testing::TempDir;

DurableOptions durable(const std::string& dir, const std::string& name) {
  DurableOptions o;
  o.journal_dir = dir;
  o.name = name;
  return o;
}

struct Effect {
  std::uint64_t event_id;
  std::uint64_t redelivered;
};

struct State {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
};

/// The journal writer process: `n` events in bursts of 200, one burst per ms, so events keep
/// flowing while the subscriber is killed and restarted.
int write_journal(const std::string& dir, std::uint64_t n) {
  JournalOptions o;
  o.dir = dir;
  o.file_bytes = 4 << 20;  // several roll-overs
  auto w = Writer::open(o);
  if (!w) return 10;
  RecordMeta m;
  m.topic = "order.filled";
  std::uint64_t payload[8] = {};
  for (std::uint64_t i = 1; i <= n; ++i) {
    payload[0] = i;
    m.producer_seq = i;
    if (w->append(m, std::as_bytes(std::span(payload))) != AppendStatus::kOk) return 11;
    if (i % 200 == 0) {
      timespec ts{0, 1'000'000};
      ::nanosleep(&ts, nullptr);  // the producer's pace, not a wait for a condition
    }
  }
  return w->close() ? 0 : 12;
}

/// The durable subscriber process: logs each handled event (its effect, one write(2)) and keeps
/// a count and sum as its own state, stored with a checkpoint every 500 events. Exits 0 after
/// the last event.
int run_subscriber(const std::string& dir, const std::string& effects, std::uint64_t n) {
  auto sub = DurableSubscriber::open(durable(dir, "audit"));
  if (!sub) return 20;
  State st;
  if (sub->state().size() == sizeof st) std::memcpy(&st, sub->state().data(), sizeof st);
  const int fd = ::open(effects.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return 21;
  std::uint64_t last = sub->checkpoint();
  bool bad = false;
  const auto handler = [&](const Delivery& d) {
    std::uint64_t v = 0;
    std::memcpy(&v, d.record.payload.data(), sizeof v);
    if (v != d.record.event_id) bad = true;
    const Effect e{d.record.event_id, d.redelivered ? 1u : 0u};
    if (::write(fd, &e, sizeof e) != static_cast<ssize_t>(sizeof e)) bad = true;
    ++st.count;
    st.sum += d.record.event_id;
    last = d.record.event_id;
  };
  while (last < n && !bad) {
    auto got = sub->poll(handler, 500, 5s);
    if (!got) return 22;
    if (*got != 0) {
      if (!sub->store_checkpoint(last, std::as_bytes(std::span(&st, 1)))) return 23;
    }
  }
  ::close(fd);
  return bad ? 24 : 0;
}

// ---- live mode ----------------------------------------------------------------------------

constexpr std::uint64_t kEndMarker = ~std::uint64_t{0};

bool is_high(std::uint64_t v) {
  return v % 7 == 0;  // every 7th event goes on the HIGH ring, the rest on NORMAL
}

struct LiveEffect {
  std::uint64_t value;
  std::uint8_t ring;
  std::uint8_t redelivered;
  std::uint8_t live;
  std::uint8_t pad[5];
};
static_assert(sizeof(LiveEffect) == 16);

volatile sig_atomic_t g_producer_stop = 0;

/// The producer process: values 1, 2, ... (HIGH for multiples of 7, NORMAL otherwise), 20 per
/// ms, until SIGTERM; then the end marker on NORMAL, and the last value into `count_file`.
int run_producer(const std::string& bus_name, const std::string& count_file) {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_producer_stop = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  auto bus = Bus::attach(bus_name, AgentOptions{.name = "producer"});
  if (!bus) return 40;
  auto topic = bus->register_topic("order.filled", 8);
  if (!topic) return 41;
  auto publish = [&](std::uint64_t v, Priority p) {
    // kFull after publish_timeout while a killed subscriber still holds the ring: try again.
    while (bus->publish(*topic, &v, sizeof v, p) != PublishStatus::kOk) {
    }
  };
  std::uint64_t v = 0;
  while (g_producer_stop == 0) {
    ++v;
    publish(v, is_high(v) ? Priority::kHigh : Priority::kNormal);
    if (v % 20 == 0) {
      timespec ts{0, 1'000'000};
      ::nanosleep(&ts, nullptr);  // the producer's pace, not a wait for a condition
    }
  }
  publish(kEndMarker, Priority::kNormal);
  FILE* f = std::fopen(count_file.c_str(), "w");
  if (f == nullptr) return 42;
  std::fprintf(f, "%llu\n", static_cast<unsigned long long>(v));
  return std::fclose(f) == 0 ? 0 : 43;
}

/// The live durable subscriber process: logs each delivery (value, ring, flags), keeps count and
/// sum as its state, checkpoints by position after each batch, exits 0 after the end marker.
int run_live_subscriber(const std::string& dir, const std::string& bus_name,
                        const std::string& effects) {
  DurableOptions o = durable(dir, "live");
  o.bus = bus_name;
  o.priorities = {false, true, true, false};
  o.seam_timeout = 20s;
  auto sub = DurableSubscriber::open(o);
  if (!sub) {
    std::fprintf(stderr, "open: %s\n", sub.message().c_str());
    return 20;
  }
  State st;
  if (sub->state().size() == sizeof st) std::memcpy(&st, sub->state().data(), sizeof st);
  const int fd = ::open(effects.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return 21;
  bool done = false, bad = false;
  const auto handler = [&](const Delivery& d) {
    std::uint64_t v = 0;
    if (d.record.payload.size() != sizeof v) bad = true;
    std::memcpy(&v, d.record.payload.data(), sizeof v);
    if (v == kEndMarker) {
      done = true;
      return;
    }
    const LiveEffect e{v,
                       static_cast<std::uint8_t>(index_of(d.record.meta.priority)),
                       d.redelivered ? std::uint8_t{1} : std::uint8_t{0},
                       d.live ? std::uint8_t{1} : std::uint8_t{0},
                       {}};
    if (::write(fd, &e, sizeof e) != static_cast<ssize_t>(sizeof e)) bad = true;
    ++st.count;
    st.sum += v;
  };
  while (!done && !bad) {
    auto got = sub->poll(handler, 256, 1s);
    if (!got) return 22;
    if (*got != 0 && !sub->checkpoint_handed_out(std::as_bytes(std::span(&st, 1)))) return 23;
  }
  ::close(fd);
  if (sub->gaps() != 0) return 30;
  return bad ? 24 : 0;
}

std::vector<LiveEffect> read_live_effects(const std::string& path) {
  std::vector<LiveEffect> out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  LiveEffect e{};
  while (::read(fd, &e, sizeof e) == static_cast<ssize_t>(sizeof e)) out.push_back(e);
  ::close(fd);
  return out;
}

}  // namespace

// Live mode across real processes: a producer publishes continuously on two rings, the journal
// agent records, a durable subscriber joining at the seam is SIGKILLed at random points 20
// times and restarted. In the end every event was handled in order per ring, the only repeats
// are flagged redeliveries, the checkpointed state saw each event exactly once, and the last
// run delivered from the rings (live) after replaying.
TEST(DurableSubscriberTest, LiveModeJoinsTheRingWithNoGapOrDuplicateAcrossSigkills) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  const std::string effects = tmp.sub("effects");
  SegmentGuard guard(shmbus::testing::unique_bus_name("dlive"));
  BusConfig config;
  config.name = guard.name();
  config.ring_capacity = {1024, 16384, 65536, 1024};
  config.history_depth = 64;
  auto bus = Bus::create(config, {.name = "creator"});
  ASSERT_TRUE(bus) << bus.message();
  Child journal = Child::exec(shmbus::testing::bin_dir() + "/agents/journal/shmbus-journal",
                              {"--bus", guard.name(), "--dir", dir, "--file-mb", "4", "--no-resume",
                               "--priorities", "high,normal"});
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        auto st = read_recorder_stats(dir);
        return st && st->pid == static_cast<std::uint64_t>(journal.pid());
      },
      10s));
  Child producer = Child::fork([&] { return run_producer(guard.name(), tmp.sub("count")); });

  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> delay_ms(5, 150);
  int kills = 0;
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  while (kills < 20 && std::chrono::steady_clock::now() < deadline) {
    Child sub = Child::fork([&] { return run_live_subscriber(dir, guard.name(), effects); });
    const int code = sub.wait(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(code, -1) << "subscriber exited early with " << code;
    sub.kill(SIGKILL);
    ASSERT_EQ(sub.wait(10s), 128 + SIGKILL);
    ++kills;
  }
  ASSERT_EQ(kills, 20);
  // The last run: once it delivers live, the producer stops and publishes the end marker.
  const std::size_t before = read_live_effects(effects).size();
  Child last = Child::fork([&] { return run_live_subscriber(dir, guard.name(), effects); });
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        const auto e = read_live_effects(effects);
        for (std::size_t i = before; i < e.size(); ++i) {
          if (e[i].live != 0) return true;
        }
        return false;
      },
      20s))
      << "the last run never delivered live";
  producer.kill(SIGTERM);
  ASSERT_EQ(producer.wait(20s), 0);
  ASSERT_EQ(last.wait(20s), 0) << "subscriber exit code (30: gaps reported)";
  journal.kill(SIGTERM);
  ASSERT_EQ(journal.wait(20s), 0);

  std::uint64_t total = 0;
  {
    FILE* f = std::fopen(tmp.sub("count").c_str(), "r");
    ASSERT_NE(f, nullptr);
    unsigned long long t = 0;
    ASSERT_EQ(std::fscanf(f, "%llu", &t), 1);
    std::fclose(f);
    total = t;
  }
  // Per ring: values in order with no gap; a repeat only when flagged.
  const auto all = read_live_effects(effects);
  std::uint64_t max_seen[kPriorityCount] = {};
  std::uint64_t repeats = 0, live_last_run = 0, replayed_last_run = 0;
  auto next_after = [](std::uint8_t ring, std::uint64_t v) {
    do {
      ++v;
    } while (is_high(v) != (ring == index_of(Priority::kHigh)));
    return v;
  };
  for (std::size_t i = 0; i < all.size(); ++i) {
    const LiveEffect& e = all[i];
    ASSERT_LT(e.ring, kPriorityCount);
    if (e.value <= max_seen[e.ring]) {
      ASSERT_EQ(e.redelivered, 1u)
          << "unflagged repeat of " << e.value << " (live " << +e.live << ")";
      ++repeats;
    } else {
      ASSERT_EQ(e.value, next_after(e.ring, max_seen[e.ring]))
          << "gap before " << e.value << " on ring " << +e.ring << " (live " << +e.live << ")";
      max_seen[e.ring] = e.value;
    }
    if (i >= before) (e.live != 0 ? live_last_run : replayed_last_run) += 1;
  }
  const auto high = index_of(Priority::kHigh), normal = index_of(Priority::kNormal);
  EXPECT_EQ(std::max(max_seen[high], max_seen[normal]), total);
  EXPECT_EQ(next_after(static_cast<std::uint8_t>(high), max_seen[high]) > total, true);
  EXPECT_EQ(next_after(static_cast<std::uint8_t>(normal), max_seen[normal]) > total, true);
  EXPECT_GT(live_last_run, 0u);
  EXPECT_EQ(all.back().live, 1u) << "the stream's end came from the ring";
  // The state stored with each checkpoint saw every event exactly once.
  auto sub = DurableSubscriber::open(durable(dir, "live"));
  ASSERT_TRUE(sub) << sub.message();
  ASSERT_EQ(sub->state().size(), sizeof(State));
  State st;
  std::memcpy(&st, sub->state().data(), sizeof st);
  EXPECT_EQ(st.count, total);
  EXPECT_EQ(st.sum, total * (total + 1) / 2);
  std::printf(
      "[ durable  ] live: %llu events, %d kills, %llu flagged repeats; last run %llu "
      "replayed then %llu live\n",
      static_cast<unsigned long long>(total), kills, static_cast<unsigned long long>(repeats),
      static_cast<unsigned long long>(replayed_last_run),
      static_cast<unsigned long long>(live_last_run));
}

// The issue asks for 1,000,000 events; 200,000 (times SHMBUS_TEST_SCALE) keep this within
// about a minute on a shared 2-core machine with tens of kills.
TEST(DurableSubscriberTest, SurvivesRandomSigkillsWithOnlyFlaggedRepeatsAndExactlyOnceState) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  const std::string effects = tmp.sub("effects");
  const std::uint64_t n = shmbus::testing::scaled(200'000);
  // The journal must exist before the first subscriber opens it.
  {
    JournalOptions o;
    o.dir = dir;
    o.file_bytes = 4 << 20;
    ASSERT_TRUE(Writer::open(o));
  }
  Child writer = Child::fork([&] { return write_journal(dir, n); });
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  // The first kills come quickly, so that even a fast (small-scale) run is killed often enough
  // to mean something; later ones let the subscriber get further.
  std::uniform_int_distribution<int> early_ms(2, 15);
  std::uniform_int_distribution<int> delay_ms(5, 120);
  int kills = 0;
  int code = -1;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    Child sub = Child::fork([&] { return run_subscriber(dir, effects, n); });
    const int d = kills < 8 ? early_ms(rng) : delay_ms(rng);
    code = sub.wait(std::chrono::milliseconds(d));  // it finished first, or it dies now
    if (code == -1) {
      sub.kill(SIGKILL);
      code = sub.wait(10s);
      if (code == 0) break;  // it finished between the wait and the kill
      ASSERT_EQ(code, 128 + SIGKILL);
      ++kills;
      continue;
    }
    break;
  }
  ASSERT_EQ(code, 0) << "subscriber exit code (20s: open/poll/checkpoint failed)";
  ASSERT_EQ(writer.wait(30s), 0);
  EXPECT_GE(kills, 5) << "too few kills to mean anything";

  // Every journaled event handled, in order; a repeat only when flagged.
  const int fd = ::open(effects.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Effect e{};
  std::uint64_t max_seen = 0, repeats = 0, flagged = 0, entries = 0;
  while (::read(fd, &e, sizeof e) == static_cast<ssize_t>(sizeof e)) {
    ++entries;
    flagged += e.redelivered;
    if (e.event_id <= max_seen) {
      ASSERT_EQ(e.redelivered, 1u) << "unflagged repeat of event " << e.event_id;
      ++repeats;
    } else {
      ASSERT_EQ(e.event_id, max_seen + 1) << "gap before event " << e.event_id;
      max_seen = e.event_id;
    }
  }
  ::close(fd);
  EXPECT_EQ(max_seen, n);
  EXPECT_EQ(entries, n + repeats);
  EXPECT_GE(flagged, repeats);
  // The state stored with each checkpoint saw every event exactly once.
  auto sub = DurableSubscriber::open(durable(dir, "audit"));
  ASSERT_TRUE(sub) << sub.message();
  ASSERT_EQ(sub->state().size(), sizeof(State));
  State st;
  std::memcpy(&st, sub->state().data(), sizeof st);
  EXPECT_EQ(sub->checkpoint(), n);
  EXPECT_EQ(st.count, n);
  EXPECT_EQ(st.sum, n * (n + 1) / 2);
  std::printf("[ durable  ] %llu events, %d kills, %llu flagged redeliveries (%llu repeats)\n",
              static_cast<unsigned long long>(n), kills, static_cast<unsigned long long>(flagged),
              static_cast<unsigned long long>(repeats));
}

TEST(DurableSubscriberTest, SecondInstanceOfANameIsBusy) {
  TempDir tmp;
  JournalOptions o;
  o.dir = tmp.sub("j");
  o.file_bytes = 1 << 20;
  ASSERT_TRUE(Writer::open(o));
  auto a = DurableSubscriber::open(durable(o.dir, "x"));
  ASSERT_TRUE(a) << a.message();
  auto b = DurableSubscriber::open(durable(o.dir, "x"));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.code(), Errc::kBusy);
  auto bad = DurableSubscriber::open(durable(o.dir, "../x"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.code(), Errc::kInvalidArgument);
}

TEST(DurableSubscriberTest, DamagedCheckpointIsAClearErrorAndIsKept) {
  TempDir tmp;
  JournalOptions o;
  o.dir = tmp.sub("j");
  o.file_bytes = 1 << 20;
  ASSERT_TRUE(Writer::open(o));
  {
    auto a = DurableSubscriber::open(durable(o.dir, "y"));
    ASSERT_TRUE(a) << a.message();
    const std::uint64_t s = 42;
    ASSERT_TRUE(a->store_checkpoint(7, std::as_bytes(std::span(&s, 1))));
  }
  const std::string path = o.dir + "/subscribers/y.ckpt";
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const char junk = 0x55;
  ASSERT_EQ(::pwrite(fd, &junk, 1, 33), 1);  // inside the state
  ::close(fd);
  auto a = DurableSubscriber::open(durable(o.dir, "y"));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.code(), Errc::kCorrupt);
  EXPECT_NE(a.message().find("y.ckpt is damaged"), std::string::npos) << a.message();
  EXPECT_TRUE(fs::exists(path));  // left for the operator, not silently reset
}

// Live mode cannot promise a seam without the journal agent: open says so, bounded in time.
TEST(DurableSubscriberTest, LiveModeWithoutTheJournalAgentIsATimeoutNamingIt) {
  TempDir tmp;
  JournalOptions jo;
  jo.dir = tmp.sub("j");
  jo.file_bytes = 1 << 20;
  ASSERT_TRUE(Writer::open(jo));
  SegmentGuard guard(shmbus::testing::unique_bus_name("dnoj"));
  BusConfig config;
  config.name = guard.name();
  auto bus = Bus::create(config, {.name = "creator"});
  ASSERT_TRUE(bus) << bus.message();
  DurableOptions o = durable(jo.dir, "lonely");
  o.bus = guard.name();
  o.journal_agent = "recorder7";
  o.seam_timeout = 200ms;
  auto sub = DurableSubscriber::open(o);
  ASSERT_FALSE(sub);
  EXPECT_EQ(sub.code(), Errc::kTimeout);
  EXPECT_NE(sub.message().find("journal agent 'recorder7' is not running"), std::string::npos)
      << sub.message();
}
