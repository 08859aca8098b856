// The journal commands as real processes: `shmbus record` of a live bus until SIGTERM, `shmbus
// replay` at 1x (timing within a stated tolerance) and at max (same events, same order, faster),
// `shmbus journal show|export|ls`, and the bad inputs: a missing journal directory, a replay
// onto a bus whose topic has another payload size.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "shmbus/bus.hpp"
#include "shmbus/catalog.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/journal_recorder.hpp"
#include "testing/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace shmbus;
using shmbus::testing::Child;
using shmbus::testing::SegmentGuard;
using shmbus::testing::unique_bus_name;

namespace {

std::string cli() {
  return shmbus::testing::bin_dir() + "/agents/cli/shmbus";
}

using shmbus::testing::TempDir;

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

/// Runs the CLI through sh so stdout and stderr land in files; the CLI replaces the shell (exec),
/// so signals sent to the Child reach it.
Child start_cli(const std::vector<std::string>& args, const std::string& out,
                const std::string& err) {
  std::string cmd = "exec " + quote(cli());
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(out) + " 2>" + quote(err);
  return Child::exec("/bin/sh", {"-c", cmd});
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TestBus {
  explicit TestBus(const std::string& tag) : guard(unique_bus_name(tag)) {
    BusConfig config;
    config.name = guard.name();
    config.ring_capacity = {256, 256, 1024, 1024};
    config.history_depth = 32;
    auto created = Bus::create(config, {.name = "creator"});
    EXPECT_TRUE(created.ok()) << created.message();
    if (created) bus.emplace(std::move(created.value()));
  }
  SegmentGuard guard;
  std::optional<Bus> bus;
  const std::string& name() const { return guard.name(); }
};

std::uint64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

struct Sent {
  std::string topic;
  std::uint64_t value;
  Priority priority;
};

/// Publishes `n` events on two topics and all priorities, `gap` apart (the session's own pace).
std::vector<Sent> publish_session(Bus& bus, std::uint64_t n, std::chrono::microseconds gap) {
  const auto tick = bus.register_topic("md.tick", 8);
  const auto note = bus.register_topic("ops.note", 0);
  EXPECT_TRUE(tick && note);
  std::vector<Sent> sent;
  std::uint64_t next = mono_ns();
  for (std::uint64_t i = 0; i < n; ++i) {
    const bool is_tick = i % 3 != 0;
    // One priority: a subscriber drains CRITICAL before HIGH before..., so events of several
    // priorities published back to back are journaled in drain order, not publish order.
    const auto prio = Priority::kNormal;
    const std::uint64_t v = i * 1000 + 7;
    std::string text = "note " + std::to_string(v);
    PublishStatus st = is_tick ? bus.publish(*tick, &v, sizeof v, prio)
                               : bus.publish(*note, text.data(), text.size(), prio);
    EXPECT_EQ(st, PublishStatus::kOk);
    sent.push_back({is_tick ? "md.tick" : "ops.note", v, prio});
    if (gap.count() > 0) {
      next += static_cast<std::uint64_t>(gap.count()) * 1000;
      timespec ts{static_cast<time_t>(next / 1'000'000'000u),
                  static_cast<long>(next % 1'000'000'000u)};
      ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);  // the session's pace
    }
  }
  return sent;
}

/// Records a session of `n` events `gap` apart on a fresh bus into `dir`.
void record_session(const std::string& dir, std::uint64_t n, std::chrono::microseconds gap,
                    const std::string& tmp) {
  TestBus tb("jrec");
  ASSERT_TRUE(tb.bus);
  Child rec =
      start_cli({"record", "--bus", tb.name(), "--out", dir}, tmp + "/rec.out", tmp + "/rec.err");
  // Subscribed, not only attached: the recorder writes its pid into STATS after subscribing.
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        auto st = journal::read_recorder_stats(dir);
        return st && st->pid == static_cast<std::uint64_t>(rec.pid());
      },
      10s))
      << slurp(tmp + "/rec.err");
  const auto sent = publish_session(*tb.bus, n, gap);
  rec.kill(SIGTERM);
  ASSERT_EQ(rec.wait(20s), 0) << slurp(tmp + "/rec.err");
  // Everything published while it recorded is on disk, in order.
  auto reader = journal::Reader::open(dir);
  ASSERT_TRUE(reader) << reader.message();
  journal::Record r;
  std::uint64_t i = 0;
  while (reader->next(r).value()) {
    ASSERT_LT(i, sent.size());
    EXPECT_EQ(r.event_id, i + 1);
    EXPECT_EQ(r.meta.topic, sent[i].topic);
    EXPECT_EQ(r.meta.priority, sent[i].priority);
    ++i;
  }
  EXPECT_EQ(i, n);
}

struct Received {
  std::string topic;
  std::vector<std::byte> payload;
  std::uint64_t at_ns;         ///< when the subscriber handled it
  std::uint64_t published_ns;  ///< when the replayer published it (the event's timestamp)
};

/// Replays `dir` onto a fresh bus at `speed`, collecting every event a subscriber there sees.
std::vector<Received> replay_onto_fresh_bus(const std::string& dir, const std::string& speed,
                                            std::uint64_t expect, const std::string& tmp,
                                            std::uint64_t& elapsed_ns,
                                            const std::vector<std::string>& extra = {}) {
  TestBus tb("jrep");
  std::vector<Received> got;
  if (!tb.bus) return got;
  // The backtest bus knows its topics, as a real one would.
  EXPECT_TRUE(tb.bus->register_topic("md.tick", 8));
  EXPECT_TRUE(tb.bus->register_topic("ops.note", 0));
  auto sub = tb.bus->on_any([&](const EventView& e) {
    if (e.topic_name.rfind("sys.", 0) == 0) return;
    got.push_back({std::string(e.topic_name),
                   {e.payload.begin(), e.payload.end()},
                   mono_ns(),
                   e.timestamp_ns});
  });
  EXPECT_TRUE(sub);
  const std::uint64_t t0 = mono_ns();
  std::vector<std::string> args{"replay", dir, "--bus", tb.name(), "--speed", speed};
  args.insert(args.end(), extra.begin(), extra.end());
  Child rep = start_cli(args, tmp + "/rep.out", tmp + "/rep.err");
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (got.size() < expect && std::chrono::steady_clock::now() < deadline) {
    (void)tb.bus->poll_wait(4096, 100ms);
  }
  elapsed_ns = got.empty() ? 0 : got.back().at_ns - t0;
  EXPECT_EQ(rep.wait(20s), 0) << slurp(tmp + "/rep.err");
  (void)tb.bus->poll();  // anything beyond `expect` (there should be none)
  return got;
}

void expect_same_events(const std::vector<Received>& got, std::uint64_t n) {
  ASSERT_EQ(got.size(), n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t v = i * 1000 + 7;
    const bool is_tick = i % 3 != 0;
    ASSERT_EQ(got[i].topic, is_tick ? "md.tick" : "ops.note") << i;
    if (is_tick) {
      std::uint64_t x = 0;
      ASSERT_EQ(got[i].payload.size(), sizeof x);
      std::memcpy(&x, got[i].payload.data(), sizeof x);
      EXPECT_EQ(x, v) << i;
    } else {
      const std::string text = "note " + std::to_string(v);
      EXPECT_EQ(
          std::string(reinterpret_cast<const char*>(got[i].payload.data()), got[i].payload.size()),
          text);
    }
  }
}

}  // namespace

