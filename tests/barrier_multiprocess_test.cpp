// Multi-process barrier tests: participant and waiter agents are forked processes that attach by
// name. 8 participants and a waiter run 10,000 rounds (scaled) that must all be complete and
// exact; a late participant's signal never leaks; a participant killed with SIGKILL is dropped
// and rounds go on without it; a waiter killed mid-wait is replaced by a new waiter process.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shm/barrier_registry.hpp"
#include "shm/barrier_round.hpp"
#include "shm/barrier_table.hpp"
#include "shm/bus_access.hpp"
#include "shm/clock.hpp"
#include "shmbus/barrier.hpp"
#include "shmbus/bus.hpp"
#include "supervisor/barrier_enforcer.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::ReadyPipe;
using testing::scaled;
using testing::SegmentGuard;
using testing::unique_bus_name;

constexpr std::uint32_t kMagic = 0x5349474E;

struct TestSignal {
  std::uint32_t participant = 0;
  std::uint32_t magic = kMagic;
  std::uint64_t generation = 0;
  std::uint64_t check = 0;  // generation * 1000003 + participant, so torn bytes show
};

std::span<const std::byte> bytes_of(const TestSignal& s) {
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(&s), sizeof(s));
}

TestSignal make_signal(std::uint32_t p, std::uint64_t g) {
  return TestSignal{p, kMagic, g, g * 1000003 + p};
}

bool decode(const BarrierSignal& s, TestSignal& out) {
  if (s.bytes.size() != sizeof(TestSignal)) return false;
  std::memcpy(&out, s.bytes.data(), sizeof(out));
  return out.magic == kMagic && out.check == out.generation * 1000003 + out.participant;
}

std::vector<std::string> names(std::uint32_t n) {
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < n; ++i) out.push_back("s" + std::to_string(i));
  return out;
}

// Child body: attach as participant `index`, then arrive in every round until `rounds` were
// accepted (0 = until the barrier is removed). Exit code 0 when every arrival was accepted.
int participant_main(const std::string& bus_name, std::uint32_t index, std::uint64_t rounds,
                     ReadyPipe* ready) {
  auto bus = Bus::attach(bus_name, AgentOptions{.name = "s" + std::to_string(index)});
  if (!bus) return 10;
  auto b = Barrier::open(*bus, "decide");
  if (!b || !b->is_participant()) return 11;
  if (ready != nullptr) ready->signal();
  for (std::uint64_t n = 0; rounds == 0 || n < rounds; ++n) {
    auto g = b->wait_open(60s, WaitStrategy::kBlock);
    if (!g) return rounds == 0 && g.code() == Errc::kNotFound ? 0 : 12;
    const ArriveStatus st = b->arrive(bytes_of(make_signal(index, *g)));
    if (st != ArriveStatus::kAccepted && rounds != 0) return 13;
  }
  return 0;
}

// Child body: attach as waiter `agent`, take `rounds` rounds; exit code 0 when every round was
// complete, consecutive, and held exactly one signal of that round from each participant.
int waiter_main(const std::string& bus_name, const std::string& agent, std::uint32_t participants,
                std::uint64_t rounds, ReadyPipe* ready) {
  auto bus = Bus::attach(bus_name, AgentOptions{.name = agent});
  if (!bus) return 20;
  auto b = Barrier::open(*bus, "decide");
  if (!b) return 21;
  if (!b->become_waiter()) return 22;
  if (ready != nullptr) ready->signal();
  BarrierRound round;
  std::uint64_t prev = 0;
  for (std::uint64_t n = 0; n < rounds; ++n) {
    if (!b->wait(round, 60s, WaitStrategy::kBlock)) return 23;
    if (!round.complete || round.skipped != 0) return 24;
    if (prev != 0 && round.generation != prev + 1) return 25;
    prev = round.generation;
    if (round.signals.size() != participants) return 26;
    for (std::uint32_t i = 0; i < participants; ++i) {
      TestSignal sig;
      if (!decode(round.signals[i], sig)) return 27;
      if (sig.generation != round.generation) return 28;  // a signal of another round
      if (sig.participant != i || round.signals[i].index != i) return 29;
    }
  }
  return 0;
}

class BarrierMultiprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = unique_bus_name("barmp");
    guard_ = std::make_unique<SegmentGuard>(name_);
    auto bus =
        Bus::create(shmbus::testing::barrier_bus_config(name_), AgentOptions{.name = "parent"});
    ASSERT_TRUE(bus) << bus.message();
    parent_ = std::make_unique<Bus>(std::move(bus.value()));
  }

  std::string name_;
  std::unique_ptr<SegmentGuard> guard_;
  std::unique_ptr<Bus> parent_;
};

TEST_F(BarrierMultiprocessTest, EightParticipantsAndAWaiterRunTenThousandExactRounds) {
  const std::uint64_t rounds = scaled(10'000);
  ASSERT_TRUE(create_barrier(*parent_, "decide", names(8), 30s));
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Child> children;
  children.push_back(Child::fork([&] { return waiter_main(name_, "cio", 8, rounds, nullptr); }));
  for (std::uint32_t i = 0; i < 8; ++i) {
    children.push_back(Child::fork([&, i] { return participant_main(name_, i, rounds, nullptr); }));
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    EXPECT_EQ(children[i].wait(300s), 0)
        << (i == 0 ? "waiter" : "participant " + std::to_string(i - 1));
  }
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  auto st = barrier_status(*parent_, "decide");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->completed, rounds);
  EXPECT_EQ(st->timed_out, 0u);
  EXPECT_EQ(st->late, 0u);
  EXPECT_EQ(st->generation, rounds + 1);
  std::printf(
      "%llu rounds of 8 participants across 9 processes in %.2f s (%.1f us/round)\n",
      static_cast<unsigned long long>(rounds), std::chrono::duration<double>(elapsed).count(),
      std::chrono::duration<double, std::micro>(elapsed).count() / static_cast<double>(rounds));
}

TEST_F(BarrierMultiprocessTest, ParticipantArrivingAfterTheDeadlineIsLateAndDoesNotLeak) {
  ASSERT_TRUE(create_barrier(*parent_, "decide", names(2), 100ms));
  auto w = Barrier::open(*parent_, "decide");
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->become_waiter());
  ReadyPipe opened;
  // s1 opens its handle for round 1, but only sends its round-1 signal once round 1 has closed
  // at its deadline; then it sends a fresh one for round 2.
  Child late = Child::fork([&]() -> int {
    auto bus = Bus::attach(name_, AgentOptions{.name = "s1"});
    if (!bus) return 10;
    auto b = Barrier::open(*bus, "decide");
    if (!b || b->round() != 1) return 11;
    opened.signal();
    const bool closed = testing::eventually(
        [&] {
          auto st = barrier_status(*bus, "decide");
          return st && st->generation >= 2;
        },
        10s);
    if (!closed) return 12;
    if (b->arrive(bytes_of(make_signal(1, 1))) != ArriveStatus::kLate) return 13;
    if (b->round() != 2) return 14;
    if (b->arrive(bytes_of(make_signal(1, 2))) != ArriveStatus::kAccepted) return 15;
    return 0;
  });
  ASSERT_TRUE(opened.wait(1, 10s));
  Child early = Child::fork([&] { return participant_main(name_, 0, 2, nullptr); });
  auto r1 = w->wait(10s);
  ASSERT_TRUE(r1) << r1.message();
  EXPECT_EQ(r1->generation, 1u);
  EXPECT_FALSE(r1->complete);
  EXPECT_EQ(r1->missing, std::vector<std::string>{"s1"});
  auto r2 = w->wait(10s);
  ASSERT_TRUE(r2) << r2.message();
  EXPECT_EQ(r2->generation, 2u);
  EXPECT_TRUE(r2->complete);
  ASSERT_EQ(r2->signals.size(), 2u);
  for (const BarrierSignal& s : r2->signals) {
    TestSignal sig;
    ASSERT_TRUE(decode(s, sig));
    EXPECT_EQ(sig.generation, 2u) << s.participant << " leaked a signal of round "
                                  << sig.generation;
  }
  EXPECT_EQ(late.wait(10s), 0);
  EXPECT_EQ(early.wait(10s), 0);
  EXPECT_EQ(barrier_status(*parent_, "decide")->late, 1u);
}

