// Tests of barriers inside one process (several Bus handles, one per agent, each with its own
// liveness lock): registry, arrive outcomes, complete and timed-out rounds, late signals that
// never leak, the supervisor's enforcement, waiter takeover, dropped participants, half-closed
// rounds, status, events, and threads-only stress runs of the protocol (for TSan).
#include "shmbus/barrier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "shm/barrier_registry.hpp"
#include "shm/barrier_round.hpp"
#include "shm/barrier_table.hpp"
#include "shm/bus_access.hpp"
#include "shm/clock.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/catalog.hpp"
#include "supervisor/barrier_enforcer.hpp"
#include "testing/alloc_counter.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::scaled;
using testing::SegmentGuard;
using testing::unique_bus_name;

/// What participants send in tests: who, for which round, and a per-sender sequence.
struct TestSignal {
  std::uint32_t participant = 0;
  std::uint32_t magic = 0x5349474E;  // "SIGN"
  std::uint64_t generation = 0;
  std::uint64_t seq = 0;
};

std::span<const std::byte> bytes_of(const TestSignal& s) {
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(&s), sizeof(s));
}

TestSignal signal_of(const BarrierSignal& s) {
  TestSignal out{};
  EXPECT_EQ(s.bytes.size(), sizeof(TestSignal));
  std::memcpy(&out, s.bytes.data(), std::min(s.bytes.size(), sizeof(out)));
  return out;
}

bool status_closing(Bus& bus) {
  auto st = barrier_status(bus, "decide");
  return st && st->closing;
}

bool participant_attached(Bus& bus, std::size_t i) {
  auto st = barrier_status(bus, "decide");
  return st && st->detail.size() > i && st->detail[i].attached;
}

/// A bus with a creator agent ("cio", the waiter) and attached participant agents.
class BarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = unique_bus_name("bar");
    guard_ = std::make_unique<SegmentGuard>(name_);
    auto bus = Bus::create(shmbus::testing::barrier_bus_config(name_), AgentOptions{.name = "cio"});
    ASSERT_TRUE(bus) << bus.message();
    cio_ = std::make_unique<Bus>(std::move(bus.value()));
  }

  Bus& attach(const std::string& agent) {
    auto bus = Bus::attach(name_, AgentOptions{.name = agent});
    EXPECT_TRUE(bus) << bus.message();
    buses_.push_back(std::make_unique<Bus>(std::move(bus.value())));
    return *buses_.back();
  }

  Barrier open(Bus& bus, const std::string& barrier) {
    auto b = Barrier::open(bus, barrier);
    EXPECT_TRUE(b) << b.message();
    return std::move(b.value());
  }

  void create(const std::string& barrier, const std::vector<std::string>& participants,
              std::chrono::nanoseconds timeout) {
    auto r = create_barrier(*cio_, barrier, participants, timeout);
    ASSERT_TRUE(r) << r.message();
  }

  std::string name_;
  std::unique_ptr<SegmentGuard> guard_;
  std::unique_ptr<Bus> cio_;
  std::vector<std::unique_ptr<Bus>> buses_;
};

// ---- registry -----------------------------------------------------------------------------------

