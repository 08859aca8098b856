// Bad input of every kind gets a clear error, never a crash, a hang or an out-of-bounds access:
// segments of another version, corrupt or hostile segment bytes (header, agent table, topic
// table, ring slots), files that are not segments, and bad calls (sizes, names, ids, limits,
// full rings, dead peers). These also run under ASan/UBSan. Cases that could hang or abort the
// process on a bug run in a forked child with a deadline, so a bug fails the test instead.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shm/agent_table.hpp"
#include "shm/bus_access.hpp"
#include "shm/layout.hpp"
#include "shm/segment.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/config.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using detail::AgentRecord;
using detail::Segment;
using detail::SegmentHeader;
using detail::SlotHeader;
using detail::TopicEntry;
using testing::Child;
using testing::ReadyPipe;
using testing::SegmentGuard;
using testing::unique_bus_name;
using namespace std::chrono_literals;

constexpr std::uint32_t kNormalRing = index_of(Priority::kNormal);

// "1.1": this build's layout version as error messages print it.
std::string build_version() {
  return std::to_string(detail::kLayoutMajor) + "." + std::to_string(detail::kLayoutMinor);
}

// In a forked child, gtest assertions do not reach the parent: report and exit non-zero instead.
#define SHMBUS_CHILD_CHECK(cond)                                                             \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: check failed in child: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                                              \
    }                                                                                        \
  } while (0)

BusConfig small_config(const std::string& name, std::uint32_t capacity = 64) {
  BusConfig c;
  c.name = name;
  c.ring_capacity = {capacity, capacity, capacity, capacity};
  c.max_payload_bytes = 64;
  c.max_agents = 4;
  c.max_topics = 16;
  c.history_depth = 0;
  c.max_barriers = 2;
  c.max_barrier_participants = 4;
  c.dead_letter_capacity = 4;
  c.error_log_capacity = 8;
  return c;
}

AgentOptions agent(const std::string& name, FullPolicy policy = FullPolicy::kReturn,
                   std::chrono::nanoseconds timeout = 1s) {
  AgentOptions o;
  o.name = name;
  o.full_policy = policy;
  o.publish_timeout = timeout;
  // Every segment here is broken on purpose, and no creator is still at work on one: waiting
  // the default second for it to become ready would only slow the suite.
  o.attach_wait = 20ms;
  return o;
}

void fill_random(void* p, std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(rng() & 0xFFu);
}

void sleep_forever() {
  for (;;) std::this_thread::sleep_for(1s);
}

// Runs `body` in a forked child; returns its exit code, 128+signal if it crashed, -1 if it did
// not finish within `timeout` (the child is then killed).
int run_isolated(const std::function<int()>& body, std::chrono::milliseconds timeout) {
  Child child = Child::fork(body);
  return child.wait(timeout);
}

std::string describe_exit(int rc) {
  if (rc == -1) return "child did not finish in time (hang)";
  if (rc > 128) return "child killed by signal " + std::to_string(rc - 128) + " (crash)";
  return "child exit code " + std::to_string(rc);
}

bool is_error_code(Errc code) {
  return code == Errc::kCorrupt || code == Errc::kVersionMismatch || code == Errc::kNotReady;
}

// Every case gets a fresh segment of its own; the bad-call cases share this setup: one embedded
// bus whose owner subscribes to everything and counts what it is handed.
class BadInputTest : public ::testing::Test {
 protected:
  void open_bus() {
    name_ = unique_bus_name("calls");
    guard_ = std::make_unique<SegmentGuard>(name_);
    auto bus = Bus::create(small_config(name_), agent("owner"));
    ASSERT_TRUE(bus) << bus.message();
    bus_ = std::make_unique<Bus>(std::move(bus.value()));
    ASSERT_TRUE(bus_->on_any([this](const EventView&) { ++delivered_; }));
  }
  void TearDown() override {
    bus_.reset();
    guard_.reset();
  }
  std::uint64_t tail(Priority p) {
    return detail::BusAccess::impl(*bus_).segment().ring(index_of(p)).tail.load();
  }

  std::string name_;
  std::unique_ptr<SegmentGuard> guard_;
  std::unique_ptr<Bus> bus_;
  std::uint64_t delivered_ = 0;
};

// ---- segments that are not ours ---------------------------------------------------------------

TEST_F(BadInputTest, AttachToMissingBusIsNotFound) {
  const std::string name = unique_bus_name("nobus");
  auto bus = Bus::attach(name, agent("a"));
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.code(), Errc::kNotFound);
  EXPECT_NE(bus.message().find(name), std::string::npos) << bus.message();
}

TEST_F(BadInputTest, RejectsOtherMajorVersionNamingBoth) {
  const std::string name = unique_bus_name("major");
  SegmentGuard guard(name);
  auto owner = Bus::create(small_config(name), agent("owner"));
  ASSERT_TRUE(owner) << owner.message();
  SegmentHeader& h = detail::BusAccess::impl(*owner).segment().header();
  h.layout_version = (2u << 16) | 0u;
  h.ready.store((2u << 16) | 0u, std::memory_order_release);

  auto bus = Bus::attach(name, agent("newcomer"));
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.code(), Errc::kVersionMismatch);
  EXPECT_NE(bus.message().find("layout 2.0"), std::string::npos) << bus.message();
  EXPECT_NE(bus.message().find("build " + build_version()), std::string::npos) << bus.message();
  EXPECT_NE(bus.message().find("shmbus." + name), std::string::npos) << bus.message();
}

TEST_F(BadInputTest, RejectsOlderMajorVersion) {
  const std::string name = unique_bus_name("old");
  SegmentGuard guard(name);
  auto seg = Segment::create(small_config(name));
  ASSERT_TRUE(seg) << seg.message();
  SegmentHeader& h = (*seg)->header();
  h.layout_version = 9;  // 0.9
  h.ready.store(9, std::memory_order_release);
  auto bus = Bus::attach(name, agent("a"));
  EXPECT_EQ(bus.code(), Errc::kVersionMismatch);
  EXPECT_NE(bus.message().find("layout 0.9, build " + build_version()), std::string::npos)
      << bus.message();
}

// A build of another minor of the same major writes the same struct layout (minor bumps only
// add fields in reserved space) and must be accepted, whichever of the two is newer.
TEST_F(BadInputTest, AcceptsOtherMinorVersionWithSameLayout) {
  std::vector<std::uint32_t> minors = {detail::kLayoutMinor + 1u, detail::kLayoutMinor + 7u};
  if (detail::kLayoutMinor > 0) minors.push_back(detail::kLayoutMinor - 1u);
  for (std::uint32_t minor : minors) {
    SCOPED_TRACE("minor " + std::to_string(minor));
    const std::string name = unique_bus_name("minor");
    SegmentGuard guard(name);
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    SegmentHeader& h = (*seg)->header();
    const std::uint32_t version = (std::uint32_t{detail::kLayoutMajor} << 16) | minor;
    h.layout_version = version;
    h.ready.store(version, std::memory_order_release);
    auto bus = Bus::attach(name, agent("a"));
    EXPECT_TRUE(bus) << bus.message();
  }
}