// Recorded with a 4 ms pace (80 events, ~316 ms); replayed at 1x each event's offset from the
// first stays within 25 ms of the original offset (a shared 2-core machine's scheduling jitter),
// and the whole span within 15%, in one of up to three replays. At max the same events arrive in the same order, in less than
// half the recorded span.
TEST(JournalCliTest, RecordThenReplayAt1xKeepsTimingAndAtMaxIsFasterInSameOrder) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  constexpr std::uint64_t kEvents = 80;
  constexpr auto kGap = 4000us;
  ASSERT_NO_FATAL_FAILURE(record_session(dir, kEvents, kGap, tmp.sub("")));
  // The original offsets, from the journal.
  std::vector<std::uint64_t> orig;
  {
    auto reader = journal::Reader::open(dir);
    ASSERT_TRUE(reader);
    journal::Record r;
    while (reader->next(r).value()) orig.push_back(r.meta.publish_ns);
  }
  ASSERT_EQ(orig.size(), kEvents);
  const std::uint64_t span = orig.back() - orig.front();

  // The replayer's pacing is judged by when it published each event (the timestamp the bus
  // stamps at publish), not when this test's subscriber got round to it. A replayer process
  // that the kernel deschedules for 40 ms on a loaded 2-core machine (seen under ASan with
  // other tests running) misses the tolerance through no fault of its pacing, so the 1x replay
  // gets up to three attempts, and one must hold every event within the tolerance. A replayer
  // that does not pace (or paces wrongly) fails all three.
  std::string attempts;
  bool paced = false;
  for (int attempt = 0; attempt < 3 && !paced; ++attempt) {
    std::uint64_t elapsed_1x = 0;
    const auto at1x = replay_onto_fresh_bus(dir, "1x", kEvents, tmp.sub(""), elapsed_1x);
    expect_same_events(at1x, kEvents);
    if (at1x.size() != kEvents) break;
    double worst = 0;
    std::uint64_t worst_at = 0;
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      const double want = static_cast<double>(orig[i] - orig[0]);
      const double have = static_cast<double>(at1x[i].published_ns - at1x[0].published_ns);
      if (std::abs(have - want) > worst) {
        worst = std::abs(have - want);
        worst_at = i;
      }
    }
    const double replay_span =
        static_cast<double>(at1x.back().published_ns - at1x.front().published_ns);
    const double span_error = std::abs(replay_span - static_cast<double>(span));
    paced = worst <= 25e6 && span_error <= 0.15 * static_cast<double>(span);
    attempts += " [attempt " + std::to_string(attempt + 1) + ": worst offset error " +
                std::to_string(worst / 1e6) + " ms at event " + std::to_string(worst_at) +
                ", span " + std::to_string(replay_span / 1e6) + " ms of " +
                std::to_string(static_cast<double>(span) / 1e6) + " ms]";
  }
  EXPECT_TRUE(paced) << "no 1x replay kept every event within 25 ms of its recorded offset and "
                        "the span within 15%:"
                     << attempts;

  std::uint64_t elapsed_max = 0;
  const auto atmax = replay_onto_fresh_bus(dir, "max", kEvents, tmp.sub(""), elapsed_max);
  expect_same_events(atmax, kEvents);
  if (atmax.size() == kEvents) {
    const double max_span =
        static_cast<double>(atmax.back().published_ns - atmax.front().published_ns);
    EXPECT_LT(max_span, static_cast<double>(span) / 2);
  }
}