TEST_F(BarrierTest, CreateIsIdempotentForTheSameDefinition) {
  create("decide", {"s0", "s1"}, 1s);
  EXPECT_TRUE(create_barrier(*cio_, "decide", std::vector<std::string>{"s0", "s1"}, 1s));
  auto list = list_barriers(*cio_);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(BarrierTest, RejectsAnotherDefinitionOfTheSameName) {
  create("decide", {"s0", "s1"}, 1s);
  auto r = create_barrier(*cio_, "decide", std::vector<std::string>{"s0"}, 1s);
  EXPECT_EQ(r.code(), Errc::kAlreadyExists);
  r = create_barrier(*cio_, "decide", std::vector<std::string>{"s0", "s1"}, 2s);
  EXPECT_EQ(r.code(), Errc::kAlreadyExists);
}

TEST_F(BarrierTest, RejectsBadDefinitions) {
  const std::vector<std::string> none;
  EXPECT_EQ(create_barrier(*cio_, "b", none, 1s).code(), Errc::kInvalidArgument);
  EXPECT_EQ(create_barrier(*cio_, "b", std::vector<std::string>{"a", "a"}, 1s).code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(create_barrier(*cio_, "b", std::vector<std::string>{"a"}, 0s).code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(create_barrier(*cio_, "bad name", std::vector<std::string>{"a"}, 1s).code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(create_barrier(*cio_, std::string(32, 'x'), std::vector<std::string>{"a"}, 1s).code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(create_barrier(*cio_, "b", std::vector<std::string>{"bad agent"}, 1s).code(),
            Errc::kInvalidArgument);
  std::vector<std::string> nine;
  for (int i = 0; i < 9; ++i) nine.push_back("p" + std::to_string(i));
  auto r = create_barrier(*cio_, "b", nine, 1s);
  EXPECT_EQ(r.code(), Errc::kInvalidArgument);
  EXPECT_NE(r.message().find("max_barrier_participants"), std::string::npos) << r.message();
}

TEST_F(BarrierTest, ReportsCapacityExceeded) {
  for (int i = 0; i < 4; ++i) create("b" + std::to_string(i), {"s0"}, 1s);
  EXPECT_EQ(create_barrier(*cio_, "b4", std::vector<std::string>{"s0"}, 1s).code(),
            Errc::kCapacityExceeded);
  ASSERT_TRUE(remove_barrier(*cio_, "b2"));
  EXPECT_TRUE(create_barrier(*cio_, "b4", std::vector<std::string>{"s0"}, 1s));
}

TEST_F(BarrierTest, OpenOfUnknownBarrierIsNotFound) {
  EXPECT_EQ(Barrier::open(*cio_, "nope").code(), Errc::kNotFound);
  EXPECT_EQ(barrier_status(*cio_, "nope").code(), Errc::kNotFound);
}

// ---- arrive outcomes ---------------------------------------------------------------------------

TEST_F(BarrierTest, ArriveByNonParticipantSaysSo) {
  create("decide", {"s0"}, 1s);
  Barrier b = open(*cio_, "decide");
  EXPECT_FALSE(b.is_participant());
  TestSignal sig;
  EXPECT_EQ(b.arrive(bytes_of(sig)), ArriveStatus::kNotParticipant);
  EXPECT_EQ(Barrier().arrive(bytes_of(sig)), ArriveStatus::kUnknownBarrier);
}

TEST_F(BarrierTest, ArriveRejectsOversizedSignal) {
  create("decide", {"s0"}, 1s);
  Barrier b = open(attach("s0"), "decide");
  std::vector<std::byte> big(65);
  EXPECT_EQ(b.arrive(big), ArriveStatus::kTooLarge);
  std::vector<std::byte> fits(64, std::byte{7});
  EXPECT_EQ(b.arrive(fits), ArriveStatus::kAccepted);
}

TEST_F(BarrierTest, SecondArrivalInARoundKeepsTheFirstSignal) {
  create("decide", {"s0", "s1"}, 5s);
  Barrier s0 = open(attach("s0"), "decide");
  Barrier s1 = open(attach("s1"), "decide");
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  TestSignal a{0, 0x5349474E, 1, 1};
  TestSignal b{0, 0x5349474E, 1, 2};
  EXPECT_EQ(s0.arrive(bytes_of(a), 1), ArriveStatus::kAccepted);
  EXPECT_EQ(s0.arrive(bytes_of(b), 1), ArriveStatus::kAlreadyArrived);
  EXPECT_EQ(s0.arrive(bytes_of(b), 2), ArriveStatus::kNotOpen);
  EXPECT_EQ(s0.arrive(bytes_of(b)), ArriveStatus::kNotOpen);  // round() moved on to 2
  EXPECT_EQ(s1.arrive(bytes_of(TestSignal{1, 0x5349474E, 1, 1})), ArriveStatus::kAccepted);
  auto round = w.wait(1s);
  ASSERT_TRUE(round) << round.message();
  ASSERT_EQ(round->signals.size(), 2u);
  EXPECT_EQ(signal_of(round->signals[0]).seq, 1u);
}

// ---- rounds ------------------------------------------------------------------------------------

TEST_F(BarrierTest, ReturnsAllSignalsWhenTheLastParticipantArrives) {
  create("decide", {"s0", "s1", "s2"}, 10s);
  std::vector<Barrier> ps;
  for (int i = 0; i < 3; ++i) ps.push_back(open(attach("s" + std::to_string(i)), "decide"));
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  for (std::uint64_t gen = 1; gen <= 3; ++gen) {
    for (std::uint32_t i = 0; i < 3; ++i) {
      ASSERT_EQ(ps[i].round(), gen);
      EXPECT_EQ(ps[i].arrive(bytes_of(TestSignal{i, 0x5349474E, gen, gen})),
                ArriveStatus::kAccepted);
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto round = w.wait(5s);
    ASSERT_TRUE(round) << round.message();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);  // not the 10 s deadline
    EXPECT_EQ(round->generation, gen);
    EXPECT_TRUE(round->complete);
    EXPECT_TRUE(round->closed_here);
    EXPECT_TRUE(round->missing.empty());
    ASSERT_EQ(round->signals.size(), 3u);
    for (std::uint32_t i = 0; i < 3; ++i) {
      EXPECT_EQ(round->signals[i].participant, "s" + std::to_string(i));
      EXPECT_EQ(signal_of(round->signals[i]).participant, i);
      EXPECT_EQ(signal_of(round->signals[i]).generation, gen);
    }
  }
  auto st = w.status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->generation, 4u);
  EXPECT_EQ(st->completed, 3u);
  EXPECT_EQ(st->last_generation, 3u);
  EXPECT_TRUE(st->last_complete);
}

TEST_F(BarrierTest, ReturnsPartialSetAtTheDeadline) {
  create("decide", {"s0", "s1"}, 50ms);
  Barrier s0 = open(attach("s0"), "decide");
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  ASSERT_EQ(s0.arrive(bytes_of(TestSignal{0, 0x5349474E, 1, 1})), ArriveStatus::kAccepted);
  const auto t0 = std::chrono::steady_clock::now();
  auto round = w.wait(5s);
  ASSERT_TRUE(round) << round.message();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 40ms);
  EXPECT_FALSE(round->complete);
  ASSERT_EQ(round->signals.size(), 1u);
  EXPECT_EQ(round->signals[0].participant, "s0");
  EXPECT_EQ(round->missing, std::vector<std::string>{"s1"});
  EXPECT_TRUE(round->dropped.empty());  // s1 never attached: missing, not dead
  EXPECT_EQ(w.status()->timed_out, 1u);
}

TEST_F(BarrierTest, WaitWithoutArrivalsTimesOut) {
  create("decide", {"s0"}, 10ms);
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  auto round = w.wait(30ms);
  EXPECT_EQ(round.code(), Errc::kTimeout);  // the deadline runs from the first arrival
}

TEST_F(BarrierTest, LateSignalIsRejectedAndNeverLeaksIntoTheNextRound) {
  create("decide", {"s0", "s1"}, 30ms);
  Barrier s0 = open(attach("s0"), "decide");
  Barrier s1 = open(attach("s1"), "decide");
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  ASSERT_EQ(s0.arrive(bytes_of(TestSignal{0, 0x5349474E, 1, 1})), ArriveStatus::kAccepted);
  auto r1 = w.wait(5s);
  ASSERT_TRUE(r1);
  EXPECT_FALSE(r1->complete);
  // s1 computed its signal for round 1 and sends it after the deadline closed round 1.
  ASSERT_EQ(s1.round(), 1u);
  EXPECT_EQ(s1.arrive(bytes_of(TestSignal{1, 0x5349474E, 1, 999})), ArriveStatus::kLate);
  EXPECT_EQ(s1.round(), 2u);  // resynchronised to the open round
  EXPECT_EQ(w.status()->arrived, 0u);
  EXPECT_EQ(w.status()->late, 1u);
  ASSERT_EQ(s0.arrive(bytes_of(TestSignal{0, 0x5349474E, 2, 2})), ArriveStatus::kAccepted);
  ASSERT_EQ(s1.arrive(bytes_of(TestSignal{1, 0x5349474E, 2, 2})), ArriveStatus::kAccepted);
  auto r2 = w.wait(5s);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->generation, 2u);
  EXPECT_TRUE(r2->complete);
  ASSERT_EQ(r2->signals.size(), 2u);
  EXPECT_EQ(signal_of(r2->signals[1]).seq, 2u);
  EXPECT_EQ(signal_of(r2->signals[1]).generation, 2u);
}

TEST_F(BarrierTest, SupervisorClosesAtTheDeadlineWhenTheWaiterIsSlow) {
  create("decide", {"s0", "s1"}, 20ms);
  Barrier s0 = open(attach("s0"), "decide");
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  ASSERT_EQ(s0.arrive(bytes_of(TestSignal{0, 0x5349474E, 1, 1})), ArriveStatus::kAccepted);
  detail::Segment& seg = detail::BusAccess::impl(*cio_).segment();
  std::vector<detail::BarrierEnforcement> seen;
  auto sink = [&](const detail::BarrierEnforcement& e) { seen.push_back(e); };
  detail::enforce_barriers(seg, detail::monotonic_ns(), sink);  // before the deadline: nothing
  EXPECT_TRUE(seen.empty());
  detail::enforce_barriers(seg, detail::monotonic_ns() + 25'000'000, sink);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, detail::BarrierEnforcement::Kind::kRoundClosed);
  EXPECT_EQ(seen[0].generation, 1u);
  EXPECT_FALSE(seen[0].complete);
  EXPECT_EQ(seen[0].arrived_mask, 1u);
  EXPECT_EQ(seen[0].missing_mask, 2u);
  EXPECT_EQ(detail::to_timeout_event(seen[0]).missing_mask, 2u);
  EXPECT_EQ(w.status()->generation, 2u);  // status moved on without the waiter
  // The slow waiter still gets round 1, closed by someone else.
  auto r1 = w.wait(1s);
  ASSERT_TRUE(r1) << r1.message();
  EXPECT_EQ(r1->generation, 1u);
  EXPECT_FALSE(r1->closed_here);
  EXPECT_EQ(r1->skipped, 0u);
  ASSERT_EQ(r1->signals.size(), 1u);
  EXPECT_EQ(signal_of(r1->signals[0]).generation, 1u);
}

TEST_F(BarrierTest, WaiterFarBehindGetsTheLatestReadableRoundAndTheSkipCount) {
  create("decide", {"s0"}, 1ms);
  Barrier s0 = open(attach("s0"), "decide");
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  detail::Segment& seg = detail::BusAccess::impl(*cio_).segment();
  for (std::uint64_t g = 1; g <= 4; ++g) {
    // A one-participant round is all in at once; the supervisor closes it at its deadline.
    ASSERT_EQ(s0.arrive(bytes_of(TestSignal{0, 0x5349474E, g, g})), ArriveStatus::kAccepted);
    detail::enforce_barriers(seg, detail::monotonic_ns() + 10'000'000, {});
  }
  EXPECT_EQ(w.status()->generation, 5u);
  auto r = w.wait(1s);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->generation, 4u);
  EXPECT_EQ(r->skipped, 3u);
  ASSERT_EQ(r->signals.size(), 1u);
  EXPECT_EQ(signal_of(r->signals[0]).generation, 4u);
}

