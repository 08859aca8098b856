// shmbus-chaos: a supervisor, killable producers, subscribers, a steady producer and a barrier
// (a waiter and two participants) on one bus, each its own process, while a driver SIGKILLs
// and SIGSTOPs them at random (the supervisor too) and starts them again. At the end it checks what the bus promises and exits 1 if any
// check fails:
//   - every publish that returned kOk reached each permanent subscriber exactly once, in its
//     producer's order, intact (no loss, no duplicate, no reorder, no torn payload);
//   - a restarted (transient) subscriber saw no duplicate, hole or reorder after its first
//     event of each producer;
//   - no subscriber stayed stuck behind a claim (cursor below the tail, not moving, while not
//     stopped) longer than --stuck-limit-ms;
//   - the supervisor recovered every dead agent record, and the bus ends HEALTHY;
//   - barrier rounds kept closing while participants died (no gap past --stuck-limit-ms).
// --claim-delay-us widens the producers' claim -> commit window (a random sleep between
// filling a claim and committing it), so kills land inside it and the repair path (padding,
// quarantine, aborted commits) runs hundreds of times. Used by tests/chaos_test.cpp (short run,
// ctest label "chaos") and for the long runs recorded in RELIABILITY.md.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "chaos_agents.hpp"
#include "shmbus/inspect.hpp"

namespace {

using namespace shmbus;
using namespace shmbus::chaos;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Options {
  std::uint64_t kills = 100;  // stop after this many SIGKILLs...
  double max_seconds = 60;    // ...or this long, whichever comes first
  int producers = 3;
  int claim_delay_us = 0;
  bool kill_supervisor = true;
  bool stops = true;
  std::uint64_t stuck_limit_ms = 2000;
  unsigned seed = 0;
  bool inject_loss = false;  // self-test: sub0 drops one event, so the check must fail
  int max_gap_ms = 6;        // between two actions: uniform in [0.5 ms, max_gap_ms]
  bool verbose = false;      // the supervisor's info logs (else warnings and errors only)
};

struct Proc {
  pid_t pid = -1;
  bool stopped = false;
  Clock::time_point resume_at{};
  bool running() const { return pid > 0; }
};

// ---- the driver ----------------------------------------------------------------------------

struct Counts {
  std::uint64_t producer_kills = 0;
  std::uint64_t voter_kills = 0;  // barrier participants
  std::uint64_t producer_kills_in_claim = 0;
  std::uint64_t producer_kills_attaching = 0;
  std::uint64_t subscriber_kills = 0;
  std::uint64_t supervisor_kills = 0;
  std::uint64_t producer_stops = 0;
  std::uint64_t subscriber_stops = 0;
  std::uint64_t respawn_failures = 0;  // a process that exited on its own (e.g. attach failed)
  std::uint64_t kills() const {
    return producer_kills + voter_kills + subscriber_kills + supervisor_kills;
  }
};

class Driver {
 public:
  Driver(const Options& o, Ledger& ledger, std::string bus)
      : o_(o), ledger_(ledger), bus_(std::move(bus)), rng_(o.seed) {
    sc_.bus.name = bus_;
    sc_.bus.ring_capacity = {1024, 1024, 1024, 1024};
    sc_.bus.history_depth = 0;
    sc_.bus.max_agents = 32;
    sc_.bus.max_topics = 64;
    sc_.check_period = 5ms;
    sc_.unblock_timeout = 40ms;
    sc_.slow_subscribers.untether = false;  // a live subscriber must get every event
    sc_.slow_subscribers.stall_timeout = 10s;
    sc_.health.check_pid = true;
  }

  int run();

 private:
  void start_supervisor() {
    supervisor_.pid = spawn([this] { return run_supervisor(sc_); });
  }
  void start_producer(std::size_t slot);
  void start_transient() {
    new (&ledger_.subs[kTransientSub]) SubResult();
    subs_[kTransientSub].pid =
        spawn([this] { return run_subscriber(bus_, kTransientSub, true, false, ledger_); });
  }
  bool wait_for_bus();
  void act();
  void resume_due();
  void reap_unexpected();
  void sample();
  bool finish();