TEST(JournalCliTest, ReplayOntoBusWithOtherPayloadSizeIsAClearError) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  ASSERT_NO_FATAL_FAILURE(record_session(dir, 6, 0us, tmp.sub("")));
  TestBus tb("jbad");
  ASSERT_TRUE(tb.bus);
  ASSERT_TRUE(tb.bus->register_topic("md.tick", 16));  // the journal's md.tick carries 8 bytes
  auto sub = tb.bus->on("md.*", [](const EventView&) {});
  ASSERT_TRUE(sub);
  Child rep =
      start_cli({"replay", dir, "--bus", tb.name(), "--speed", "max"}, tmp.sub("o"), tmp.sub("e"));
  EXPECT_EQ(rep.wait(20s), 3);
  const std::string err = slurp(tmp.sub("e"));
  EXPECT_NE(err.find("topic 'md.tick' carries 8-byte payloads"), std::string::npos) << err;
  EXPECT_NE(err.find("another payload size"), std::string::npos) << err;
  // Nothing of md.tick reached the bus.
  std::uint64_t ticks = 0;
  auto count = tb.bus->on("md.tick", [&](const EventView&) { ++ticks; });
  (void)tb.bus->poll();
  EXPECT_EQ(ticks, 0u);
}

TEST(JournalCliTest, RecordIntoMissingDirectoryIsAClearError) {
  TempDir tmp;
  TestBus tb("jmiss");
  ASSERT_TRUE(tb.bus);
  Child rec = start_cli({"record", "--bus", tb.name(), "--out", "/tmp/shmbus_none_x/y/z"},
                        tmp.sub("o"), tmp.sub("e"));
  EXPECT_EQ(rec.wait(20s), 5);
  EXPECT_NE(slurp(tmp.sub("e")).find("does not exist"), std::string::npos) << slurp(tmp.sub("e"));
}