TEST_F(BarrierTest, HalfClosedRoundOfADeadCloserIsFinishedByTheWaiter) {
  create("decide", {"s0", "s1"}, 10s);
  Barrier s0 = open(attach("s0"), "decide");
  Barrier s1 = open(attach("s1"), "decide");
  ASSERT_EQ(s0.arrive(bytes_of(TestSignal{0, 0x5349474E, 1, 1})), ArriveStatus::kAccepted);
  // A closer seals round 1 and dies before advancing it.
  detail::BarrierTable t(detail::BusAccess::impl(*cio_).segment());
  detail::SealedRound sealed;
  ASSERT_EQ(detail::seal_round(t, 0, 1, sealed), detail::SealResult::kSealed);
  EXPECT_TRUE(status_closing(*cio_));
  EXPECT_EQ(s1.arrive(bytes_of(TestSignal{1, 0x5349474E, 1, 1})), ArriveStatus::kLate);
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  auto r = w.wait(1s);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->generation, 1u);
  EXPECT_EQ(r->missing, std::vector<std::string>{"s1"});
  EXPECT_TRUE(r->closed_here);
  EXPECT_EQ(w.status()->generation, 2u);
}

// ---- waiters and dropped participants ---------------------------------------------------------

TEST_F(BarrierTest, SecondLiveWaiterIsRefusedAndTakesOverAfterTheFirstDetaches) {
  create("decide", {"s0"}, 1s);
  Bus& other = attach("cio2");
  Barrier w2 = open(other, "decide");
  {
    Bus& first = attach("cio1");
    Barrier w1 = open(first, "decide");
    ASSERT_TRUE(w1.become_waiter());
    auto busy = w2.become_waiter();
    EXPECT_EQ(busy.code(), Errc::kBusy);
    EXPECT_NE(busy.message().find("cio1"), std::string::npos) << busy.message();
    EXPECT_EQ(w2.wait(1ms).code(), Errc::kState);
  }
  // w1 gave the role back when destroyed.
  EXPECT_TRUE(w2.become_waiter());
  EXPECT_EQ(w2.status()->waiter, "cio2");
}

