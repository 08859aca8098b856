// Tests of the segment's life: create, open, remove; replacing a stale segment left by a
// process that died or exited without removing it; refusing one that live processes hold;
// file permissions; and configuration validation with errors that name the field.
#include "shm/segment.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "shm/create_steps.hpp"
#include "shm/layout_hash.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/config.hpp"
#include "testing/test_support.hpp"

namespace shmbus::detail {
namespace {

using shmbus::testing::Child;
using shmbus::testing::ReadyPipe;
using shmbus::testing::SegmentGuard;
using shmbus::testing::unique_bus_name;
using namespace std::chrono_literals;

BusConfig small_config(const std::string& name) {
  BusConfig c;
  c.name = name;
  c.ring_capacity = {64, 64, 128, 64};
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

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Waits (with a deadline) until a child that should sit forever is ready, so the parent never
// acts on a segment the child has not finished setting up.
void sleep_forever() {
  for (;;) std::this_thread::sleep_for(1s);
}

TEST(SegmentTest, CreateOpenRemoveRoundTrip) {
  const std::string name = unique_bus_name("rt");
  SegmentGuard guard(name);
  const BusConfig config = small_config(name);
  {
    auto created = Segment::create(config);
    ASSERT_TRUE(created) << created.message();
    Segment& c = **created;
    EXPECT_TRUE(c.created());
    EXPECT_EQ(c.bus_name(), name);
    EXPECT_TRUE(file_exists(shm_file_path(name)));

    auto opened = Segment::open(name);
    ASSERT_TRUE(opened) << opened.message();
    Segment& o = **opened;
    EXPECT_FALSE(o.created());
    EXPECT_EQ(o.size(), c.size());
    EXPECT_EQ(o.plan().total_size, plan_regions(to_segment_config(config)).total_size);
    EXPECT_EQ(std::memcmp(&o.config(), &c.config(), sizeof(SegmentConfig)), 0);
    const BusConfig back = o.bus_config();
    EXPECT_EQ(back.name, name);
    EXPECT_EQ(back.ring_capacity, config.ring_capacity);
    EXPECT_EQ(back.max_agents, config.max_agents);
    EXPECT_EQ(back.max_topics, config.max_topics);

    // The creator's header, as seen through the second mapping.
    const SegmentHeader& h = o.header();
    EXPECT_EQ(h.magic, kMagic);
    EXPECT_EQ(h.layout_version, kLayoutVersion);
    EXPECT_EQ(h.ready.load(), kLayoutVersion);
    EXPECT_EQ(h.layout_hash, kLayoutHash);
    EXPECT_EQ(h.total_size, o.plan().total_size);
    EXPECT_EQ(h.creator_pid, static_cast<std::uint32_t>(::getpid()));
    EXPECT_EQ(h.regions.agents_offset, o.plan().agents_offset);
    EXPECT_EQ(h.regions.topics_offset, o.plan().topics_offset);
    EXPECT_EQ(h.error_log_offset, o.plan().error_log_offset);
    EXPECT_EQ(h.topic_count.load(), 0u);
    for (std::uint32_t r = 0; r < kRingCount; ++r) {
      EXPECT_EQ(h.regions.rings_offset[r], o.plan().rings_offset[r]);
      EXPECT_EQ(o.ring(r).capacity, config.ring_capacity[r]);
      EXPECT_EQ(o.ring(r).slot_stride, o.config().slot_stride);
      EXPECT_EQ(o.ring(r).tail.load(), 0u);
    }
    // The object is exactly the planned size.
    struct stat st;
    ASSERT_EQ(::stat(shm_file_path(name).c_str(), &st), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), o.plan().total_size);

    // Writes through one mapping are seen through the other: the same object.
    c.agent(1).pid = 4242;
    EXPECT_EQ(o.agent(1).pid, 4242u);
  }
  // Nobody holds it now: remove without force works, and then it is gone.
  auto removed = Segment::remove(name, /*force=*/false);
  EXPECT_TRUE(removed) << removed.message();
  EXPECT_FALSE(file_exists(shm_file_path(name)));
  auto reopened = Segment::open(name);
  EXPECT_EQ(reopened.code(), Errc::kNotFound);
  EXPECT_EQ(Segment::remove(name, false).code(), Errc::kNotFound);
}

TEST(SegmentTest, OpenOfMissingBusIsNotFoundNamingIt) {
  const std::string name = unique_bus_name("missing");
  auto opened = Segment::open(name);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), Errc::kNotFound);
  EXPECT_NE(opened.message().find(name), std::string::npos) << opened.message();