TEST_F(BadInputTest, RejectsDifferentLayoutHash) {
  const std::string name = unique_bus_name("hash");
  SegmentGuard guard(name);
  auto seg = Segment::create(small_config(name));
  ASSERT_TRUE(seg) << seg.message();
  (*seg)->header().layout_hash ^= 0x10;
  auto bus = Bus::attach(name, agent("a"));
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.code(), Errc::kVersionMismatch);
  EXPECT_NE(bus.message().find("hash"), std::string::npos) << bus.message();
}

TEST_F(BadInputTest, SegmentNeverMadeReadyIsNotReady) {
  const std::string name = unique_bus_name("unready");
  SegmentGuard guard(name);
  auto seg = Segment::create(small_config(name));
  ASSERT_TRUE(seg) << seg.message();
  (*seg)->header().ready.store(detail::kNotReady);  // creator still working (it is alive)
  auto bus = Bus::attach(name, agent("a"));
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.code(), Errc::kNotReady) << bus.message();
}

TEST_F(BadInputTest, RandomHeaderIsAnError) {
  for (std::uint32_t seed : {1u, 2u, 3u, 42u, 1234u, 99991u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string name = unique_bus_name("randhdr");
    SegmentGuard guard(name);
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    fill_random(&(*seg)->header(), sizeof(SegmentHeader), seed);
    auto bus = Bus::attach(name, agent("a"));
    ASSERT_FALSE(bus);
    EXPECT_TRUE(is_error_code(bus.code())) << errc_name(bus.code()) << ": " << bus.message();
    EXPECT_FALSE(bus.message().empty());
  }
}

// The identity line is intact (magic, version, hash): everything after it must still be checked.
TEST_F(BadInputTest, RandomHeaderBehindValidIdentityIsCorrupt) {
  for (std::uint32_t seed : {5u, 6u, 7u, 8u, 77u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string name = unique_bus_name("randcfg");
    SegmentGuard guard(name);
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    auto* bytes = reinterpret_cast<unsigned char*>(&(*seg)->header());
    constexpr std::size_t kKeep = offsetof(SegmentHeader, total_size);
    fill_random(bytes + kKeep, sizeof(SegmentHeader) - kKeep, seed);
    auto bus = Bus::attach(name, agent("a"));
    ASSERT_FALSE(bus);
    EXPECT_EQ(bus.code(), Errc::kCorrupt) << bus.message();
  }
}

struct HeaderDamage {
  const char* what;
  std::function<void(Segment&)> apply;
};

TEST_F(BadInputTest, DamagedHeaderFieldsAreCorrupt) {
  const std::vector<HeaderDamage> cases = {
      {"bad magic", [](Segment& s) { s.header().magic ^= 1; }},
      {"total_size", [](Segment& s) { s.header().total_size += 4096; }},
      {"topics_offset", [](Segment& s) { s.header().regions.topics_offset += 64; }},
      {"rings_offset[2]", [](Segment& s) { s.header().regions.rings_offset[2] += 4096; }},
      {"barriers_offset", [](Segment& s) { s.header().regions.barriers_offset = 0; }},
      {"error_log_offset", [](Segment& s) { s.header().error_log_offset = ~0ull; }},
      {"slot_stride", [](Segment& s) { s.header().config.slot_stride += 64; }},
      {"slot_stride zero", [](Segment& s) { s.header().config.slot_stride = 0; }},
      {"ring_capacity not pow2", [](Segment& s) { s.header().config.ring_capacity[1] = 100; }},
      {"ring_capacity larger", [](Segment& s) { s.header().config.ring_capacity[3] = 1u << 20; }},
      {"max_agents beyond file", [](Segment& s) { s.header().config.max_agents = 1024; }},
      {"max_topics zero", [](Segment& s) { s.header().config.max_topics = 0; }},
      {"max_payload huge", [](Segment& s) { s.header().config.max_payload_bytes = ~0u; }},
      {"reserved config", [](Segment& s) { s.header().config.reserved = 1; }},
      {"topic_count", [](Segment& s) { s.header().topic_count.store(17); }},
      {"topic_count huge", [](Segment& s) { s.header().topic_count.store(~0u); }},
      {"ring header capacity", [](Segment& s) { s.ring(1).capacity = 128; }},
      {"ring header stride", [](Segment& s) { s.ring(0).slot_stride = 64; }},
      {"ring header slots_offset", [](Segment& s) { s.ring(3).slots_offset += 64; }},
  };
  for (const HeaderDamage& d : cases) {
    SCOPED_TRACE(d.what);
    const std::string name = unique_bus_name("dmg");
    SegmentGuard guard(name);
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    d.apply(**seg);
    auto bus = Bus::attach(name, agent("a"));
    ASSERT_FALSE(bus);
    EXPECT_EQ(bus.code(), Errc::kCorrupt) << bus.message();
    EXPECT_NE(bus.message().find("shmbus." + name), std::string::npos) << bus.message();
  }
}

// A garbage control mutex must not hang attach forever or abort the process (glibc asserts on
// some inconsistent mutex states), so this runs in a child with a deadline.
TEST_F(BadInputTest, RandomControlMutexNeitherCrashesNorHangs) {
  for (std::uint32_t seed : {11u, 12u, 13u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string name = unique_bus_name("mutex");
    SegmentGuard guard(name);
    int rc = run_isolated(
        [&] {
          auto seg = Segment::create(small_config(name));
          SHMBUS_CHILD_CHECK(seg);
          fill_random(&(*seg)->header().control_mutex, sizeof(pthread_mutex_t), seed);
          auto bus = Bus::attach(name, agent("a"));
          // Success (the garbage happened to be a usable mutex) or kCorrupt, at once: a
          // damaged lock is not a busy one.
          if (bus) return 0;
          std::fprintf(stderr, "attach: %s\n", bus.message().c_str());
          return bus.code() == Errc::kCorrupt ? 0 : 9;
        },
        30s);
    EXPECT_EQ(rc, 0) << describe_exit(rc);
  }
}

// ---- files that are not segments --------------------------------------------------------------

void write_file(const std::string& path, std::size_t bytes, unsigned char fill) {
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0) << path;
  std::vector<unsigned char> data(bytes, fill);
  if (bytes != 0) {
    ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(bytes));
  }
  ::close(fd);
}

TEST_F(BadInputTest, TooSmallFileIsCorrupt) {
  for (std::size_t size : {std::size_t{0}, std::size_t{100}, std::size_t{4095}}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string name = unique_bus_name("small");
    SegmentGuard guard(name);
    write_file(detail::shm_file_path(name), size, 0x5A);
    auto bus = Bus::attach(name, agent("a"));
    ASSERT_FALSE(bus);
    EXPECT_EQ(bus.code(), Errc::kCorrupt) << bus.message();
    EXPECT_NE(bus.message().find(std::to_string(size) + " bytes"), std::string::npos)
        << bus.message();
  }
}

TEST_F(BadInputTest, HeaderSizedFileOfZerosIsAnError) {
  const std::string name = unique_bus_name("zeros");
  SegmentGuard guard(name);
  write_file(detail::shm_file_path(name), 8192, 0);
  auto bus = Bus::attach(name, agent("a"));
  ASSERT_FALSE(bus);
  EXPECT_TRUE(is_error_code(bus.code())) << bus.message();
}

TEST_F(BadInputTest, TextFileIsCorrupt) {
  const std::string name = unique_bus_name("text");
  SegmentGuard guard(name);
  write_file(detail::shm_file_path(name), 5000, 'x');
  auto bus = Bus::attach(name, agent("a"));
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.code(), Errc::kCorrupt) << bus.message();
}