TEST_F(BarrierTest, WaiterOfAGoneAgentIsTakenOver) {
  create("decide", {"s0"}, 1s);
  std::uint64_t gone_ref = 0;
  {
    auto gone = Bus::attach(name_, AgentOptions{.name = "cio1"});
    ASSERT_TRUE(gone);
    gone_ref =
        detail::make_agent_ref(gone->agent_index(), detail::BusAccess::impl(*gone).record().epoch);
  }  // its agent record is freed (as after its process died and was recovered)
  // It was registered as the waiter when it went.
  detail::BarrierTable t(detail::BusAccess::impl(*cio_).segment());
  t.header(0).waiter.store(gone_ref);
  EXPECT_FALSE(barrier_status(*cio_, "decide")->waiter_alive);
  Barrier w2 = open(attach("cio2"), "decide");
  ASSERT_TRUE(w2.become_waiter());
  EXPECT_EQ(w2.status()->waiter, "cio2");
  EXPECT_TRUE(w2.status()->waiter_alive);
}

TEST_F(BarrierTest, ParticipantWhoseAgentIsGoneIsDroppedAndRoundsCompleteWithoutIt) {
  create("decide", {"s0", "s1"}, 10s);
  Barrier s0 = open(attach("s0"), "decide");
  {
    auto s1bus = Bus::attach(name_, AgentOptions{.name = "s1"});
    ASSERT_TRUE(s1bus);
    auto s1 = Barrier::open(*s1bus, "decide");
    ASSERT_TRUE(s1);
    EXPECT_TRUE(participant_attached(*cio_, 1));
  }  // s1's agent detaches (as if its process had died)
  // As if it had died asleep in wait_open: its count must not outlive it.
  detail::BarrierTable t(detail::BusAccess::impl(*cio_).segment());
  t.participant(0, 1).open_sleeping.store(1);
  t.header(0).open_sleepers.fetch_add(1);
  std::vector<detail::BarrierEnforcement> seen;
  detail::enforce_barriers(detail::BusAccess::impl(*cio_).segment(), detail::monotonic_ns(),
                           [&](const detail::BarrierEnforcement& e) { seen.push_back(e); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, detail::BarrierEnforcement::Kind::kParticipantDropped);
  EXPECT_EQ(seen[0].participant, "s1");
  EXPECT_EQ(t.header(0).open_sleepers.load(), 0u);
  auto st = barrier_status(*cio_, "decide");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->dropped, std::vector<std::string>{"s1"});
  EXPECT_FALSE(st->detail[1].attached);
  EXPECT_EQ(st->drops, 1u);
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  ASSERT_EQ(s0.arrive(bytes_of(TestSignal{0, 0x5349474E, 1, 1})), ArriveStatus::kAccepted);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = w.wait(5s);
  ASSERT_TRUE(r) << r.message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);  // did not wait for the 10 s deadline
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(r->missing, std::vector<std::string>{"s1"});
  EXPECT_EQ(r->dropped, std::vector<std::string>{"s1"});
  // s1 comes back under the same name: no longer dropped.
  Barrier s1again = open(attach("s1"), "decide");
  EXPECT_TRUE(barrier_status(*cio_, "decide")->dropped.empty());
}