TEST(JournalCliTest, ShowExportAndLsPrintEveryRecord) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  ASSERT_NO_FATAL_FAILURE(record_session(dir, 9, 0us, tmp.sub("")));
  Child show = start_cli({"journal", "show", dir}, tmp.sub("show"), tmp.sub("e1"));
  ASSERT_EQ(show.wait(20s), 0) << slurp(tmp.sub("e1"));
  std::istringstream lines(slurp(tmp.sub("show")));
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["event_id"].get<std::uint64_t>(), n + 1);
    EXPECT_EQ(j["topic"].get<std::string>(), n % 3 != 0 ? "md.tick" : "ops.note");
    ++n;
  }
  EXPECT_EQ(n, 9u);
  Child csv =
      start_cli({"journal", "export", dir, "--format", "csv"}, tmp.sub("csv"), tmp.sub("e2"));
  ASSERT_EQ(csv.wait(20s), 0) << slurp(tmp.sub("e2"));
  const std::string text = slurp(tmp.sub("csv"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
  EXPECT_EQ(text.rfind("event_id,journal_ns,topic,", 0), 0u);
  Child ls = start_cli({"journal", "ls", dir}, tmp.sub("ls"), tmp.sub("e3"));
  ASSERT_EQ(ls.wait(20s), 0) << slurp(tmp.sub("e3"));
  EXPECT_NE(slurp(tmp.sub("ls")).find("9 records"), std::string::npos) << slurp(tmp.sub("ls"));
  Child bad = start_cli({"journal", "show", tmp.sub("nope")}, tmp.sub("o4"), tmp.sub("e4"));
  EXPECT_EQ(bad.wait(20s), 2);
}

// The journal agent is SIGKILLed mid-stream and restarted (hold policy, resuming from the rings'
// history): every event acknowledged to the publisher is in the journal exactly once, in order.
// What a restarted agent can pick up is bounded by the history each ring keeps (512 here): the
// kill comes once the agent is at most 150 events behind, and 300 are published while it is
// down. A longer outage loses what fell out of the history (the dead agent's cursor is freed
// when the new one attaches; see the report of issue 14).
TEST(JournalAgentTest, KilledAndRestartedJournalMissesNothingAcknowledged) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  SegmentGuard guard(unique_bus_name("jkill"));
  BusConfig config;
  config.name = guard.name();
  config.ring_capacity = {1024, 1024, 4096, 1024};
  config.history_depth = 512;
  auto bus = Bus::create(config, {.name = "creator"});
  ASSERT_TRUE(bus) << bus.message();
  auto topic = bus->register_topic("order.filled", 8);
  ASSERT_TRUE(topic);
  const std::string agent = shmbus::testing::bin_dir() + "/agents/journal/shmbus-journal";
  const std::vector<std::string> args{"--bus", guard.name(), "--dir", dir, "--file-mb", "1"};
  auto start_agent = [&] {
    Child c = Child::exec(agent, args);
    // Subscribed, not only attached: the agent writes its pid into STATS after subscribing.
    EXPECT_TRUE(shmbus::testing::eventually(
        [&] {
          auto st = journal::read_recorder_stats(dir);
          return st && st->pid == static_cast<std::uint64_t>(c.pid());
        },
        10s));
    return c;
  };
  std::vector<std::uint64_t> acked;
  std::uint64_t next = 1;
  auto publish = [&](std::uint64_t count) {
    for (std::uint64_t k = 0; k < count; ++k, ++next) {
      if (bus->publish(*topic, &next, sizeof next) == PublishStatus::kOk) acked.push_back(next);
    }
  };
  Child journal = start_agent();
  publish(5000);
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        auto st = journal::read_recorder_stats(dir);
        return st && st->records >= 4850;
      },
      20s));
  journal.kill(SIGKILL);
  ASSERT_EQ(journal.wait(10s), 128 + SIGKILL);
  publish(300);  // while no journal runs
  journal = start_agent();
  publish(5000);
  journal.kill(SIGTERM);
  ASSERT_EQ(journal.wait(20s), 0);

  auto reader = journal::Reader::open(dir);
  ASSERT_TRUE(reader) << reader.message();
  std::vector<std::uint64_t> kept;
  journal::Record r;
  while (reader->next(r).value()) {
    std::uint64_t v = 0;
    ASSERT_EQ(r.payload.size(), sizeof v);
    std::memcpy(&v, r.payload.data(), sizeof v);
    kept.push_back(v);
  }
  EXPECT_EQ(acked.size(), 10300u);
  ASSERT_EQ(kept.size(), acked.size())
      << "journal holds " << kept.size() << " of " << acked.size() << " acknowledged events";
  EXPECT_EQ(kept, acked);
}