TEST_F(BadInputTest, TruncatedSegmentIsCorrupt) {
  for (off_t size : {off_t{4096}, off_t{8192}, off_t{20000}}) {
    SCOPED_TRACE("truncated to " + std::to_string(size));
    const std::string name = unique_bus_name("trunc");
    SegmentGuard guard(name);
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    // Only the header is valid now; nothing past `size` may be read.
    int fd = ::open(detail::shm_file_path(name).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, size), 0);
    ::close(fd);
    auto bus = Bus::attach(name, agent("a"));
    ASSERT_FALSE(bus);
    EXPECT_EQ(bus.code(), Errc::kCorrupt) << bus.message();
  }
}

// ---- corrupt agent table ----------------------------------------------------------------------

TEST_F(BadInputTest, RandomAgentTableFailsAttachNamingRecord) {
  int corrupt = 0;
  for (std::uint32_t seed : {21u, 22u, 23u, 24u, 25u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string name = unique_bus_name("agents");
    SegmentGuard guard(name);
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    Segment& s = **seg;
    fill_random(&s.agent(0), sizeof(AgentRecord) * s.config().max_agents, seed);
    auto bus = Bus::attach(name, agent("a"));
    if (bus) continue;  // the garbage happened to be valid: fine as long as nothing crashed
    ++corrupt;
    EXPECT_EQ(bus.code(), Errc::kCorrupt) << bus.message();
    EXPECT_NE(bus.message().find("agent record"), std::string::npos) << bus.message();
  }
  EXPECT_GT(corrupt, 0);  // random state words are almost never valid
}

TEST_F(BadInputTest, RandomAgentRecordsBesideLiveAgentDoNotCrashIt) {
  const std::string name = unique_bus_name("agents2");
  SegmentGuard guard(name);
  auto owner = Bus::create(small_config(name), agent("owner"));
  ASSERT_TRUE(owner) << owner.message();
  auto topic = owner->register_topic("t.agents", 8);
  ASSERT_TRUE(topic) << topic.message();
  std::uint64_t got = 0;
  ASSERT_TRUE(owner->on_any([&](const EventView&) { ++got; }));
  Segment& s = detail::BusAccess::impl(*owner).segment();
  ASSERT_EQ(owner->agent_index(), 0u);
  fill_random(&s.agent(1), sizeof(AgentRecord) * (s.config().max_agents - 1), 31);

  // Producers scan the garbage cursors: the ring may look full, but nothing crashes.
  std::uint64_t ok = 0;
  for (std::uint64_t i = 0; i < 100; ++i) {
    PublishStatus st = owner->publish(*topic, &i, sizeof(i));
    EXPECT_TRUE(st == PublishStatus::kOk || st == PublishStatus::kFull) << publish_status_name(st);
    if (st == PublishStatus::kOk) ++ok;
  }
  (void)owner->poll();
  EXPECT_EQ(got, ok);
  // A sweep meets records of invalid state and leaves them alone.
  (void)detail::sweep_dead_agents(s, owner->agent_index());
  auto bus = Bus::attach(name, agent("late"));
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.code(), Errc::kCorrupt);
  EXPECT_NE(bus.message().find("agent record 1"), std::string::npos) << bus.message();
}

// Records that claim to be ACTIVE (or half-registered) but whose liveness lock nobody holds are
// recovered on attach, whatever garbage they carry (unterminated names, wild claim words).
TEST_F(BadInputTest, GarbageRecordsMarkedActiveAreRecovered) {
  const std::string name = unique_bus_name("zombies");
  SegmentGuard guard(name);
  auto seg = Segment::create(small_config(name));
  ASSERT_TRUE(seg) << seg.message();
  Segment& s = **seg;
  {
    // Publish a few events first so the tail is past some positions claim words may name.
    auto pub = Bus::attach(name, agent("pub"));
    ASSERT_TRUE(pub) << pub.message();
    auto topic = pub->register_topic("t.z", 8);
    ASSERT_TRUE(topic) << topic.message();
    for (std::uint64_t i = 0; i < 10; ++i)
      ASSERT_EQ(pub->publish(*topic, &i, 8), PublishStatus::kOk);
  }
  const std::uint32_t n = s.config().max_agents;
  for (std::uint32_t i = 0; i < n; ++i) {
    AgentRecord& rec = s.agent(i);
    fill_random(&rec, sizeof(rec), 40 + i);
    rec.state.store(static_cast<std::uint32_t>(i % 2 == 0 ? detail::AgentState::kActive
                                                          : detail::AgentState::kClaiming));
    rec.claiming[kNormalRing].store(detail::kClaimConfirmed | (3 + 1));  // an old, committed claim
  }
  auto bus = Bus::attach(name, agent("fresh"));
  ASSERT_TRUE(bus) << bus.message();
  for (std::uint32_t i = 0; i < n; ++i) {
    if (i == bus->agent_index()) continue;
    EXPECT_EQ(s.agent(i).state.load(), static_cast<std::uint32_t>(detail::AgentState::kFree))
        << "record " << i;
  }
  EXPECT_EQ(s.header().agents_recovered.load(), n);
  // The committed event at position 3 was not padded by the recovery.
  EXPECT_EQ(s.slot(kNormalRing, 3).seq.load(), 4u);
}

// ---- corrupt topic table ----------------------------------------------------------------------