// ---- status, events, removal -------------------------------------------------------------------

TEST_F(BarrierTest, StatusIsReadableByAProcessThatIsNotAttached) {
  create("decide", {"s0", "s1"}, 10s);
  Barrier s0 = open(attach("s0"), "decide");
  ASSERT_EQ(s0.arrive(bytes_of(TestSignal{})), ArriveStatus::kAccepted);
  auto st = barrier_status(name_, "decide");
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(st->name, "decide");
  EXPECT_EQ(st->generation, 1u);
  EXPECT_EQ(st->participants, 2u);
  EXPECT_EQ(st->arrived, 1u);
  EXPECT_EQ(st->missing, std::vector<std::string>{"s1"});
  ASSERT_TRUE(st->time_left.has_value());
  EXPECT_GT(*st->time_left, 9s);
  EXPECT_LE(*st->time_left, 10s);
  EXPECT_TRUE(st->detail[0].attached);
  EXPECT_TRUE(st->detail[0].arrived);
  EXPECT_EQ(st->detail[0].accepted, 1u);
  auto all = list_barriers(name_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(barrier_status(name_, "nope").code(), Errc::kNotFound);
}

TEST_F(BarrierTest, PublishesCompletedAndTimedOutRoundsAsSystemEvents) {
  create("decide", {"s0", "s1"}, 20ms);
  Bus& watcher = attach("watcher");
  std::vector<sys::BarrierCompleted> completed;
  std::vector<sys::BarrierTimeout> timeouts;
  ASSERT_TRUE(watcher.on("sys.barrier.*", [&](const EventView& v) {
    if (v.topic_name == sys::BarrierCompleted::kTopic) {
      completed.emplace_back();
      EXPECT_TRUE(v.copy_to(completed.back()));
    } else if (v.topic_name == sys::BarrierTimeout::kTopic) {
      timeouts.emplace_back();
      EXPECT_TRUE(v.copy_to(timeouts.back()));
    }
    EXPECT_NE(v.flags & kFlagSystem, 0);
  }));
  Barrier s0 = open(attach("s0"), "decide");
  Barrier s1 = open(attach("s1"), "decide");
  Barrier w = open(*cio_, "decide");
  ASSERT_TRUE(w.become_waiter());
  ASSERT_EQ(s0.arrive(bytes_of(TestSignal{})), ArriveStatus::kAccepted);
  ASSERT_EQ(s1.arrive(bytes_of(TestSignal{})), ArriveStatus::kAccepted);
  ASSERT_TRUE(w.wait(1s));
  ASSERT_EQ(s1.arrive(bytes_of(TestSignal{})), ArriveStatus::kAccepted);
  ASSERT_TRUE(w.wait(1s));
  EXPECT_TRUE(testing::eventually(
      [&] {
        watcher.poll();
        return completed.size() == 1 && timeouts.size() == 1;
      },
      2s));
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].generation, 1u);
  EXPECT_EQ(completed[0].arrived_mask, 3u);
  EXPECT_EQ(completed[0].arrived, 2u);
  EXPECT_EQ(completed[0].participants, 2u);
  EXPECT_EQ(catalog::symbol_view(completed[0].barrier), "decide");
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].generation, 2u);
  EXPECT_EQ(timeouts[0].arrived_mask, 2u);
  EXPECT_EQ(timeouts[0].missing_mask, 1u);
  EXPECT_EQ(timeouts[0].timeout_ns, 20'000'000u);
}