// The supervisor's config starts a journal agent once the bus exists, restarts it after a
// SIGKILL, and stops it with itself; what is published after the restart is journaled.
TEST(JournalSupervisorTest, ConfigStartsRestartsAndStopsTheJournalAgent) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  SegmentGuard guard(unique_bus_name("jsup"));
  const nlohmann::json config = {
      {"bus", {{"name", guard.name()}, {"ring_capacity", 1024}, {"history_depth", 256}}},
      {"metrics_address", ""},
      {"journals", {{{"dir", dir}, {"args", {"--file-mb", "1"}}}}}};
  {
    std::ofstream out(tmp.sub("sup.json"));
    out << config.dump(2);
  }
  Child sup = Child::exec(shmbus::testing::bin_dir() + "/agents/supervisor/shmbus-supervisor",
                          {"--config", tmp.sub("sup.json")});
  std::uint64_t first = 0;
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        auto st = journal::read_recorder_stats(dir);
        if (st) first = st->pid;
        return st && st->pid != 0;
      },
      20s));
  ASSERT_EQ(::kill(static_cast<pid_t>(first), SIGKILL), 0);
  std::uint64_t second = 0;
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        auto st = journal::read_recorder_stats(dir);
        if (st) second = st->pid;
        return st && st->pid != first;
      },
      20s))
      << "the supervisor did not restart its journal agent";
  auto bus = Bus::attach(guard.name(), {.name = "pub"});
  ASSERT_TRUE(bus) << bus.message();
  auto topic = bus->register_topic("order.filled", 8);
  ASSERT_TRUE(topic);
  for (std::uint64_t v = 1; v <= 100; ++v) {
    ASSERT_EQ(bus->publish(*topic, &v, sizeof v), PublishStatus::kOk);
  }
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        auto st = journal::read_recorder_stats(dir);
        return st && st->records >= 100;
      },
      20s));
  sup.kill(SIGTERM);
  EXPECT_EQ(sup.wait(20s), 0);
  EXPECT_NE(::kill(static_cast<pid_t>(second), 0), 0) << "journal agent left running";
  auto reader = journal::Reader::open(dir);
  ASSERT_TRUE(reader) << reader.message();
  std::vector<std::uint64_t> values;
  journal::Record r;
  while (reader->next(r).value()) {
    if (r.meta.topic != "order.filled") continue;
    std::uint64_t v = 0;
    std::memcpy(&v, r.payload.data(), sizeof v);
    values.push_back(v);
  }
  ASSERT_EQ(values.size(), 100u);
  for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(values[i], i + 1);
}