  Options o_;
  Ledger& ledger_;
  std::string bus_;
  std::mt19937 rng_;
  SupervisorConfig sc_;
  Proc supervisor_;
  Proc subs_[kSubs];
  Proc steady_;
  Proc waiter_;
  Proc voters_[kVoters];
  std::vector<Proc> producers_;
  std::vector<std::uint32_t> producer_source_;
  std::vector<bool> killed_;  // per source: its incarnation was killed
  std::uint32_t incarnations_ = 0;
  Counts n_;
  Clock::time_point last_supervisor_kill_{};
  // Stuck watch on the permanent subscribers (cursor below the tail, not moving).
  std::uint64_t last_pos_[kPermanentSubs][kPriorityCount] = {};
  Clock::time_point since_[kPermanentSubs][kPriorityCount];
  Clock::duration worst_stuck_{0};
  std::uint64_t worst_round_gap_ns_ = 0;  // the barrier waiter without a round
  std::vector<std::string> failures_;
};

void Driver::start_producer(std::size_t slot) {
  if (incarnations_ >= kSteadySource) return;  // sources exhausted: the slot stays empty
  const std::uint32_t source = incarnations_++;
  const Priority prio = (source % 2) == 0 ? Priority::kNormal : Priority::kHigh;
  const bool in_place = (source / 2) % 2 == 1;  // half publish(), half claim/commit
  const int delay = o_.claim_delay_us;
  producer_source_[slot] = source;
  producers_[slot] = Proc{};
  producers_[slot].pid = spawn([this, slot, source, prio, in_place, delay] {
    return run_producer(bus_, "kp" + std::to_string(slot), source, prio, in_place, delay, ledger_);
  });
}

bool Driver::wait_for_bus() {
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    auto s = inspect_bus(bus_);
    if (s && s->supervisor_alive) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// One random action: SIGKILL or SIGSTOP a random victim, by weight.
void Driver::act() {
  std::uniform_int_distribution<int> pick(0, 99);
  const int roll = pick(rng_);
  const auto now = Clock::now();
  if (roll >= 54 && roll < 62) {  // kill a barrier participant
    Proc& v = voters_[rng_() % kVoters];
    if (!v.running()) return;
    ::kill(v.pid, SIGKILL);
    reap(v.pid);
    ++n_.voter_kills;
    const int i = static_cast<int>(&v - voters_);
    v.pid = spawn([this, i] { return run_voter(bus_, i, ledger_); });
  } else if (roll < 62) {  // kill a producer
    const std::size_t slot = static_cast<std::size_t>(rng_() % producers_.size());
    Proc& p = producers_[slot];
    if (!p.running()) return;
    const std::uint32_t source = producer_source_[slot];
    ::kill(p.pid, SIGKILL);
    reap(p.pid);
    ++n_.producer_kills;
    killed_[source] = true;
    if (ledger_.in_claim[source].load()) ++n_.producer_kills_in_claim;
    if (!ledger_.attached[source].load()) ++n_.producer_kills_attaching;
    start_producer(slot);
  } else if (roll < 72 && o_.stops) {  // pause a producer (maybe inside its claim)
    const std::size_t slot = static_cast<std::size_t>(rng_() % producers_.size());
    Proc& p = producers_[slot];
    if (!p.running() || p.stopped) return;
    ::kill(p.pid, SIGSTOP);
    p.stopped = true;
    p.resume_at = now + std::chrono::milliseconds(10 + rng_() % 200);
    ++n_.producer_stops;
  } else if (roll < 82 && o_.stops) {  // pause a permanent subscriber
    Proc& s = subs_[rng_() % kPermanentSubs];
    if (!s.running() || s.stopped) return;
    ::kill(s.pid, SIGSTOP);
    s.stopped = true;
    s.resume_at = now + std::chrono::milliseconds(10 + rng_() % 150);
    ++n_.subscriber_stops;
  } else if (roll < 92) {  // kill the transient subscriber
    Proc& s = subs_[kTransientSub];
    if (!s.running()) return;
    ::kill(s.pid, SIGKILL);
    reap(s.pid);
    ++n_.subscriber_kills;
    // Its result block is read at the end only for the last incarnation: check this one now.
    if (ledger_.subs[kTransientSub].order_errors.load() != 0 ||
        ledger_.subs[kTransientSub].torn.load() != 0) {
      failures_.push_back("a transient subscriber saw a duplicate, hole, reorder or torn event");
    }
    start_transient();
  } else if (o_.kill_supervisor && now - last_supervisor_kill_ > 250ms) {
    ::kill(supervisor_.pid, SIGKILL);
    reap(supervisor_.pid);
    ++n_.supervisor_kills;
    last_supervisor_kill_ = now;
    start_supervisor();
  }
}

void Driver::resume_due() {
  const auto now = Clock::now();
  auto resume = [&](Proc& p) {
    if (p.running() && p.stopped && now >= p.resume_at) {
      ::kill(p.pid, SIGCONT);
      p.stopped = false;
    }
  };
  for (Proc& p : producers_) resume(p);
  for (Proc& s : subs_) resume(s);
}

// A process that exited by itself: restart it (and count it; the permanent ones may not).
void Driver::reap_unexpected() {
  int code = 0;
  for (std::size_t i = 0; i < producers_.size(); ++i) {
    if (producers_[i].running() && exited(producers_[i].pid, code)) {
      ++n_.respawn_failures;
      start_producer(i);
    }
  }
  if (subs_[kTransientSub].running() && exited(subs_[kTransientSub].pid, code)) {
    ++n_.respawn_failures;
    start_transient();
  }
  for (int i = 0; i < kVoters; ++i) {
    if (voters_[i].running() && exited(voters_[i].pid, code)) {
      ++n_.respawn_failures;
      voters_[i].pid = spawn([this, i] { return run_voter(bus_, i, ledger_); });
    }
  }
  if (waiter_.running() && exited(waiter_.pid, code)) {
    waiter_.pid = -1;
    failures_.push_back("the barrier waiter exited early (" + std::to_string(code) + ")");
  }
  if (supervisor_.running() && exited(supervisor_.pid, code)) {
    ++n_.respawn_failures;
    start_supervisor();
  }
  for (int i = 0; i < kPermanentSubs; ++i) {
    if (subs_[i].running() && exited(subs_[i].pid, code)) {
      subs_[i].pid = -1;
      failures_.push_back("permanent subscriber sub" + std::to_string(i) + " exited early (" +
                          std::to_string(code) + ")");
    }
  }
}

void Driver::sample() {
  if (waiter_.running()) {
    const std::uint64_t now_ns = steady_ns();
    const std::uint64_t last = ledger_.last_round_ns.load();  // 0 until the waiter is set up
    if (last != 0 && now_ns > last)
      worst_round_gap_ns_ = std::max(worst_round_gap_ns_, now_ns - last);
  }
  auto snap = inspect_bus(bus_);
  if (!snap) return;
  const auto now = Clock::now();
  for (int s = 0; s < kPermanentSubs; ++s) {
    const std::string name = "sub" + std::to_string(s);
    for (const AgentSnapshot& a : snap->agents) {
      if (a.name != name) continue;
      for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
        const std::uint64_t pos = a.cursor[r];
        if (subs_[s].stopped || pos >= snap->rings[r].tail || pos != last_pos_[s][r]) {
          last_pos_[s][r] = pos;
          since_[s][r] = now;
        } else {
          worst_stuck_ = std::max(worst_stuck_, now - since_[s][r]);
        }
      }
    }
  }
}

std::uint64_t ms(Clock::duration d) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

int Driver::run() {
  producers_.resize(static_cast<std::size_t>(o_.producers));
  producer_source_.resize(producers_.size());
  killed_.assign(kMaxSources, false);
  for (auto& row : since_) std::fill(std::begin(row), std::end(row), Clock::now());
  start_supervisor();
  if (!wait_for_bus()) {
    std::fprintf(stderr, "chaos: the supervisor did not create bus %s\n", bus_.c_str());
    return 2;
  }
  for (int i = 0; i < kPermanentSubs; ++i) {
    subs_[i].pid = spawn(
        [this, i] { return run_subscriber(bus_, i, false, o_.inject_loss && i == 0, ledger_); });
  }
  // Producers start once the permanent subscribers read: everything they publish is checked.
  const auto attach_deadline = Clock::now() + 10s;
  for (;;) {
    auto snap = inspect_bus(bus_);
    int reading = 0;
    if (snap) {
      for (const AgentSnapshot& a : snap->agents) {
        if ((a.name == "sub0" || a.name == "sub1") && a.reading_mask != 0) ++reading;
      }
    }
    if (reading == kPermanentSubs) break;
    if (Clock::now() > attach_deadline) {
      std::fprintf(stderr, "chaos: subscribers did not attach\n");
      return 2;
    }
    std::this_thread::sleep_for(5ms);
  }
  start_transient();
  waiter_.pid = spawn([this] { return run_waiter(bus_, ledger_); });
  for (int i = 0; i < kVoters; ++i) {
    voters_[i].pid = spawn([this, i] { return run_voter(bus_, i, ledger_); });
  }
  steady_.pid = spawn([this] {
    return run_producer(bus_, "steady", kSteadySource, Priority::kNormal, false, 0, ledger_);
  });
  for (std::size_t i = 0; i < producers_.size(); ++i) start_producer(i);

  const auto started = Clock::now();
  const auto end =
      started + std::chrono::milliseconds(static_cast<std::int64_t>(o_.max_seconds * 1000));
  std::uniform_int_distribution<int> gap_us(500, std::max(1000, o_.max_gap_ms * 1000));
  auto next_act = Clock::now() + 20ms;
  auto next_sample = Clock::now();
  // The self-test needs its dropped event (the steady producer's second) to have a successor.
  auto more_for_self_test = [&] {
    return o_.inject_loss && ledger_.last_ok[kSteadySource].load() < 3;
  };
  while ((n_.kills() < o_.kills || more_for_self_test()) && Clock::now() < end) {
    const auto now = Clock::now();
    if (now >= next_act) {
      act();
      next_act = Clock::now() + std::chrono::microseconds(gap_us(rng_));
    }
    if (now >= next_sample) {
      sample();
      next_sample = Clock::now() + 20ms;
    }
    resume_due();
    reap_unexpected();
    std::this_thread::sleep_for(300us);
  }
  const auto kill_phase = Clock::now() - started;
  const bool ok = finish();
  const std::uint64_t committed = [&] {
    std::uint64_t c = ledger_.last_ok[kSteadySource].load();
    for (std::uint32_t s = 0; s < incarnations_; ++s) c += ledger_.last_ok[s].load();
    return c;
  }();
  std::printf(
      "chaos: seed %u, %.1f s of chaos, kills %llu (producers %llu, of which %llu holding a "
      "claimed slot and %llu while attaching; subscribers %llu; supervisor %llu), stops "
      "%llu (producers %llu, subscribers %llu), producer incarnations %u, events acknowledged "
      "%llu, aborted commits %llu, self-exits %llu, worst stuck %llu ms; barrier: voter kills "
      "%llu, rounds %llu (%llu complete), arrivals %llu, waiter errors %llu, worst gap between "
      "rounds %llu ms\n",
      o_.seed, static_cast<double>(ms(kill_phase)) / 1000.0,
      static_cast<unsigned long long>(n_.kills()),
      static_cast<unsigned long long>(n_.producer_kills),
      static_cast<unsigned long long>(n_.producer_kills_in_claim),
      static_cast<unsigned long long>(n_.producer_kills_attaching),
      static_cast<unsigned long long>(n_.subscriber_kills),
      static_cast<unsigned long long>(n_.supervisor_kills),
      static_cast<unsigned long long>(n_.producer_stops + n_.subscriber_stops),
      static_cast<unsigned long long>(n_.producer_stops),
      static_cast<unsigned long long>(n_.subscriber_stops), incarnations_,
      static_cast<unsigned long long>(committed),
      static_cast<unsigned long long>(ledger_.aborted.load()),
      static_cast<unsigned long long>(n_.respawn_failures),
      static_cast<unsigned long long>(ms(worst_stuck_)),
      static_cast<unsigned long long>(n_.voter_kills),
      static_cast<unsigned long long>(ledger_.rounds.load()),
      static_cast<unsigned long long>(ledger_.rounds_complete.load()),
      static_cast<unsigned long long>(ledger_.arrivals.load()),
      static_cast<unsigned long long>(ledger_.waiter_errors.load()),
      static_cast<unsigned long long>(worst_round_gap_ns_ / 1'000'000));
  for (const std::string& f : failures_) std::printf("chaos: FAIL %s\n", f.c_str());
  std::printf("chaos: %s\n", ok && failures_.empty() ? "PASS" : "FAIL");
  return ok && failures_.empty() ? 0 : 1;
}

// Ends the chaos, drains with end markers, and checks the invariants. False on a failure.
bool Driver::finish() {
  for (Proc& p : producers_) {
    if (p.stopped) ::kill(p.pid, SIGCONT);
    if (p.running()) {
      ::kill(p.pid, SIGKILL);
      reap(p.pid);
      p.pid = -1;
    }
  }
  for (std::uint32_t s = 0; s < incarnations_; ++s) killed_[s] = true;  // all ended by SIGKILL
  for (Proc& s : subs_) {
    if (s.stopped) ::kill(s.pid, SIGCONT);
    s.stopped = false;
  }
  Proc& transient = subs_[kTransientSub];
  if (transient.running()) {
    ::kill(transient.pid, SIGKILL);
    reap(transient.pid);
    transient.pid = -1;
  }
  if (ledger_.subs[kTransientSub].order_errors.load() != 0 ||
      ledger_.subs[kTransientSub].torn.load() != 0) {
    failures_.push_back("a transient subscriber saw a duplicate, hole, reorder or torn event");
  }
  int code = 0;
  if (!supervisor_.running() || exited(supervisor_.pid, code)) start_supervisor();
  ledger_.stop_steady.store(true);
  // The barrier: rounds kept closing while its participants were killed; the waiter stops.
  for (Proc& v : voters_) {
    if (v.running()) {
      ::kill(v.pid, SIGKILL);
      reap(v.pid);
      v.pid = -1;
    }
  }
  ledger_.stop_barrier.store(true);
  if (waiter_.running()) {
    const int rc = wait_exit(waiter_.pid, 10s);
    if (rc != 0) {
      failures_.push_back("the barrier waiter " + (rc == -1 ? std::string("did not stop")
                                                            : "exited " + std::to_string(rc)));
      if (rc == -1) {
        ::kill(waiter_.pid, SIGKILL);
        reap(waiter_.pid);
      }
    }
    waiter_.pid = -1;
  }
  if (ledger_.rounds.load() == 0) failures_.push_back("no barrier round closed");
  if (worst_round_gap_ns_ / 1'000'000 > o_.stuck_limit_ms) {
    failures_.push_back("the barrier waiter got no round for " +
                        std::to_string(worst_round_gap_ns_ / 1'000'000) + " ms");
  }
  if (wait_exit(steady_.pid, 30s) != 0) failures_.push_back("the steady producer did not finish");

  // End markers behind everything, on both rings used: the permanent subscribers stop once
  // they pass them (so every stuck slot before them was closed).
  {
    auto ender = Bus::attach(bus_, agent_options("ender"));
    if (!ender) {
      failures_.push_back("attach ender: " + ender.message());
      return false;
    }
    auto end_topic = ender->register_topic("ch.end", 0);
    if (!end_topic) return false;
    for (Priority p : {Priority::kHigh, Priority::kNormal}) {
      // A flooded ring may still be at CRITICAL: NORMAL is shed until the supervisor sees it
      // drain (kShed is an outcome to retry).
      const auto deadline = Clock::now() + 30s;
      PublishStatus st = PublishStatus::kShed;
      while ((st = ender->publish(*end_topic, "", 0, p)) != PublishStatus::kOk &&
             Clock::now() < deadline) {
        std::this_thread::sleep_for(2ms);
      }
      if (st != PublishStatus::kOk) {
        failures_.push_back("end marker on " + std::string(priority_name(p)) + ": " +
                            std::string(publish_status_name(st)));
      }
    }
  }
  for (int i = 0; i < kPermanentSubs; ++i) {
    if (!subs_[i].running()) continue;
    const auto deadline = Clock::now() + 60s;
    int rc = -1;
    while ((rc = wait_exit(subs_[i].pid, 20ms)) == -1 && Clock::now() < deadline) sample();
    if (rc != 0) {
      failures_.push_back("sub" + std::to_string(i) + " never reached the end markers");
      if (rc == -1) {
        ::kill(subs_[i].pid, SIGKILL);
        reap(subs_[i].pid);
      }
    }
    subs_[i].pid = -1;
  }

  // Exactly once, in order, intact, for every permanent subscriber.
  for (int i = 0; i < kPermanentSubs; ++i) {
    const SubResult& res = ledger_.subs[i];
    const std::string who = "sub" + std::to_string(i);
    if (res.order_errors.load() != 0) {
      failures_.push_back(who + ": " + std::to_string(res.order_errors.load()) +
                          " duplicates, holes or reorders");
    }
    if (res.torn.load() != 0) {
      failures_.push_back(who + ": " + std::to_string(res.torn.load()) + " torn events");
    }
    std::uint64_t lost = 0;
    for (std::uint32_t s = 0; s < incarnations_; ++s) {
      const std::uint64_t ok = ledger_.last_ok[s].load();
      const std::uint64_t got = res.last[s].load();
      // One more than acknowledged may have committed just before a kill took its producer
      // between the commit and the ledger.
      if (got < ok) lost += ok - got;
      if (got > ok + 1 || (got == ok + 1 && !killed_[s])) {
        failures_.push_back(who + " source " + std::to_string(s) + ": delivered " +
                            std::to_string(got) + " past acknowledged " + std::to_string(ok));
      }
    }
    const std::uint64_t steady_ok = ledger_.last_ok[kSteadySource].load();
    const std::uint64_t steady_got = res.last[kSteadySource].load();
    if (steady_got < steady_ok) lost += steady_ok - steady_got;
    if (steady_got > steady_ok) failures_.push_back(who + ": steady events past acknowledged");
    if (lost != 0)
      failures_.push_back(who + ": " + std::to_string(lost) + " acknowledged events lost");
  }
  if (worst_stuck_ > std::chrono::milliseconds(o_.stuck_limit_ms)) {
    failures_.push_back("a subscriber was stuck for " + std::to_string(ms(worst_stuck_)) + " ms");
  }

  // The supervisor recovered every dead record and the bus is healthy again.
  const auto deadline = Clock::now() + 15s;
  std::string state;
  bool recovered = false;
  while (Clock::now() < deadline) {
    auto snap = inspect_bus(bus_);
    if (snap) {
      std::uint32_t dead = 0;
      for (const AgentSnapshot& a : snap->agents) dead += a.alive ? 0 : 1;
      state = std::to_string(dead) + " dead records, bus " +
              std::string(sys::health_name(snap->bus_health)) + ", " +
              std::to_string(snap->agents_recovered) + " records recovered, " +
              std::to_string(snap->claims_padded) + " claims padded";
      if (dead == 0 && snap->bus_health == sys::HealthState::kHealthy) {
        recovered = true;
        break;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  std::printf("chaos: end state: %s\n", state.c_str());
  if (!recovered) failures_.push_back("not recovered within 15 s: " + state);

  ::kill(supervisor_.pid, SIGTERM);
  if (wait_exit(supervisor_.pid, 10s) == -1) {
    ::kill(supervisor_.pid, SIGKILL);
    reap(supervisor_.pid);
    failures_.push_back("the supervisor did not stop on SIGTERM");
  }
  return failures_.empty();
}

void usage() {
  std::fprintf(stderr,
               "usage: shmbus-chaos [--kills N] [--max-seconds S] [--producers N]\n"
               "                    [--claim-delay-us US] [--no-supervisor-kills] [--no-stops]\n"
               "                    [--stuck-limit-ms MS] [--seed N] [--max-gap-ms MS]\n"
               "                    [--inject-loss] [--verbose]\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.seed = std::random_device{}();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--kills") {
      o.kills = std::strtoull(value(), nullptr, 10);
    } else if (a == "--max-seconds") {
      o.max_seconds = std::strtod(value(), nullptr);
    } else if (a == "--producers") {
      o.producers = std::max(1, std::atoi(value()));
    } else if (a == "--claim-delay-us") {
      o.claim_delay_us = std::max(0, std::atoi(value()));
    } else if (a == "--no-supervisor-kills") {
      o.kill_supervisor = false;
    } else if (a == "--no-stops") {
      o.stops = false;
    } else if (a == "--stuck-limit-ms") {
      o.stuck_limit_ms = std::strtoull(value(), nullptr, 10);
    } else if (a == "--seed") {
      o.seed = static_cast<unsigned>(std::strtoul(value(), nullptr, 10));
    } else if (a == "--inject-loss") {
      o.inject_loss = true;
    } else if (a == "--max-gap-ms") {
      o.max_gap_ms = std::max(1, std::atoi(value()));
    } else if (a == "--verbose") {
      o.verbose = true;
    } else {
      usage();
      return 2;
    }
  }
  auto* ledger = static_cast<Ledger*>(
      ::mmap(nullptr, sizeof(Ledger), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (ledger == MAP_FAILED) {
    std::perror("mmap");
    return 3;
  }
  new (ledger) Ledger();
  // The supervisor's children inherit this: its recoveries are counted, not logged one by one.
  if (!o.verbose) spdlog::set_level(spdlog::level::warn);
  const std::string bus = "chaos-" + std::to_string(::getpid());
  const int rc = Driver(o, *ledger, bus).run();
  (void)Bus::remove(bus, true);  // normally the supervisor removed it already
  return rc;
}