TEST_F(BarrierTest, RemovedBarrierIsUnknownToOpenHandles) {
  create("decide", {"s0"}, 1s);
  Barrier s0 = open(attach("s0"), "decide");
  ASSERT_TRUE(remove_barrier(*cio_, "decide"));
  EXPECT_EQ(s0.arrive(bytes_of(TestSignal{})), ArriveStatus::kUnknownBarrier);
  EXPECT_EQ(s0.wait_open(10ms).code(), Errc::kNotFound);
  EXPECT_EQ(remove_barrier(*cio_, "decide").code(), Errc::kNotFound);
  // A new barrier in the same record starts past every generation of the old one.
  create("decide", {"s0"}, 1s);
  Barrier again = open(buses_[0] ? *buses_[0] : *cio_, "decide");
  EXPECT_GT(again.round(), 1u);
  EXPECT_EQ(again.arrive(bytes_of(TestSignal{})), ArriveStatus::kAccepted);
}

TEST_F(BarrierTest, ArriveDoesNotAllocate) {
  create("decide", {"s0"}, 1s);
  Barrier s0 = open(attach("s0"), "decide");
  TestSignal sig;
  const std::uint64_t before = testing::allocations();
  const ArriveStatus st = s0.arrive(bytes_of(sig));
  const ArriveStatus again = s0.arrive(bytes_of(sig), 1);
  EXPECT_EQ(testing::allocations(), before);
  EXPECT_EQ(st, ArriveStatus::kAccepted);
  EXPECT_EQ(again, ArriveStatus::kAlreadyArrived);
}