TEST_F(BadInputTest, RandomTopicTableGivesErrorsNotCrashes) {
  for (std::uint32_t seed : {51u, 52u, 53u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string name = unique_bus_name("topics");
    SegmentGuard guard(name);
    auto owner = Bus::create(small_config(name), agent("owner"));
    ASSERT_TRUE(owner) << owner.message();
    auto a = owner->register_topic("t.a", 8);
    auto b = owner->register_topic("t.b", 0);
    auto c = owner->register_topic("t.c", 16);
    ASSERT_TRUE(a && b && c);
    Segment& s = detail::BusAccess::impl(*owner).segment();
    fill_random(&s.topic(0), sizeof(TopicEntry) * s.config().max_topics, seed);

    auto late = Bus::attach(name, agent("late"));
    ASSERT_TRUE(late) << late.message();  // topic_count is intact; entries are read lazily
    std::uint64_t delivered = 0;
    ASSERT_TRUE(late->on_any([&](const EventView&) { ++delivered; }));

    auto found = late->find_topic("t.a");
    ASSERT_FALSE(found);
    EXPECT_EQ(found.code(), Errc::kCorrupt) << found.message();
    EXPECT_NE(found.message().find("topic entry 0"), std::string::npos) << found.message();
    auto reg = late->register_topic("t.d", 0);
    ASSERT_FALSE(reg);
    EXPECT_EQ(reg.code(), Errc::kCorrupt) << reg.message();

    const std::uint64_t v = 7;
    EXPECT_EQ(late->publish(*a, &v, 8), PublishStatus::kUnknownTopic);
    EXPECT_EQ(late->publish(*b, &v, 8), PublishStatus::kUnknownTopic);
    Claim claim = late->claim(*a, 8);
    EXPECT_EQ(claim.status(), PublishStatus::kUnknownTopic);
    EXPECT_FALSE(claim.ok());
    EXPECT_TRUE(late->topic_name(*a).empty());

    // The owner cached its topics before the damage and still publishes; the late agent
    // cannot name those topics, so it must not deliver them.
    EXPECT_EQ(owner->publish(*a, &v, 8), PublishStatus::kOk);
    EXPECT_EQ(owner->publish(*b, &v, 3), PublishStatus::kOk);
    EXPECT_EQ(late->poll(), 2u);
    EXPECT_EQ(delivered, 0u);
  }
}

TEST_F(BadInputTest, TopicEntryWithUnterminatedNameIsCorrupt) {
  const std::string name = unique_bus_name("unterm");
  SegmentGuard guard(name);
  auto owner = Bus::create(small_config(name), agent("owner"));
  ASSERT_TRUE(owner) << owner.message();
  ASSERT_TRUE(owner->register_topic("t.a", 8));
  TopicEntry& e = detail::BusAccess::impl(*owner).segment().topic(0);
  std::memset(e.name, 'a', sizeof(e.name));  // 96 valid characters, no NUL
  auto late = Bus::attach(name, agent("late"));
  ASSERT_TRUE(late) << late.message();
  auto found = late->find_topic(std::string(96, 'a'));
  EXPECT_EQ(found.code(), Errc::kCorrupt) << found.message();
}

TEST_F(BadInputTest, TopicEntryWithOversizePayloadIsCorrupt) {
  const std::string name = unique_bus_name("bigtopic");
  SegmentGuard guard(name);
  auto owner = Bus::create(small_config(name), agent("owner"));
  ASSERT_TRUE(owner) << owner.message();
  ASSERT_TRUE(owner->register_topic("t.a", 8));
  detail::BusAccess::impl(*owner).segment().topic(0).payload_size = 1u << 30;
  auto late = Bus::attach(name, agent("late"));
  ASSERT_TRUE(late) << late.message();
  EXPECT_EQ(late->find_topic("t.a").code(), Errc::kCorrupt);
  const std::uint64_t v = 1;
  EXPECT_EQ(late->publish(0, &v, 8), PublishStatus::kUnknownTopic);
}

// Topics are never removed, so a topic count that goes down is damage. Registering must not
// hand out an id that this process already knows under another name.
TEST_F(BadInputTest, TopicCountGoingDownIsCorrupt) {
  const std::string name = unique_bus_name("count");
  SegmentGuard guard(name);
  auto owner = Bus::create(small_config(name), agent("owner"));
  ASSERT_TRUE(owner) << owner.message();
  ASSERT_TRUE(owner->register_topic("t.a", 8));
  ASSERT_TRUE(owner->register_topic("t.b", 8));
  ASSERT_TRUE(owner->register_topic("t.c", 8));
  detail::BusAccess::impl(*owner).segment().header().topic_count.store(1);
  auto reg = owner->register_topic("t.new", 4);
  if (reg) {
    EXPECT_EQ(owner->topic_name(*reg), "t.new") << "id " << *reg << " names another topic here";
  }
  EXPECT_EQ(reg.code(), Errc::kCorrupt) << reg.message();
  // Known topics still resolve from the cache.
  auto b = owner->find_topic("t.b");
  EXPECT_TRUE(b) << b.message();
}

// ---- corrupt ring slots -----------------------------------------------------------------------

// Every slot of the NORMAL ring looks committed (seq = position + 1) but carries garbage: lengths
// beyond max_payload_bytes on a registered topic, and unregistered topic ids. None of it may be
// delivered or read out of bounds; real events published afterwards arrive intact.
void committed_garbage_then_real_events(std::uint32_t seed, bool tethered) {
  const std::string name = unique_bus_name("slots");
  SegmentGuard guard(name);
  auto sub = Bus::create(small_config(name), agent("sub"));
  ASSERT_TRUE(sub) << sub.message();
  auto pub = Bus::attach(name, agent("pub"));
  ASSERT_TRUE(pub) << pub.message();
  auto topic = pub->register_topic("g.var", 0);  // variable size: any length <= max is valid
  ASSERT_TRUE(topic) << topic.message();
  ASSERT_EQ(*topic, 0u);
  std::vector<std::uint64_t> got;
  std::size_t bytes_seen = 0;
  ASSERT_TRUE(sub->on_any([&](const EventView& v) {
    EXPECT_LE(v.payload.size(), 64u);
    for (std::byte b : v.payload) bytes_seen += static_cast<std::size_t>(b);  // touch every byte
    std::uint64_t x = 0;
    if (v.payload.size() == 8) std::memcpy(&x, v.payload.data(), 8);
    got.push_back(x);
  }));

  Segment& s = detail::BusAccess::impl(*sub).segment();
  const std::uint32_t cap = s.config().ring_capacity[kNormalRing];
  const std::uint32_t max = s.config().max_payload_bytes;
  std::mt19937 rng(seed);
  for (std::uint32_t pos = 0; pos < cap; ++pos) {
    SlotHeader& slot = s.slot(kNormalRing, pos);
    fill_random(&slot, s.config().slot_stride, seed * 1000 + pos);
    slot.quarantine.store(0);
    if (pos % 2 == 0) {
      // oversize, on a known topic
      slot.length = static_cast<std::uint32_t>(max + 1 + rng() % (0xFFFFFFFFu - max - 1));
      slot.topic_id = 0;
    } else {
      slot.length = static_cast<std::uint32_t>(rng() % (max + 1));
      slot.topic_id = static_cast<std::uint32_t>(1 + rng() % 0xFFFFFFFEu);  // never registered
    }
    slot.seq.store(pos + 1, std::memory_order_release);
  }
  if (!tethered) {
    s.agent(sub->agent_index())
        .cursors[kNormalRing]
        .flags.fetch_and(~static_cast<std::uint32_t>(detail::kReaderTethered));
  }
  (void)sub->poll();
  EXPECT_TRUE(got.empty()) << got.size() << " garbage events delivered";

  // Real events: a publish meeting a slot whose seq is ahead of its position reports kAborted
  // (it cannot tell garbage from a supervisor's padding); every kOk must be delivered.
  std::vector<std::uint64_t> accepted;
  for (std::uint64_t i = 0; i < 4 * cap && accepted.size() < 10; ++i) {
    PublishStatus st = pub->publish(*topic, &i, 8);
    ASSERT_TRUE(st == PublishStatus::kOk || st == PublishStatus::kAborted)
        << publish_status_name(st);
    if (st == PublishStatus::kOk) accepted.push_back(i);
  }
  ASSERT_EQ(accepted.size(), 10u);
  for (int i = 0; i < 10 && got.size() < accepted.size(); ++i) (void)sub->poll();
  EXPECT_EQ(got, accepted);
}

TEST_F(BadInputTest, CommittedGarbageSlotsAreNotDeliveredTethered) {
  for (std::uint32_t seed : {61u, 62u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    committed_garbage_then_real_events(seed, /*tethered=*/true);
  }
}

TEST_F(BadInputTest, CommittedGarbageSlotsAreNotDeliveredUntethered) {
  for (std::uint32_t seed : {63u, 64u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    committed_garbage_then_real_events(seed, /*tethered=*/false);
  }
}

// A committed slot whose length differs from its topic's registered (fixed) payload size is
// damage: typed handlers must never see a payload of the wrong size.
TEST_F(BadInputTest, WrongSizeEventOnTypedTopicIsNotDelivered) {
  const std::string name = unique_bus_name("wrongsz");
  SegmentGuard guard(name);
  auto sub = Bus::create(small_config(name), agent("sub"));
  ASSERT_TRUE(sub) << sub.message();
  auto topic = sub->register_topic("t.typed", 8);
  ASSERT_TRUE(topic) << topic.message();
  std::vector<std::size_t> sizes;
  ASSERT_TRUE(sub->on("t.typed", [&](const EventView& v) { sizes.push_back(v.payload.size()); }));
  Segment& s = detail::BusAccess::impl(*sub).segment();
  SlotHeader& slot = s.slot(kNormalRing, 0);
  slot.length = 40;
  slot.topic_id = *topic;
  slot.seq.store(1, std::memory_order_release);
  (void)sub->poll();
  EXPECT_TRUE(sizes.empty()) << "delivered a " << (sizes.empty() ? 0 : sizes[0])
                             << "-byte payload on an 8-byte topic";
}

// Every byte of every slot random (seq words far ahead of any position): poll must return, and
// nothing is delivered. Runs in a child: a reader that loops over such slots would hang.
TEST_F(BadInputTest, RandomSlotsDoNotHangOrFeedSubscriber) {
  for (std::uint32_t seed : {71u, 72u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string name = unique_bus_name("randslots");
    SegmentGuard guard(name);
    int rc = run_isolated(
        [&] {
          auto sub = Bus::create(small_config(name), agent("sub"));
          SHMBUS_CHILD_CHECK(sub);
          auto pub = Bus::attach(name, agent("pub"));
          SHMBUS_CHILD_CHECK(pub);
          auto topic = pub->register_topic("g.any", 0);
          SHMBUS_CHILD_CHECK(topic);
          std::uint64_t delivered = 0;
          SHMBUS_CHILD_CHECK(sub->on_any([&](const EventView&) { ++delivered; }));
          Segment& s = detail::BusAccess::impl(*sub).segment();
          for (std::uint32_t pos = 0; pos < s.config().ring_capacity[kNormalRing]; ++pos) {
            SlotHeader& slot = s.slot(kNormalRing, pos);
            fill_random(&slot, s.config().slot_stride, seed * 1000 + pos);
            slot.quarantine.store(0);  // quarantine words have their own test
          }
          for (int i = 0; i < 10; ++i) (void)sub->poll();
          SHMBUS_CHILD_CHECK(delivered == 0);
          // Publishing into the damaged ring returns (whatever it reports) and stays in bounds.
          for (std::uint64_t i = 0; i < 3 * 64; ++i) (void)pub->publish(*topic, &i, 8);
          for (int i = 0; i < 10; ++i) (void)sub->poll();
          return 0;
        },
        10s);
    EXPECT_EQ(rc, 0) << describe_exit(rc);
  }
}

// Random quarantine words in every slot: a publisher must still return (kOk or an error status)
// rather than pad slot after slot forever. Runs in a child with a deadline.
TEST_F(BadInputTest, RandomQuarantineWordsDoNotHangPublisher) {
  for (bool with_subscriber : {true, false}) {
    SCOPED_TRACE(with_subscriber ? "tethered subscriber" : "no subscriber");
    const std::string name = unique_bus_name("quar");
    SegmentGuard guard(name);
    int rc = run_isolated(
        [&] {
          auto owner = Bus::create(small_config(name), agent("owner"));
          SHMBUS_CHILD_CHECK(owner);
          auto topic = owner->register_topic("g.q", 8);
          SHMBUS_CHILD_CHECK(topic);
          std::uint64_t delivered = 0;
          if (with_subscriber) {
            SHMBUS_CHILD_CHECK(owner->on_any([&](const EventView&) { ++delivered; }));
          }
          Segment& s = detail::BusAccess::impl(*owner).segment();
          std::mt19937_64 rng(81);
          for (std::uint32_t pos = 0; pos < s.config().ring_capacity[kNormalRing]; ++pos) {
            s.slot(kNormalRing, pos).quarantine.store(rng() | 1);
          }
          std::uint64_t ok = 0;
          for (std::uint64_t i = 0; i < 10; ++i) {
            if (owner->publish(*topic, &i, 8) == PublishStatus::kOk) ++ok;
          }
          (void)owner->poll();
          SHMBUS_CHILD_CHECK(!with_subscriber || delivered == ok);
          return 0;
        },
        10s);
    EXPECT_EQ(rc, 0) << describe_exit(rc);
  }
}

// ---- bad calls: sizes, ids, names -------------------------------------------------------------

TEST_F(BadInputTest, EventLargerThanSlotIsTooLarge) {
  ASSERT_NO_FATAL_FAILURE(open_bus());
  auto topic = bus_->register_topic("t.var", 0);
  ASSERT_TRUE(topic) << topic.message();
  const std::uint32_t max = bus_->config().max_payload_bytes;
  std::vector<std::byte> big(70000, std::byte{0x7F});
  for (std::size_t size : {std::size_t{max} + 1, std::size_t{max} * 2, big.size()}) {
    for (Priority p : {Priority::kCritical, Priority::kNormal, Priority::kLow}) {
      EXPECT_EQ(bus_->publish(*topic, big.data(), size, p), PublishStatus::kTooLarge) << size;
    }
  }
  for (std::uint32_t size : {max + 1, 0xFFFFFFFFu}) {
    Claim claim = bus_->claim(*topic, size);
    EXPECT_EQ(claim.status(), PublishStatus::kTooLarge);
    EXPECT_FALSE(claim.ok());
    EXPECT_TRUE(claim.data().empty());
    EXPECT_EQ(bus_->commit(claim), PublishStatus::kClosed);
  }
  for (Priority p : {Priority::kCritical, Priority::kHigh, Priority::kNormal, Priority::kLow}) {
    EXPECT_EQ(tail(p), 0u) << "something was published on " << priority_name(p);
  }
  EXPECT_EQ(bus_->poll(), 0u);
  EXPECT_EQ(delivered_, 0u);
  // The largest allowed payload goes through.
  EXPECT_EQ(bus_->publish(*topic, big.data(), max), PublishStatus::kOk);
  EXPECT_EQ(bus_->poll(), 1u);
}

TEST_F(BadInputTest, TopicWithPayloadLargerThanSlotIsTooLarge) {
  ASSERT_NO_FATAL_FAILURE(open_bus());
  auto topic = bus_->register_topic("t.huge", bus_->config().max_payload_bytes + 1);
  ASSERT_FALSE(topic);
  EXPECT_EQ(topic.code(), Errc::kTooLarge);
  EXPECT_NE(topic.message().find("t.huge"), std::string::npos) << topic.message();
}

TEST_F(BadInputTest, UnknownTopicIdIsUnknownTopic) {
  ASSERT_NO_FATAL_FAILURE(open_bus());
  auto known = bus_->register_topic("t.known", 8);
  ASSERT_TRUE(known);
  const std::uint64_t v = 1;
  const std::uint32_t max_topics = bus_->config().max_topics;
  for (TopicId id : {TopicId{1}, TopicId{5}, max_topics - 1, max_topics, max_topics + 1,
                     TopicId{0x7FFFFFFF}, kInvalidTopic}) {
    EXPECT_EQ(bus_->publish(id, &v, 8), PublishStatus::kUnknownTopic) << id;
    Claim claim = bus_->claim(id, 8);
    EXPECT_EQ(claim.status(), PublishStatus::kUnknownTopic) << id;
    EXPECT_FALSE(claim.ok());
    EXPECT_TRUE(bus_->topic_name(id).empty()) << id;
  }
  EXPECT_EQ(tail(Priority::kNormal), 0u);
  EXPECT_EQ(bus_->poll(), 0u);
}

TEST_F(BadInputTest, PayloadSizeDifferingFromTypedTopicIsBadSize) {
  ASSERT_NO_FATAL_FAILURE(open_bus());
  auto topic = bus_->topic<std::uint64_t>("t.typed");
  ASSERT_TRUE(topic) << topic.message();
  const unsigned char bytes[16] = {};
  for (std::size_t size :
       {std::size_t{0}, std::size_t{4}, std::size_t{7}, std::size_t{9}, std::size_t{16}}) {
    EXPECT_EQ(bus_->publish(topic->id, bytes, size), PublishStatus::kBadSize) << size;
    Claim claim = bus_->claim(topic->id, static_cast<std::uint32_t>(size));
    EXPECT_EQ(claim.status(), PublishStatus::kBadSize) << size;
  }
  EXPECT_EQ(tail(Priority::kNormal), 0u);
  EXPECT_EQ(bus_->publish(*topic, std::uint64_t{42}), PublishStatus::kOk);
  EXPECT_EQ(bus_->poll(), 1u);
  EXPECT_EQ(delivered_, 1u);
}

TEST_F(BadInputTest, BadTopicNamesAreInvalidArgument) {
  ASSERT_NO_FATAL_FAILURE(open_bus());
  const std::vector<std::string> bad = {std::string(96, 'a'),
                                        std::string(200, 'b'),
                                        "",
                                        "a b",
                                        "a..b",
                                        ".a",
                                        "a.",
                                        ".",
                                        "..",
                                        "a/b",
                                        "a*",
                                        "*",
                                        "a.*",
                                        "a\tb",
                                        "caf\xC3\xA9",
                                        std::string("a\0b", 3)};
  for (const std::string& n : bad) {
    auto topic = bus_->register_topic(n, 8);
    ASSERT_FALSE(topic) << "'" << n << "'";
    EXPECT_EQ(topic.code(), Errc::kInvalidArgument) << "'" << n << "'";
    EXPECT_NE(topic.message().find("topic name"), std::string::npos) << topic.message();
  }
  EXPECT_TRUE(bus_->register_topic(std::string(95, 'a'), 8));
  EXPECT_TRUE(bus_->register_topic("a-b_C.9.x", 8));
}

TEST_F(BadInputTest, BadPatternsAreInvalidArgument) {
  ASSERT_NO_FATAL_FAILURE(open_bus());
  const std::vector<std::string> bad = {
      "",   "a b", "a..b", ".a",   "a.",   "a.*.b", "*.a",
      "a*", "**",  ".*",   "a.**", "a..*", "*a",    std::string(200, 'x')};
  for (const std::string& p : bad) {
    auto sub = bus_->on(p, [](const EventView&) {});
    ASSERT_FALSE(sub) << "'" << p << "'";
    EXPECT_EQ(sub.code(), Errc::kInvalidArgument) << "'" << p << "'";
    auto once = bus_->once(p, [](const EventView&) {});
    EXPECT_EQ(once.code(), Errc::kInvalidArgument) << "'" << p << "'";
    auto waited = bus_->wait_for(p, 1ms);
    EXPECT_EQ(waited.code(), Errc::kInvalidArgument) << "'" << p << "'";
  }
  EXPECT_TRUE(bus_->on("*", [](const EventView&) {}));
  EXPECT_TRUE(bus_->on("a.*", [](const EventView&) {}));
  EXPECT_TRUE(bus_->on("a.b", [](const EventView&) {}));
  EXPECT_EQ(bus_->on("a.b", Handler{}).code(), Errc::kInvalidArgument);
}

TEST_F(BadInputTest, ReRegisteringTopicWithOtherSizeIsInvalidArgument) {
  ASSERT_NO_FATAL_FAILURE(open_bus());
  auto first = bus_->register_topic("t.sized", 8, 1);
  ASSERT_TRUE(first) << first.message();
  auto again = bus_->register_topic("t.sized", 8, 1);
  ASSERT_TRUE(again) << again.message();
  EXPECT_EQ(*again, *first);
  for (std::uint32_t size : {0u, 4u, 16u}) {
    auto other = bus_->register_topic("t.sized", size, 1);
    ASSERT_FALSE(other) << size;
    EXPECT_EQ(other.code(), Errc::kInvalidArgument);
    EXPECT_NE(other.message().find("t.sized"), std::string::npos) << other.message();
  }
  auto schema = bus_->register_topic("t.sized", 8, 2);
  EXPECT_EQ(schema.code(), Errc::kInvalidArgument) << schema.message();
  // Another agent sees the same conflict.
  auto late = Bus::attach(name_, agent("late"));
  ASSERT_TRUE(late) << late.message();
  EXPECT_EQ(late->register_topic("t.sized", 12).code(), Errc::kInvalidArgument);
  auto same = late->register_topic("t.sized", 8);
  ASSERT_TRUE(same) << same.message();
  EXPECT_EQ(*same, *first);
}

TEST_F(BadInputTest, TooManyTopicsIsCapacityExceeded) {
  ASSERT_NO_FATAL_FAILURE(open_bus());
  const std::uint32_t max = bus_->config().max_topics;
  for (std::uint32_t i = 0; i < max; ++i) {
    auto t = bus_->register_topic("t.n" + std::to_string(i), 8);
    ASSERT_TRUE(t) << t.message();
    EXPECT_EQ(*t, i);
  }
  auto extra = bus_->register_topic("t.extra", 8);
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.code(), Errc::kCapacityExceeded);
  EXPECT_NE(extra.message().find("max_topics"), std::string::npos) << extra.message();
  EXPECT_NE(extra.message().find("t.extra"), std::string::npos) << extra.message();
  // Existing topics are still found and re-registered.
  auto old = bus_->register_topic("t.n3", 8);
  ASSERT_TRUE(old) << old.message();
  EXPECT_EQ(*old, 3u);
  EXPECT_EQ(bus_->find_topic("t.extra").code(), Errc::kNotFound);
}

TEST_F(BadInputTest, BadAgentNamesAreInvalidArgument) {
  const std::string name = unique_bus_name("names");
  SegmentGuard guard(name);
  const std::vector<std::string> bad = {
      std::string(32, 'a'),  std::string(100, 'a'), "", "a b", "a/b", "a\n", "caf\xC3\xA9", "a*",
      std::string("a\0b", 3)};
  for (const std::string& n : bad) {
    auto created = Bus::create(small_config(name), agent(n));
    ASSERT_FALSE(created) << "'" << n << "'";
    EXPECT_EQ(created.code(), Errc::kInvalidArgument);
    EXPECT_NE(created.message().find("agent name"), std::string::npos) << created.message();
  }
  // A failed create leaves no segment behind.
  EXPECT_EQ(Bus::attach(name, agent("x")).code(), Errc::kNotFound);

  auto owner = Bus::create(small_config(name), agent(std::string(31, 'o')));
  ASSERT_TRUE(owner) << owner.message();
  for (const std::string& n : bad) {
    auto attached = Bus::attach(name, agent(n));
    ASSERT_FALSE(attached) << "'" << n << "'";
    EXPECT_EQ(attached.code(), Errc::kInvalidArgument);
    EXPECT_NE(attached.message().find("agent name"), std::string::npos) << attached.message();
  }
  // None of them took a record.
  auto ok = Bus::attach(name, agent("x.y-z_1"));
  ASSERT_TRUE(ok) << ok.message();
  EXPECT_EQ(ok->agent_index(), 1u);
}

TEST_F(BadInputTest, SecondLiveAgentWithSameNameIsAlreadyExists) {
  const std::string name = unique_bus_name("dup");
  SegmentGuard guard(name);
  auto owner = Bus::create(small_config(name), agent("twin"));
  ASSERT_TRUE(owner) << owner.message();
  auto twin = Bus::attach(name, agent("twin"));
  ASSERT_FALSE(twin);
  EXPECT_EQ(twin.code(), Errc::kAlreadyExists);
  EXPECT_NE(twin.message().find("twin"), std::string::npos) << twin.message();
  // Names are case-sensitive: a different name is a different agent.
  auto other = Bus::attach(name, agent("Twin"));
  EXPECT_TRUE(other) << other.message();
}

TEST_F(BadInputTest, SameNameAsAgentInOtherProcessIsAlreadyExists) {
  const std::string name = unique_bus_name("dupx");
  SegmentGuard guard(name);
  auto owner = Bus::create(small_config(name), agent("owner"));
  ASSERT_TRUE(owner) << owner.message();
  ReadyPipe ready;
  Child child = Child::fork([&] {
    auto bus = Bus::attach(name, agent("remote"));
    if (!bus) return 1;
    ready.signal();
    sleep_forever();
    return 0;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  auto dup = Bus::attach(name, agent("remote"));
  EXPECT_EQ(dup.code(), Errc::kAlreadyExists) << dup.message();
}

TEST_F(BadInputTest, MoreAgentsThanMaxAgentsIsCapacityExceeded) {
  const std::string name = unique_bus_name("full_tab");
  SegmentGuard guard(name);
  auto owner = Bus::create(small_config(name), agent("a0"));
  ASSERT_TRUE(owner) << owner.message();
  std::vector<Bus> agents;
  for (int i = 1; i < 4; ++i) {
    auto b = Bus::attach(name, agent("a" + std::to_string(i)));
    ASSERT_TRUE(b) << b.message();
    agents.push_back(std::move(b.value()));
  }
  auto extra = Bus::attach(name, agent("a4"));
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.code(), Errc::kCapacityExceeded);
  EXPECT_NE(extra.message().find("max_agents"), std::string::npos) << extra.message();
  // A detach frees a record.
  agents.pop_back();
  auto again = Bus::attach(name, agent("a4"));
  EXPECT_TRUE(again) << again.message();
}

// ---- full rings -------------------------------------------------------------------------------

struct FullRing {
  std::vector<std::uint64_t> accepted;
  PublishStatus stop = PublishStatus::kOk;
};

// Publishes 0, 1, 2, ... until the first status other than kOk.
FullRing fill(Bus& pub, TopicId topic, std::uint64_t limit) {
  FullRing r;
  for (std::uint64_t i = 0; i < limit; ++i) {
    PublishStatus st = pub.publish(topic, &i, sizeof(i));
    if (st != PublishStatus::kOk) {
      r.stop = st;
      break;
    }
    r.accepted.push_back(i);
  }
  return r;
}

/// A bus created on `name` (rings of `capacity`) by a subscriber that appends every "seq.n"
/// value it dispatches to `got`, in order.
Result<Bus> recording_subscriber(const std::string& name, std::uint32_t capacity,
                                 std::vector<std::uint64_t>& got) {
  auto sub = Bus::create(small_config(name, capacity), agent("sub"));
  if (!sub) return sub;
  auto on = sub->on("seq.n", [&got](const EventView& v) {
    std::uint64_t x = 0;
    ASSERT_TRUE(v.copy_to(x));
    got.push_back(x);
  });
  if (!on) return on.error();
  return sub;
}

std::vector<std::uint64_t> drain(Bus& sub, std::vector<std::uint64_t>& got) {
  for (int i = 0; i < 100; ++i) {
    if (sub.poll() == 0) break;
  }
  return got;
}

TEST_F(BadInputTest, FullRingWithReturnPolicyIsFullAndLosesNothing) {
  const std::string name = unique_bus_name("full_ret");
  SegmentGuard guard(name);
  std::vector<std::uint64_t> got;
  auto sub = recording_subscriber(name, 64, got);
  ASSERT_TRUE(sub) << sub.message();
  auto pub = Bus::attach(name, agent("pub", FullPolicy::kReturn));
  ASSERT_TRUE(pub) << pub.message();
  auto topic = pub->register_topic("seq.n", 8);
  ASSERT_TRUE(topic) << topic.message();

  FullRing r = fill(*pub, *topic, 4 * 64);
  EXPECT_EQ(r.stop, PublishStatus::kFull);
  ASSERT_FALSE(r.accepted.empty());
  EXPECT_LE(r.accepted.size(), 64u);
  for (std::uint64_t i = 1000; i < 1005; ++i) {
    EXPECT_EQ(pub->publish(*topic, &i, 8), PublishStatus::kFull);
  }
  EXPECT_EQ(drain(*sub, got), r.accepted);
  // Space again once the subscriber moved on.
  const std::uint64_t next = 5000;
  EXPECT_EQ(pub->publish(*topic, &next, 8), PublishStatus::kOk);
  (void)sub->poll();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), next);
  EXPECT_EQ(got.size(), r.accepted.size() + 1);
}

TEST_F(BadInputTest, FullRingWithWaitPolicyTimesOutAndLosesNothing) {
  const std::string name = unique_bus_name("full_wait");
  SegmentGuard guard(name);
  std::vector<std::uint64_t> got;
  auto sub = recording_subscriber(name, 128, got);
  ASSERT_TRUE(sub) << sub.message();
  auto pub = Bus::attach(name, agent("pub", FullPolicy::kWait, 20ms));
  ASSERT_TRUE(pub) << pub.message();
  auto topic = pub->register_topic("seq.n", 8);
  ASSERT_TRUE(topic) << topic.message();

  const auto start = std::chrono::steady_clock::now();
  FullRing r = fill(*pub, *topic, 4 * 128);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.stop, PublishStatus::kTimeout);
  ASSERT_FALSE(r.accepted.empty());
  EXPECT_LE(r.accepted.size(), 128u);
  EXPECT_GE(elapsed, 20ms);
  EXPECT_LT(elapsed, 10s);
  const std::uint64_t extra = 999;
  EXPECT_EQ(pub->publish(*topic, &extra, 8), PublishStatus::kTimeout);
  EXPECT_EQ(drain(*sub, got), r.accepted);
}

// The ring is full because a tethered subscriber has not read: a publisher that attaches only
// now must see it full too, and must not overwrite the unread events.
TEST_F(BadInputTest, FullRingIsFullForNewlyAttachedPublisher) {
  const std::string name = unique_bus_name("full_new");
  SegmentGuard guard(name);
  std::vector<std::uint64_t> got;
  auto sub = recording_subscriber(name, 64, got);
  ASSERT_TRUE(sub) << sub.message();
  auto first = Bus::attach(name, agent("first", FullPolicy::kReturn));
  ASSERT_TRUE(first) << first.message();
  auto topic = first->register_topic("seq.n", 8);
  ASSERT_TRUE(topic) << topic.message();
  FullRing r = fill(*first, *topic, 4 * 64);
  ASSERT_EQ(r.stop, PublishStatus::kFull);

  auto second = Bus::attach(name, agent("second", FullPolicy::kReturn));
  ASSERT_TRUE(second) << second.message();
  const std::uint64_t intruder = 777777;
  EXPECT_EQ(second->publish(*topic, &intruder, 8), PublishStatus::kFull);
  EXPECT_EQ(drain(*sub, got), r.accepted);
}

// A subscriber process attached, subscribed (so it gates producers) and was SIGKILLed while the
// ring was full. A waiting publisher finds the dead agent, recovers its record and gets through.
TEST_F(BadInputTest, WaitingPublisherRecoversFromDeadSubscriber) {
  const std::string name = unique_bus_name("deadsub");
  SegmentGuard guard(name);
  ReadyPipe go;
  ReadyPipe ready;
  // Fork first: the child builds its own Bus after the parent created the segment.
  Child victim = Child::fork([&] {
    if (!go.wait(1, 10s)) return 3;
    auto bus = Bus::attach(name, agent("victim"));
    if (!bus) return 1;
    if (!bus->on_any([](const EventView&) {})) return 2;
    ready.signal();
    sleep_forever();  // never polls: the ring fills up behind it
    return 0;
  });
  auto owner = Bus::create(small_config(name, 64), agent("owner", FullPolicy::kReturn));
  ASSERT_TRUE(owner) << owner.message();
  auto topic = owner->register_topic("dead.peer", 8);
  ASSERT_TRUE(topic) << topic.message();
  go.signal();
  ASSERT_TRUE(ready.wait(1, 10s));

  FullRing r = fill(*owner, *topic, 4 * 64);
  ASSERT_EQ(r.stop, PublishStatus::kFull);
  {
    // While the victim lives, waiting does not help.
    auto impatient = Bus::attach(name, agent("impatient", FullPolicy::kWait, 30ms));
    ASSERT_TRUE(impatient) << impatient.message();
    const std::uint64_t v = 1;
    EXPECT_EQ(impatient->publish(*topic, &v, 8), PublishStatus::kTimeout);
  }

  victim.kill(SIGKILL);
  ASSERT_EQ(victim.wait(10000ms), 128 + SIGKILL);

  auto waiter = Bus::attach(name, agent("waiter", FullPolicy::kWait, 5s));
  ASSERT_TRUE(waiter) << waiter.message();
  const std::uint64_t v = 2;
  const auto start = std::chrono::steady_clock::now();
  PublishStatus st = waiter->publish(*topic, &v, 8);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(st, PublishStatus::kOk) << publish_status_name(st);
  EXPECT_LT(elapsed, 5s);
  EXPECT_GE(detail::BusAccess::impl(*owner).segment().header().agents_recovered.load(), 1u);
  // The ring is no longer held back: the owner can publish again without waiting.
  EXPECT_EQ(owner->publish(*topic, &v, 8), PublishStatus::kOk);
  // And the dead agent's name is free again.
  auto reborn = Bus::attach(name, agent("victim"));
  EXPECT_TRUE(reborn) << reborn.message();
}

TEST_F(BadInputTest, DeadAgentNameCanBeReused) {
  const std::string name = unique_bus_name("reuse");
  SegmentGuard guard(name);
  ReadyPipe go;
  ReadyPipe ready;
  Child victim = Child::fork([&] {
    if (!go.wait(1, 10s)) return 3;
    auto bus = Bus::attach(name, agent("phoenix"));
    if (!bus) return 1;
    if (!bus->on_any([](const EventView&) {})) return 2;
    ready.signal();
    sleep_forever();
    return 0;
  });
  auto owner = Bus::create(small_config(name), agent("owner"));
  ASSERT_TRUE(owner) << owner.message();
  go.signal();
  ASSERT_TRUE(ready.wait(1, 10s));
  EXPECT_EQ(Bus::attach(name, agent("phoenix")).code(), Errc::kAlreadyExists);

  victim.kill(SIGKILL);
  ASSERT_EQ(victim.wait(10000ms), 128 + SIGKILL);
  // No sweep has run: attach itself recovers the dead record.
  auto reborn = Bus::attach(name, agent("phoenix"));
  ASSERT_TRUE(reborn) << reborn.message();
  EXPECT_EQ(reborn->agent_index(), 1u);  // the dead agent's record, freed and reused
  Segment& s = detail::BusAccess::impl(*owner).segment();
  EXPECT_EQ(s.header().agents_recovered.load(), 1u);
  EXPECT_EQ(s.agent(1).pid, static_cast<std::uint32_t>(::getpid()));
}

}  // namespace
}  // namespace shmbus