// --from/--to select by journal time (seek through the sparse index, then stop), --topics by
// pattern: exactly the md.tick events journaled between two records' times are replayed.
TEST(JournalCliTest, ReplayWindowAndTopicFilterSelectExactlyThoseEvents) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  ASSERT_NO_FATAL_FAILURE(record_session(dir, 60, 1000us, tmp.sub("")));
  std::vector<std::pair<std::uint64_t, std::string>> all;  // journal_ns, topic
  {
    auto reader = journal::Reader::open(dir);
    ASSERT_TRUE(reader);
    journal::Record r;
    while (reader->next(r).value()) {
      all.emplace_back(r.journal_ns, std::string(r.meta.topic));
    }
  }
  ASSERT_EQ(all.size(), 60u);
  const std::uint64_t from = all[15].first, to = all[44].first;
  std::vector<std::uint64_t> want;  // the i*1000+7 values of md.tick events in [from, to]
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].first >= from && all[i].first <= to && all[i].second == "md.tick") {
      want.push_back(i * 1000 + 7);
    }
  }
  ASSERT_GE(want.size(), 15u);
  std::uint64_t elapsed = 0;
  const auto got = replay_onto_fresh_bus(
      dir, "max", want.size(), tmp.sub(""), elapsed,
      {"--from", std::to_string(from), "--to", std::to_string(to), "--topics", "md.*"});
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].topic, "md.tick");
    std::uint64_t v = 0;
    std::memcpy(&v, got[i].payload.data(), sizeof v);
    EXPECT_EQ(v, want[i]) << i;
  }
}

TEST(JournalCliTest, ReplayBadArgumentsAreUsageErrors) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  ASSERT_NO_FATAL_FAILURE(record_session(dir, 3, 0us, tmp.sub("")));
  TestBus tb("jargs");
  ASSERT_TRUE(tb.bus);
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--speed", "fast"}, {"--speed", "0x"}, {"--from", "yesterday"}}) {
    std::vector<std::string> args{"replay", dir, "--bus", tb.name()};
    args.insert(args.end(), bad.begin(), bad.end());
    Child c = start_cli(args, tmp.sub("o"), tmp.sub("e"));
    EXPECT_EQ(c.wait(20s), 1) << bad[0] << " " << bad[1] << ": " << slurp(tmp.sub("e"));
  }
  Child nodir =
      start_cli({"replay", tmp.sub("none"), "--bus", tb.name()}, tmp.sub("o"), tmp.sub("e"));
  EXPECT_EQ(nodir.wait(20s), 5);
  EXPECT_NE(slurp(tmp.sub("e")).find("does not exist"), std::string::npos) << slurp(tmp.sub("e"));
}