// The arrival's CAS and the closer's seal race on one word per round; whichever wins, the
// participant's answer and the sealed round agree (accepted <=> in the round, with its signal).
TEST_F(BarrierTest, ThreadsArriveRacingTheSealAgreeOnEveryRound) {
  create("decide", {"s0", "s1"}, 10s);
  Bus& s0bus = attach("s0");
  Barrier s0 = open(s0bus, "decide");
  detail::BarrierTable t(detail::BusAccess::impl(s0bus).segment());
  detail::ArriveContext ctx;
  ctx.header = &t.header(0);
  ctx.slot = &t.participant(0, 0);
  ctx.data[0] = t.signal_data(0, 0, 0);
  ctx.data[1] = t.signal_data(0, 0, 1);
  ctx.signal_bytes = t.signal_bytes();
  ctx.incarnation = t.header(0).incarnation.load();
  const std::uint64_t rounds = scaled(20000);
  std::atomic<std::uint64_t> go{0};
  std::atomic<std::uint64_t> done{0};
  std::vector<std::uint8_t> accepted(rounds + 1, 0);  // written by the arriver, read after join
  std::vector<std::uint8_t> in_round(rounds + 1, 0);
  std::thread arriver([&] {
    for (std::uint64_t g = 1; g <= rounds; ++g) {
      while (go.load(std::memory_order_acquire) < g) detail::cpu_relax();
      const TestSignal sig{0, 0x5349474E, g, g};
      accepted[g] =
          detail::arrive(ctx, bytes_of(sig), g, detail::monotonic_ns()) == ArriveStatus::kAccepted;
      done.store(g, std::memory_order_release);
    }
  });
  detail::BarrierTable ct(detail::BusAccess::impl(*cio_).segment());
  detail::SealedRound sealed;
  BarrierRound round;
  for (std::uint64_t g = 1; g <= rounds; ++g) {
    go.store(g, std::memory_order_release);
    // A varying head start for the arriver, so that the CAS and the seal meet at every offset.
    for (std::uint64_t spin = 0; spin < (g * 7) % 97; ++spin) detail::cpu_relax();
    ASSERT_EQ(detail::seal_round(ct, 0, g, sealed), detail::SealResult::kSealed);
    ASSERT_TRUE(detail::copy_round(ct, 0, sealed, round));
    in_round[g] = sealed.seal[0] == 0;
    if (in_round[g] != 0) {
      ASSERT_EQ(round.signals.size(), 1u);
      ASSERT_EQ(signal_of(round.signals[0]).generation, g);
    }
    ASSERT_TRUE(detail::advance_round(ct, 0, sealed, detail::monotonic_ns()));
    while (done.load(std::memory_order_acquire) < g) std::this_thread::yield();
  }
  arriver.join();
  std::uint64_t in = 0;
  for (std::uint64_t g = 1; g <= rounds; ++g) {
    EXPECT_EQ(accepted[g], in_round[g]) << "round " << g;
    in += in_round[g];
  }
  std::printf("%llu of %llu racing arrivals made it into their round\n",
              static_cast<unsigned long long>(in), static_cast<unsigned long long>(rounds));
  EXPECT_GT(in, 0u);
  EXPECT_LT(in, rounds);
}

// ---- threads-only stress (TSan sees these) ------------------------------------------------------

