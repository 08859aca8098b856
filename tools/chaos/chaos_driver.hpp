// The chaos driver of shmbus-chaos: its options, the processes it runs (a supervisor,
// killable producers, subscribers, a steady producer and a barrier waiter and voters), its
// random SIGKILL/SIGSTOP actions and counts, and the final checks. Used by chaos.cpp (main);
// the actions are in chaos_driver.cpp, the checks in chaos_checks.cpp, the process bodies in
// chaos_agents.cpp.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "chaos_agents.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/supervisor.hpp"

namespace shmbus::chaos {

using Clock = std::chrono::steady_clock;

struct Options {
  std::uint64_t kills = 100;  // stop after this many SIGKILLs...
  double max_seconds = 60;    // ...or this long, whichever comes first
  int producers = 3;
  int claim_delay_us = 0;
  int batch = 0;  // > 1: publish() producers use publish_batch of this many events
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
    sc_.check_period = std::chrono::milliseconds(5);
    sc_.unblock_timeout = std::chrono::milliseconds(40);
    sc_.slow_subscribers.untether = false;  // a live subscriber must get every event
    sc_.slow_subscribers.stall_timeout = std::chrono::seconds(10);
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
  void describe_stuck(const std::string& sub, std::uint32_t ring, std::uint64_t pos,
                      const BusSnapshot& snap);
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

inline std::uint64_t ms(Clock::duration d) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace shmbus::chaos