TEST_F(BarrierMultiprocessTest, KilledParticipantIsDroppedAndRoundsCompleteWithoutIt) {
  ASSERT_TRUE(create_barrier(*parent_, "decide", names(3), 2s));
  auto w = Barrier::open(*parent_, "decide");
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->become_waiter());
  ReadyPipe ready;
  std::vector<Child> ps;
  for (std::uint32_t i = 0; i < 3; ++i) {
    ps.push_back(Child::fork([&, i] { return participant_main(name_, i, 0, &ready); }));
  }
  ASSERT_TRUE(ready.wait(3, 10s));
  BarrierRound round;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(w->wait(round, 10s)) << "round " << i;
    EXPECT_TRUE(round.complete);
    EXPECT_EQ(round.signals.size(), 3u);
  }
  ps[2].kill(SIGKILL);
  ASSERT_EQ(ps[2].wait(10s), 128 + SIGKILL);
  // Only this process closes rounds here, so the open round is the last s2 can be in (it may
  // have arrived in it before it died).
  const std::uint64_t open_at_kill = barrier_status(*parent_, "decide")->generation;
  // Rounds go on without s2: at the deadline, or as soon as the other two arrive once it is
  // dropped (the waiter checks liveness while it waits).
  bool dropped_seen = false;
  for (int i = 0; i < 10; ++i) {
    auto r = w->wait(round, 10s);
    ASSERT_TRUE(r) << r.message();
    for (const BarrierSignal& s : round.signals) {
      if (round.generation > open_at_kill) {
        EXPECT_NE(s.participant, "s2");
      }
    }
    if (!round.dropped.empty()) {
      dropped_seen = true;
      EXPECT_EQ(round.dropped, std::vector<std::string>{"s2"});
      EXPECT_EQ(round.missing, std::vector<std::string>{"s2"});
      EXPECT_TRUE(round.complete);  // complete: every live participant arrived
      EXPECT_EQ(round.signals.size(), 2u);
    }
  }
  EXPECT_TRUE(dropped_seen);
  auto st = barrier_status(*parent_, "decide");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->dropped, std::vector<std::string>{"s2"});
  EXPECT_FALSE(st->detail[2].attached);
  EXPECT_TRUE(st->detail[0].attached);
  EXPECT_EQ(st->drops, 1u);
  // Once it is dropped, rounds do not wait for the (2 s) deadline.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(w->wait(round, 10s));
  EXPECT_TRUE(round.complete);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  ASSERT_TRUE(remove_barrier(*parent_, "decide"));
  EXPECT_EQ(ps[0].wait(10s), 0);
  EXPECT_EQ(ps[1].wait(10s), 0);
}