/// Participants on threads, each with its own Bus, arrive round after round; the waiter thread
/// checks every round. With `jitter`, participants arrive around the deadline and a concurrent
/// enforcer closes rounds too: then every accepted signal must be in exactly its round and
/// every late one in none.
void run_rounds(const std::string& bus_name, Bus& cio, std::uint32_t participants,
                std::uint64_t rounds, std::chrono::nanoseconds timeout, WaitStrategy strategy,
                bool jitter) {
  std::vector<std::string> names;
  for (std::uint32_t i = 0; i < participants; ++i) names.push_back("p" + std::to_string(i));
  ASSERT_TRUE(create_barrier(cio, "stress", names, timeout));
  std::vector<std::unique_ptr<Bus>> buses;
  std::vector<Barrier> handles;
  for (const auto& n : names) {
    auto bus = Bus::attach(bus_name, AgentOptions{.name = n});
    ASSERT_TRUE(bus) << bus.message();
    buses.push_back(std::make_unique<Bus>(std::move(bus.value())));
    auto h = Barrier::open(*buses.back(), "stress");
    ASSERT_TRUE(h);
    handles.push_back(std::move(h.value()));
  }
  auto wh = Barrier::open(cio, "stress");
  ASSERT_TRUE(wh);
  Barrier waiter = std::move(wh.value());
  ASSERT_TRUE(waiter.become_waiter());

  std::atomic<bool> stop{false};
  std::vector<std::set<std::uint64_t>> accepted(participants);
  std::vector<std::uint64_t> lates(participants, 0);
  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < participants; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937 rng(i * 7919 + 1);
      std::uint64_t seq = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        auto g = handles[i].wait_open(20ms, strategy);
        if (!g) continue;
        if (jitter) {
          const auto delay = std::chrono::microseconds(rng() % 3000);
          const auto until = std::chrono::steady_clock::now() + delay;
          while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
        }
        const TestSignal sig{i, 0x5349474E, *g, ++seq};
        const ArriveStatus st = handles[i].arrive(bytes_of(sig), *g);
        if (st == ArriveStatus::kAccepted) {
          accepted[i].insert(*g);
        } else if (st == ArriveStatus::kLate) {
          ++lates[i];
        } else {
          ADD_FAILURE() << "participant " << i << " round " << *g << ": " << arrive_status_name(st);
        }
      }
    });
  }
  std::thread enforcer;
  if (jitter) {
    enforcer = std::thread([&] {
      auto seg = detail::Segment::open(bus_name);
      ASSERT_TRUE(seg);
      while (!stop.load(std::memory_order_relaxed)) {
        detail::enforce_barriers(**seg, detail::monotonic_ns(), {});
        std::this_thread::sleep_for(200us);
      }
    });
  }
  std::map<std::uint64_t, std::vector<std::uint32_t>> seen;  // generation -> participants
  std::uint64_t prev = 0;
  std::uint64_t skipped = 0;
  std::uint64_t closed_here = 0;
  BarrierRound round;
  for (std::uint64_t n = 0; n < rounds; ++n) {
    auto r = waiter.wait(round, 20s, strategy);
    if (!r) {
      ADD_FAILURE() << r.message();
      break;
    }
    EXPECT_GT(round.generation, prev);
    skipped += round.skipped;
    closed_here += round.closed_here ? 1 : 0;
    prev = round.generation;
    if (!jitter) {
      EXPECT_TRUE(round.complete);
      EXPECT_EQ(round.signals.size(), participants);
      EXPECT_EQ(round.skipped, 0u);
    }
    auto& who = seen[round.generation];
    for (const BarrierSignal& s : round.signals) {
      const TestSignal sig = signal_of(s);
      EXPECT_EQ(sig.magic, 0x5349474Eu);
      EXPECT_EQ(sig.generation, round.generation) << "signal of another round";
      EXPECT_EQ("p" + std::to_string(sig.participant), s.participant);
      who.push_back(sig.participant);
    }
    if (::testing::Test::HasFailure()) break;
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  if (enforcer.joinable()) enforcer.join();
  // Every round the waiter saw has exactly the participants whose arrive said kAccepted.
  for (const auto& [gen, who] : seen) {
    for (std::uint32_t i = 0; i < participants; ++i) {
      const bool in_round = std::find(who.begin(), who.end(), i) != who.end();
      EXPECT_EQ(in_round, accepted[i].count(gen) == 1) << "participant " << i << " round " << gen;
    }
  }
  if (jitter) {
    std::uint64_t total_late = 0;
    std::uint64_t total_accepted = 0;
    for (auto l : lates) total_late += l;
    for (const auto& a : accepted) total_accepted += a.size();
    EXPECT_GT(total_late, 0u) << "the jitter should make some arrivals late";
    std::printf("%zu rounds checked (%llu skipped), %llu accepted, %llu late, %llu closed here\n",
                seen.size(), static_cast<unsigned long long>(skipped),
                static_cast<unsigned long long>(total_accepted),
                static_cast<unsigned long long>(total_late),
                static_cast<unsigned long long>(closed_here));
  }
}

TEST_F(BarrierTest, ThreadsBlockingRoundsAreCompleteAndExact) {
  run_rounds(name_, *cio_, 4, scaled(2000), 10s, WaitStrategy::kBlock, false);
}

TEST_F(BarrierTest, ThreadsSpinYieldRoundsAreCompleteAndExact) {
  run_rounds(name_, *cio_, 2, scaled(1000), 10s, WaitStrategy::kSpinYield, false);
}

TEST_F(BarrierTest, ThreadsArrivalsRacingTheDeadlineAreAcceptedOrLateExactly) {
  run_rounds(name_, *cio_, 3, scaled(300), 1ms, WaitStrategy::kBlock, true);
}

}  // namespace
}  // namespace shmbus