// A running journal agent registers its journal with the bus: `shmbus status` lists it (text and
// --json) with its counters once events flow, without being told the directory; once the agent
// stops, the journal is no longer listed.
TEST(JournalCliTest, StatusShowsTheJournalAgentsCounters) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  TestBus tb("jstat");
  ASSERT_TRUE(tb.bus);
  auto topic = tb.bus->register_topic("order.filled", 8);
  ASSERT_TRUE(topic);
  const std::string agent = shmbus::testing::bin_dir() + "/agents/journal/shmbus-journal";
  Child journal = Child::exec(
      agent, {"--bus", tb.name(), "--dir", dir, "--name", "jr1", "--file-mb", "1", "--no-resume"});
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        auto st = journal::read_recorder_stats(dir);
        return st && st->pid == static_cast<std::uint64_t>(journal.pid());
      },
      10s));
  for (std::uint64_t v = 1; v <= 20; ++v) {
    ASSERT_EQ(tb.bus->publish(*topic, &v, sizeof v), PublishStatus::kOk);
  }
  // STATS is refreshed after each batch the agent journals.
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        auto st = journal::read_recorder_stats(dir);
        return st && st->records == 20;
      },
      10s));
  Child text = start_cli({"status", "--bus", tb.name()}, tmp.sub("st"), tmp.sub("e1"));
  ASSERT_EQ(text.wait(20s), 0) << slurp(tmp.sub("e1"));
  const std::string out = slurp(tmp.sub("st"));
  EXPECT_NE(out.find("journal jr1 running  records 20  bytes "), std::string::npos) << out;
  EXPECT_NE(out.find("dir " + fs::canonical(dir).string()), std::string::npos) << out;
  Child json = start_cli({"status", "--json", "--bus", tb.name()}, tmp.sub("js"), tmp.sub("e2"));
  ASSERT_EQ(json.wait(20s), 0) << slurp(tmp.sub("e2"));
  const auto j = nlohmann::json::parse(slurp(tmp.sub("js")));
  ASSERT_EQ(j["journals"].size(), 1u) << j.dump();
  const auto& jr = j["journals"][0];
  EXPECT_EQ(jr["agent"], "jr1");
  EXPECT_EQ(jr["running"], true);
  EXPECT_EQ(jr["records"].get<std::uint64_t>(), 20u);
  EXPECT_GT(jr["bytes"].get<std::uint64_t>(), 20u * 8u);
  EXPECT_LE(jr["ring_lag_events"].get<std::uint64_t>(), 20u);  // cursors stored after STATS
  EXPECT_EQ(jr["shed"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(jr["held_events"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(jr["dir"], fs::canonical(dir).string());

  journal.kill(SIGTERM);
  ASSERT_EQ(journal.wait(20s), 0);
  EXPECT_FALSE(
      fs::exists(fs::symlink_status(journal::journal_registration_path(tb.name(), "jr1"))));
  Child after = start_cli({"status", "--json", "--bus", tb.name()}, tmp.sub("js2"), tmp.sub("e3"));
  ASSERT_EQ(after.wait(20s), 0) << slurp(tmp.sub("e3"));
  EXPECT_TRUE(nlohmann::json::parse(slurp(tmp.sub("js2")))["journals"].empty());
}

// A journal agent killed with SIGKILL leaves its registration link behind; `shmbus status` still
// lists the journal but not as running (the kernel dropped the agent's lock on the directory),
// even while the dead agent is an unreaped zombie whose pid still answers kill(pid, 0). An agent
// restarted under the same name replaces the link and shows as running, listed once.
TEST(JournalCliTest, StatusShowsASigkilledJournalAgentStoppedUntilARestartReplacesIt) {
  TempDir tmp;
  const std::string dir = tmp.sub("journal");
  TestBus tb("jkill");
  ASSERT_TRUE(tb.bus);
  const std::string agent = shmbus::testing::bin_dir() + "/agents/journal/shmbus-journal";
  const std::vector<std::string> args{"--bus", tb.name(),   "--dir", dir,          "--name",
                                      "jr2",   "--file-mb", "1",     "--no-resume"};
  auto started = [&](const Child& c) {
    return shmbus::testing::eventually(
        [&] {
          auto st = journal::read_recorder_stats(dir);
          return st && st->pid == static_cast<std::uint64_t>(c.pid());
        },
        10s);
  };
  auto status = [&](const std::string& tag) {
    Child c = start_cli({"status", "--json", "--bus", tb.name()}, tmp.sub(tag), tmp.sub(tag + "e"));
    EXPECT_EQ(c.wait(20s), 0) << slurp(tmp.sub(tag + "e"));
    return nlohmann::json::parse(slurp(tmp.sub(tag)))["journals"];
  };
  Child first = Child::exec(agent, args);
  ASSERT_TRUE(started(first));
  ASSERT_EQ(status("s1").at(0)["running"], true);

  ::kill(first.pid(), SIGKILL);  // not reaped yet: a zombie, whose pid kill(pid, 0) still finds
  ASSERT_TRUE(shmbus::testing::eventually(
      [&] {
        const auto j = status("s2");
        return j.size() == 1 && j[0]["running"] == false;
      },
      10s))
      << status("s2").dump();
  EXPECT_TRUE(fs::exists(fs::symlink_status(journal::journal_registration_path(tb.name(), "jr2"))));

  Child second = Child::exec(agent, args);
  ASSERT_TRUE(started(second));
  const auto j = status("s3");
  ASSERT_EQ(j.size(), 1u) << j.dump();
  EXPECT_EQ(j[0]["agent"], "jr2");
  EXPECT_EQ(j[0]["running"], true);
  second.kill(SIGTERM);
  EXPECT_EQ(second.wait(20s), 0);
  EXPECT_TRUE(status("s4").empty());
  first.wait(20s);
}