TEST_F(BarrierMultiprocessTest, SupervisorPassDropsAKilledParticipantAndClosesOverdueRounds) {
  ASSERT_TRUE(create_barrier(*parent_, "decide", names(2), 50ms));
  ReadyPipe ready;
  Child p0 = Child::fork([&] { return participant_main(name_, 0, 0, &ready); });
  // s1 joins (binds its slot) but never arrives before it is killed.
  Child p1 = Child::fork([&]() -> int {
    auto bus = Bus::attach(name_, AgentOptions{.name = "s1"});
    if (!bus) return 10;
    auto b = Barrier::open(*bus, "decide");
    if (!b) return 11;
    ready.signal();
    for (;;) ::pause();
  });
  ASSERT_TRUE(ready.wait(2, 10s));
  p1.kill(SIGKILL);
  ASSERT_EQ(p1.wait(10s), 128 + SIGKILL);
  // No waiter at all: the supervisor's pass alone drops s1 and closes round 1 at its deadline.
  auto seg = detail::Segment::open(name_);
  ASSERT_TRUE(seg);
  std::vector<detail::BarrierEnforcement> seen;
  ASSERT_TRUE(testing::eventually(
      [&] {
        detail::enforce_barriers(**seg, detail::monotonic_ns(),
                                 [&](const detail::BarrierEnforcement& e) { seen.push_back(e); });
        return seen.size() >= 2;
      },
      10s));
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, detail::BarrierEnforcement::Kind::kParticipantDropped);
  EXPECT_EQ(seen[0].participant, "s1");
  EXPECT_EQ(seen[1].kind, detail::BarrierEnforcement::Kind::kRoundClosed);
  EXPECT_EQ(seen[1].generation, 1u);
  EXPECT_TRUE(seen[1].complete);  // s0 arrived, s1 dropped
  EXPECT_EQ(seen[1].arrived_mask, 1u);
  EXPECT_GE(barrier_status(*parent_, "decide")->generation, 2u);
  ASSERT_TRUE(remove_barrier(*parent_, "decide"));
  EXPECT_EQ(p0.wait(10s), 0);
}

TEST_F(BarrierMultiprocessTest, WaiterKilledMidWaitIsReplacedAndTheNextRoundCompletes) {
  // Participants: s0 (a child that arrives every round) and s1 (this process, by hand).
  ASSERT_TRUE(create_barrier(*parent_, "decide", std::vector<std::string>{"s0", "parent"}, 30s));
  ReadyPipe ready;
  Child first = Child::fork([&]() -> int {
    auto bus = Bus::attach(name_, AgentOptions{.name = "cio1"});
    if (!bus) return 20;
    auto b = Barrier::open(*bus, "decide");
    if (!b || !b->become_waiter()) return 21;
    ready.signal();
    (void)b->wait(60s);  // killed in here
    return 22;
  });
  ASSERT_TRUE(ready.wait(1, 10s));
  Child s0 = Child::fork([&] { return participant_main(name_, 0, 0, nullptr); });
  auto me = Barrier::open(*parent_, "decide");
  ASSERT_TRUE(me);
  ASSERT_TRUE(me->is_participant());
  // Round 1 is half in (s0 arrived, we did not): the first waiter sleeps in wait().
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto st = barrier_status(*parent_, "decide");
        return st && st->arrived == 1 && st->waiter == "cio1";
      },
      10s));
  first.kill(SIGKILL);
  ASSERT_EQ(first.wait(10s), 128 + SIGKILL);
  EXPECT_FALSE(barrier_status(*parent_, "decide")->waiter_alive);
  ReadyPipe second_ready;
  Child second = Child::fork([&]() -> int {
    auto bus = Bus::attach(name_, AgentOptions{.name = "cio2"});
    if (!bus) return 30;
    auto b = Barrier::open(*bus, "decide");
    if (!b) return 31;
    if (!b->become_waiter()) return 32;  // takes over from the dead cio1
    second_ready.signal();
    auto r = b->wait(20s);
    if (!r) return 33;
    if (r->generation != 1 || !r->complete || r->signals.size() != 2) return 34;
    auto r2 = b->wait(20s);  // and the round after it
    if (!r2 || r2->generation != 2 || !r2->complete) return 35;
    return 0;
  });
  ASSERT_TRUE(second_ready.wait(1, 10s));
  EXPECT_EQ(barrier_status(*parent_, "decide")->waiter, "cio2");
  EXPECT_EQ(me->arrive(bytes_of(make_signal(1, 1))), ArriveStatus::kAccepted);
  auto g2 = me->wait_open(10s);
  ASSERT_TRUE(g2) << g2.message();
  EXPECT_EQ(*g2, 2u);
  EXPECT_EQ(me->arrive(bytes_of(make_signal(1, 2))), ArriveStatus::kAccepted);
  EXPECT_EQ(second.wait(30s), 0);
  ASSERT_TRUE(remove_barrier(*parent_, "decide"));
  EXPECT_EQ(s0.wait(10s), 0);
}

}  // namespace
}  // namespace shmbus