  auto attached = Bus::attach(name, AgentOptions{.name = "a"});
  ASSERT_FALSE(attached);
  EXPECT_EQ(attached.code(), Errc::kNotFound);
  EXPECT_NE(attached.message().find(name), std::string::npos) << attached.message();
}

TEST(SegmentTest, CreateWhileCreatorAliveIsAlreadyExists) {
  const std::string name = unique_bus_name("twice");
  SegmentGuard guard(name);
  auto first = Segment::create(small_config(name));
  ASSERT_TRUE(first) << first.message();
  auto second = Segment::create(small_config(name));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.code(), Errc::kAlreadyExists);
  EXPECT_NE(second.message().find(name), std::string::npos) << second.message();
  // The first is untouched and still opens.
  auto opened = Segment::open(name);
  EXPECT_TRUE(opened) << opened.message();
}

TEST(SegmentTest, EmbeddedCreateTwiceIsAlreadyExists) {
  const std::string name = unique_bus_name("twice_bus");
  SegmentGuard guard(name);
  auto first = Bus::create(small_config(name), AgentOptions{.name = "one"});
  ASSERT_TRUE(first) << first.message();
  auto second = Bus::create(small_config(name), AgentOptions{.name = "two"});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.code(), Errc::kAlreadyExists);
  // The failed create must not have removed the live segment.
  auto attached = Bus::attach(name, AgentOptions{.name = "three"});
  EXPECT_TRUE(attached) << attached.message();
}

TEST(SegmentTest, CreateWhileOtherProcessHoldsItIsAlreadyExists) {
  const std::string name = unique_bus_name("held");
  SegmentGuard guard(name);
  ReadyPipe ready;
  Child child = Child::fork([&] {
    auto seg = Segment::create(small_config(name));
    if (!seg) return 1;
    ready.signal();
    sleep_forever();
    return 0;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  auto second = Segment::create(small_config(name));
  EXPECT_EQ(second.code(), Errc::kAlreadyExists) << second.message();
  // It is live: agents can join it.
  auto attached = Bus::attach(name, AgentOptions{.name = "joiner"});
  EXPECT_TRUE(attached) << attached.message();
}

TEST(SegmentTest, CreateWhileOnlyAnAgentHoldsItIsAlreadyExists) {
  const std::string name = unique_bus_name("agent_held");
  SegmentGuard guard(name);
  {
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
  }  // the creator's handle is gone, but an agent still uses the segment
  auto agent = Bus::attach(name, AgentOptions{.name = "still_here"});
  ASSERT_TRUE(agent) << agent.message();
  auto again = Segment::create(small_config(name));
  EXPECT_EQ(again.code(), Errc::kAlreadyExists) << again.message();
}

TEST(SegmentTest, StaleSegmentOfExitedProcessIsReplaced) {
  const std::string name = unique_bus_name("stale_exit");
  SegmentGuard guard(name);
  // The child creates a segment and exits without removing it (its handles close on exit).
  Child child = Child::fork([&] {
    BusConfig c = small_config(name);
    c.max_agents = 8;
    auto seg = Segment::create(c);
    return seg ? 0 : 1;
  });
  ASSERT_EQ(child.wait(10000ms), 0);
  ASSERT_TRUE(file_exists(shm_file_path(name)));

  auto created = Segment::create(small_config(name));
  ASSERT_TRUE(created) << created.message();
  // A new segment, not the old one reused: our pid and our geometry.
  EXPECT_EQ((*created)->header().creator_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ((*created)->config().max_agents, 4u);
  auto opened = Segment::open(name);
  ASSERT_TRUE(opened) << opened.message();
  EXPECT_EQ((*opened)->config().max_agents, 4u);
}

TEST(SegmentTest, StaleSegmentOfKilledProcessIsReplaced) {
  const std::string name = unique_bus_name("stale_kill");
  SegmentGuard guard(name);
  ReadyPipe ready;
  // The child creates the segment, attaches an agent and is killed without any cleanup.
  Child child = Child::fork([&] {
    auto seg = Segment::create(small_config(name));
    if (!seg) return 1;
    auto bus = Bus::attach(name, AgentOptions{.name = "doomed"});
    if (!bus) return 2;
    ready.signal();
    sleep_forever();
    return 0;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  EXPECT_EQ(Segment::create(small_config(name)).code(), Errc::kAlreadyExists);
  child.kill(SIGKILL);
  ASSERT_EQ(child.wait(10000ms), 128 + SIGKILL);

  auto bus = Bus::create(small_config(name), AgentOptions{.name = "doomed"});
  ASSERT_TRUE(bus) << bus.message();
  EXPECT_EQ(bus->agent_index(), 0u);  // a fresh agent table: the dead record is gone
  auto opened = Segment::open(name);
  ASSERT_TRUE(opened) << opened.message();
  EXPECT_EQ((*opened)->header().creator_pid, static_cast<std::uint32_t>(::getpid()));
}

// The creator that replaces a leftover says what it found: enough for a log line that tells
// a crashed creator from a half-made segment from a file that was never a segment.
TEST(SegmentTest, ReplacingCreatorSaysWhatItFound) {
  const std::string name = unique_bus_name("found");
  SegmentGuard guard(name);
  {
    auto fresh = Segment::create(small_config(name));
    ASSERT_TRUE(fresh) << fresh.message();
    EXPECT_EQ((*fresh)->replaced(), "") << "nothing was there";
  }
  pid_t child_pid = 0;
  {
    Child leaver = Child::fork([&] { return Segment::create(small_config(name)) ? 0 : 1; });
    child_pid = leaver.pid();
    ASSERT_EQ(leaver.wait(10s), 0);
  }
  {
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    const std::string& found = (*seg)->replaced();
    EXPECT_NE(found.find("creator pid " + std::to_string(child_pid)), std::string::npos) << found;
    EXPECT_NE(found.find("no live process holds it"), std::string::npos) << found;
    EXPECT_NE(found.find("mode 0600"), std::string::npos) << found;
    (*seg)->header().ready.store(kNotReady);  // as if it had died before its last store
  }
  {
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    EXPECT_NE((*seg)->replaced().find("never initialised"), std::string::npos)
        << (*seg)->replaced();
    std::memset(static_cast<void*>(&(*seg)->header()), 0x5A, 64);  // not a segment any more
  }
  auto seg = Segment::create(small_config(name));
  ASSERT_TRUE(seg) << seg.message();
  EXPECT_NE((*seg)->replaced().find("bad magic"), std::string::npos) << (*seg)->replaced();
}

TEST(SegmentTest, SegmentNeverMadeReadyIsReplaced) {
  const std::string name = unique_bus_name("unready");
  SegmentGuard guard(name);
  {
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
    // As if the creator had died before its final store.
    (*seg)->header().ready.store(kNotReady);
  }
  // Its creator is gone: no need to wait the default second for it.
  auto created = Segment::create(small_config(name), 20ms);
  ASSERT_TRUE(created) << created.message();
  EXPECT_EQ((*created)->header().ready.load(), kLayoutVersion);
}

TEST(SegmentTest, OpenWaitsForACreatorStillInitialising) {
  const std::string name = unique_bus_name("late");
  SegmentGuard guard(name);
  auto seg = Segment::create(small_config(name));
  ASSERT_TRUE(seg) << seg.message();
  (*seg)->header().ready.store(kNotReady);
  std::thread creator([&] {
    std::this_thread::sleep_for(50ms);
    (*seg)->header().ready.store(kLayoutVersion, std::memory_order_release);
  });
  auto opened = Segment::open(name, 10s);
  creator.join();
  ASSERT_TRUE(opened) << opened.message();
  // And a short wait gives up at its deadline, not after the default second.
  (*seg)->header().ready.store(kNotReady);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Segment::open(name, 30ms).code(), Errc::kNotReady);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
}

// ---- exactly one creator per name, whatever the interleaving --------------------------------
// A child stops itself (SIGSTOP) at one step of create; the parent creates meanwhile, then lets
// the child go on. Each order of the two processes at each step is played deterministically.

CreateStep g_stop_at = CreateStep::kCreatedExclusive;
void stop_here(CreateStep step) {
  if (step == g_stop_at) ::raise(SIGSTOP);
}

// Waits until `child` is stopped by a signal (bounded); false on timeout or exit.
bool wait_stopped(Child& child, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = ::waitpid(child.pid(), &status, WNOHANG | WUNTRACED);
    if (r == child.pid()) return WIFSTOPPED(status);
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

constexpr int kChildCreated = 0;
constexpr int kChildLostRace = 3;

// Creates the segment as a racing creator does: kChildCreated if its create succeeded and the
// name points to the segment it created, kChildLostRace on kAlreadyExists, else another code.
// A winner keeps its segment (and so its creator lock) in `kept` while it lives.
int create_and_check(const std::string& name, std::unique_ptr<Segment>& kept) {
  auto seg = Segment::create(small_config(name));
  if (!seg) return seg.code() == Errc::kAlreadyExists ? kChildLostRace : 4;
  kept = std::move(seg.value());
  auto named = Segment::open(name, 1s);
  if (!named || (*named)->header().creator_pid != static_cast<std::uint32_t>(::getpid())) {
    return 5;  // it "created" a segment that the name does not point to
  }
  return kChildCreated;
}

// A child that creates the segment, stopping itself at `step`; exits with create_and_check's
// verdict.
Child stopped_creator(const std::string& name, CreateStep step) {
  return Child::fork([name, step] {
    g_stop_at = step;
    set_create_step_hook(&stop_here);
    std::unique_ptr<Segment> kept;
    return create_and_check(name, kept);
  });
}

// With `child` stopped holding a creator lock, a second creator gets kAlreadyExists; once
// continued, the child completes its create.
void second_creator_is_refused_and_child_creates(const std::string& name, Child& child) {
  ASSERT_TRUE(wait_stopped(child, 10s));
  auto mine = Segment::create(small_config(name));
  EXPECT_EQ(mine.code(), Errc::kAlreadyExists)
      << (mine ? "a second creator succeeded" : mine.message());
  child.kill(SIGCONT);
  EXPECT_EQ(child.wait(10s), kChildCreated);
}

TEST(SegmentCreateRaceTest, CreatorStoppedBeforeItsLockLosesToASecondCreator) {
  const std::string name = unique_bus_name("race1");
  SegmentGuard guard(name);
  Child child = stopped_creator(name, CreateStep::kCreatedExclusive);
  ASSERT_TRUE(wait_stopped(child, 10s));
  // The child's file exists, empty and unlocked: indistinguishable from a creator that died
  // right after its exclusive create. This creator judges it stale and replaces it...
  auto mine = Segment::create(small_config(name));
  ASSERT_TRUE(mine) << mine.message();
  child.kill(SIGCONT);
  // ...and the child, finding its name taken over before it could lock, gives up.
  EXPECT_EQ(child.wait(10s), kChildLostRace);
  auto named = Segment::open(name, 1s);
  ASSERT_TRUE(named) << named.message();
  EXPECT_EQ((*named)->header().creator_pid, static_cast<std::uint32_t>(::getpid()));
}

TEST(SegmentCreateRaceTest, CreatorStoppedWhileInitialisingKeepsTheName) {
  const std::string name = unique_bus_name("race2");
  SegmentGuard guard(name);
  Child child = stopped_creator(name, CreateStep::kLockedNew);
  // The child holds its creator lock on a file it has not yet filled: it is live.
  second_creator_is_refused_and_child_creates(name, child);
}

TEST(SegmentCreateRaceTest, StaleSegmentIsReplacedByOneCreatorOnly) {
  const std::string name = unique_bus_name("race3");
  SegmentGuard guard(name);
  {
    Child leaver = Child::fork([&] { return Segment::create(small_config(name)) ? 0 : 1; });
    ASSERT_EQ(leaver.wait(10s), 0);  // exited without removing it: stale
  }
  Child child = stopped_creator(name, CreateStep::kLockedStale);
  // The child holds the stale file's creator lock while it replaces it: nobody else may.
  second_creator_is_refused_and_child_creates(name, child);
}

TEST(SegmentCreateRaceTest, ManySimultaneousCreatorsExactlyOneWins) {
  const std::string name = unique_bus_name("race4");
  SegmentGuard guard(name);
  constexpr int kRounds = 40;
  constexpr int kCreators = 3;
  // Each creator's verdict, in memory shared with the children.
  void* shared = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  auto* verdict = static_cast<std::atomic<int>*>(shared);
  for (int round = 0; round < kRounds; ++round) {
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    ReadyPipe done;
    std::vector<Child> creators;
    for (int i = 0; i < kCreators; ++i) {
      verdict[i].store(-1);
      creators.push_back(Child::fork([&, i] {
        ::close(go[1]);
        char byte = 0;
        if (::read(go[0], &byte, 1) < 0) return 6;  // all start when the pipe closes
        std::unique_ptr<Segment> kept;  // held until killed, as a running creator holds it
        verdict[i].store(create_and_check(name, kept));
        done.signal();
        sleep_forever();  // hold whatever it has until every creator has answered
        return 0;
      }));
    }
    ::close(go[0]);
    ::close(go[1]);
    ASSERT_TRUE(done.wait(kCreators, 20s)) << "round " << round;
    int winners = 0;
    for (int i = 0; i < kCreators; ++i) {
      const int v = verdict[i].load();
      if (v == kChildCreated) {
        ++winners;
      } else {
        EXPECT_EQ(v, kChildLostRace) << "round " << round << ", creator " << i;
      }
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    for (Child& c : creators) c.kill(SIGKILL);
    for (Child& c : creators) (void)c.wait(10s);
  }
  ::munmap(shared, 4096);
}

// ---- who owns a segment ----------------------------------------------------------------------

TEST(SegmentOwnerTest, OwnSegmentWithTheConfiguredModeIsAccepted) {
  const std::string name = unique_bus_name("own");
  SegmentGuard guard(name);
  auto seg = Segment::create(small_config(name));
  ASSERT_TRUE(seg) << seg.message();
  EXPECT_TRUE((*seg)->check_owner(small_config(name)));
}

TEST(SegmentOwnerTest, SegmentWiderThanTheConfigIsRefusedNamingItsMode) {
  const std::string name = unique_bus_name("wide");
  SegmentGuard guard(name);
  BusConfig squat = small_config(name);
  squat.permissions = 0666;
  auto seg = Segment::create(squat);
  ASSERT_TRUE(seg) << seg.message();
  auto checked = (*seg)->check_owner(small_config(name));  // asks for 0600
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.code(), Errc::kPermission);
  EXPECT_NE(checked.message().find("mode 0666"), std::string::npos) << checked.message();
  EXPECT_NE(checked.message().find("uid " + std::to_string(::geteuid())), std::string::npos)
      << checked.message();
}

TEST(SegmentOwnerTest, SegmentOfAnotherUserIsRefusedNamingItsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a segment as another user";
  const std::string name = unique_bus_name("squat");
  SegmentGuard guard(name);
  ReadyPipe ready;
  // "nobody" creates the bus first, owner-only, and keeps it live.
  Child squatter = Child::fork([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 7;
    auto seg = Segment::create(small_config(name));
    if (!seg) return 8;
    ready.signal();
    sleep_forever();
    return 0;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  auto seg = Segment::open(name);
  ASSERT_TRUE(seg) << seg.message();                       // root may open it...
  auto checked = (*seg)->check_owner(small_config(name));  // ...but must not adopt it
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.code(), Errc::kPermission);
  EXPECT_NE(checked.message().find("uid 65534"), std::string::npos) << checked.message();
  EXPECT_NE(checked.message().find("mode 0600"), std::string::npos) << checked.message();
  BusConfig allow = small_config(name);
  allow.owner_uid = 65534;
  EXPECT_TRUE((*seg)->check_owner(allow)) << "an owner the config names is accepted";
}

TEST(SegmentTest, FileModeIsOwnerOnlyByDefault) {
  const std::string name = unique_bus_name("mode");
  SegmentGuard guard(name);
  BusConfig config = small_config(name);
  ASSERT_EQ(config.permissions, 0600u);
  auto seg = Segment::create(config);
  ASSERT_TRUE(seg) << seg.message();
  struct stat st;
  ASSERT_EQ(::stat(("/dev/shm/shmbus." + name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST(SegmentTest, FileModeHonoursPermissions) {
  for (std::uint32_t mode : {0640u, 0660u, 0604u}) {
    const std::string name = unique_bus_name("mode");
    SegmentGuard guard(name);
    BusConfig config = small_config(name);
    config.permissions = mode;
    auto seg = Segment::create(config);
    ASSERT_TRUE(seg) << seg.message();
    struct stat st;
    ASSERT_EQ(::stat(("/dev/shm/shmbus." + name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, mode) << std::oct << mode;
    EXPECT_EQ((*seg)->config().permissions, mode);
  }
}

TEST(SegmentTest, EmbeddedBusHonoursPermissions) {
  const std::string name = unique_bus_name("mode_bus");
  SegmentGuard guard(name);
  BusConfig config = small_config(name);
  config.permissions = 0640;
  auto bus = Bus::create(config, AgentOptions{.name = "a"});
  ASSERT_TRUE(bus) << bus.message();
  struct stat st;
  ASSERT_EQ(::stat(("/dev/shm/shmbus." + name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(SegmentTest, RemoveRefusesWhileAgentInThisProcessLivesUnlessForced) {
  const std::string name = unique_bus_name("busy");
  SegmentGuard guard(name);
  {
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
  }
  {
    auto bus = Bus::attach(name, AgentOptions{.name = "holder"});
    ASSERT_TRUE(bus) << bus.message();
    auto removed = Segment::remove(name, /*force=*/false);
    EXPECT_EQ(removed.code(), Errc::kBusy) << removed.message();
    EXPECT_NE(removed.message().find(name), std::string::npos) << removed.message();
    EXPECT_TRUE(file_exists(shm_file_path(name)));
  }
  // Detached: now it goes.
  auto removed = Segment::remove(name, false);
  EXPECT_TRUE(removed) << removed.message();
  EXPECT_FALSE(file_exists(shm_file_path(name)));
}

// A process that opened a segment whose name then moved to a new file can tell (the
// supervisor's start checks this once it holds its lock), and its locks stay on the file it
// maps: they tell nothing about the new one.
TEST(SegmentTest, OpenerTellsWhenTheNameMovedToAnotherFile) {
  const std::string name = unique_bus_name("moved");
  SegmentGuard guard(name);
  auto first = Segment::create(small_config(name));
  ASSERT_TRUE(first) << first.message();
  auto opened = Segment::open(name);
  ASSERT_TRUE(opened) << opened.message();
  EXPECT_TRUE(opened.value()->names_this_file());
  ASSERT_TRUE(Segment::remove(name, /*force=*/true));
  EXPECT_FALSE(opened.value()->names_this_file());
  auto second = Segment::create(small_config(name));
  ASSERT_TRUE(second) << second.message();
  EXPECT_TRUE(second.value()->names_this_file());
  EXPECT_FALSE(opened.value()->names_this_file());
  ASSERT_TRUE(opened.value()->locks().try_lock(kSupervisorLockByte));
  auto fresh = Segment::open(name);
  ASSERT_TRUE(fresh) << fresh.message();
  EXPECT_FALSE(fresh.value()->supervisor_alive()) << "a lock on the old file counted for the new";
}

TEST(SegmentTest, RemoveRefusesWhileAgentInOtherProcessLivesUnlessForced) {
  const std::string name = unique_bus_name("busy_x");
  SegmentGuard guard(name);
  {
    auto seg = Segment::create(small_config(name));
    ASSERT_TRUE(seg) << seg.message();
  }
  ReadyPipe ready;
  Child child = Child::fork([&] {
    auto bus = Bus::attach(name, AgentOptions{.name = "remote"});
    if (!bus) return 1;
    ready.signal();
    sleep_forever();
    return 0;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  EXPECT_EQ(Bus::remove(name).code(), Errc::kBusy);
  EXPECT_EQ(Segment::remove(name, false).code(), Errc::kBusy);
  EXPECT_TRUE(file_exists(shm_file_path(name)));

  auto forced = Bus::remove(name, /*force=*/true);
  EXPECT_TRUE(forced) << forced.message();
  EXPECT_FALSE(file_exists(shm_file_path(name)));
}

TEST(SegmentTest, RemoveAfterHolderDiesSucceeds) {
  const std::string name = unique_bus_name("busy_dead");
  SegmentGuard guard(name);
  ReadyPipe ready;
  Child child = Child::fork([&] {
    auto bus = Bus::create(small_config(name), AgentOptions{.name = "owner"});
    if (!bus) return 1;
    ready.signal();
    sleep_forever();
    return 0;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  EXPECT_EQ(Segment::remove(name, false).code(), Errc::kBusy);
  child.kill(SIGKILL);
  ASSERT_EQ(child.wait(10000ms), 128 + SIGKILL);
  auto removed = Segment::remove(name, false);
  EXPECT_TRUE(removed) << removed.message();
}

// ---- configuration validation ----------------------------------------------------------------

void expect_invalid(const BusConfig& config, const std::string& field) {
  SCOPED_TRACE(field);
  auto seg = Segment::create(config);
  ASSERT_FALSE(seg);
  EXPECT_EQ(seg.code(), Errc::kInvalidArgument);
  EXPECT_NE(seg.message().find(field), std::string::npos) << seg.message();
  auto bus = Bus::create(config, AgentOptions{.name = "a"});
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.code(), Errc::kInvalidArgument);
  EXPECT_NE(bus.message().find(field), std::string::npos) << bus.message();
  EXPECT_NE(validate_config(config).find(field), std::string::npos);
  // Nothing was left behind.
  if (validate_bus_name(config.name).empty()) {
    EXPECT_FALSE(file_exists(shm_file_path(config.name)));
  }
}

TEST(SegmentTest, RejectsCapacityNotPowerOfTwo) {
  BusConfig c = small_config(unique_bus_name("cfg"));
  c.ring_capacity[2] = 100;
  expect_invalid(c, "ring_capacity[NORMAL]");
  c.ring_capacity[2] = 0;
  expect_invalid(c, "ring_capacity[NORMAL]");
}

TEST(SegmentTest, RejectsCapacityTooSmallOrTooLarge) {
  BusConfig c = small_config(unique_bus_name("cfg"));
  c.ring_capacity[0] = 32;
  expect_invalid(c, "ring_capacity[CRITICAL]");
  c.ring_capacity[0] = 1u << 25;
  expect_invalid(c, "ring_capacity[CRITICAL]");
}

TEST(SegmentTest, RejectsHistoryDepthOverHalfTheRing) {
  BusConfig c = small_config(unique_bus_name("cfg"));
  c.history_depth = 33;  // the smallest ring has 64 slots
  expect_invalid(c, "history_depth");
}

TEST(SegmentTest, AcceptsHistoryDepthOfHalfTheRing) {
  const std::string name = unique_bus_name("cfg_ok");
  SegmentGuard guard(name);
  BusConfig c = small_config(name);
  c.history_depth = 32;
  auto seg = Segment::create(c);
  EXPECT_TRUE(seg) << seg.message();
}

TEST(SegmentTest, RejectsMaxAgentsOutOfRange) {
  BusConfig c = small_config(unique_bus_name("cfg"));
  c.max_agents = 0;
  expect_invalid(c, "max_agents");
  c.max_agents = 1025;
  expect_invalid(c, "max_agents");
}

TEST(SegmentTest, RejectsOtherFieldsOutOfRange) {
  const std::string name = unique_bus_name("cfg");
  BusConfig c = small_config(name);
  c.max_topics = 8;
  expect_invalid(c, "max_topics");
  c = small_config(name);
  c.max_payload_bytes = 4;
  expect_invalid(c, "max_payload_bytes");
  c.max_payload_bytes = 65537;
  expect_invalid(c, "max_payload_bytes");
  c = small_config(name);
  c.max_barriers = 2000;
  expect_invalid(c, "max_barriers");
  c = small_config(name);
  c.max_barrier_participants = 0;
  expect_invalid(c, "max_barrier_participants");
  c = small_config(name);
  c.barrier_signal_bytes = 5000;
  expect_invalid(c, "barrier_signal_bytes");
  c = small_config(name);
  c.dead_letter_capacity = 70000;
  expect_invalid(c, "dead_letter_capacity");
  c = small_config(name);
  c.error_log_capacity = 0;
  expect_invalid(c, "error_log_capacity");
  c = small_config(name);
  c.permissions = 01777;
  expect_invalid(c, "permissions");
}

TEST(SegmentTest, RejectsBadBusNames) {
  for (const std::string& bad :
       {std::string(), std::string("a b"), std::string("a/b"), std::string("../x"),
        std::string("tab\tname"), std::string(41, 'n'), std::string("na\0me", 5)}) {
    SCOPED_TRACE("name '" + bad + "'");
    expect_invalid(small_config(bad), "bus name");
    auto opened = Segment::open(bad);
    EXPECT_EQ(opened.code(), Errc::kInvalidArgument) << opened.message();
    EXPECT_EQ(Segment::remove(bad, true).code(), Errc::kInvalidArgument);
    auto attached = Bus::attach(bad, AgentOptions{.name = "a"});
    EXPECT_EQ(attached.code(), Errc::kInvalidArgument) << attached.message();
  }
}

TEST(SegmentTest, AcceptsLongestBusName) {
  // 40 characters; our unique prefix keeps it from clashing with other runs.
  std::string name = unique_bus_name("x");
  name += std::string(40 - name.size(), 'n');
  ASSERT_EQ(name.size(), 40u);
  SegmentGuard guard(name);
  auto seg = Segment::create(small_config(name));
  EXPECT_TRUE(seg) << seg.message();
}

}  // namespace
}  // namespace shmbus::detail
