// The chaos driver's end (chaos_driver.hpp): stops the chaos, drains every subscriber with end
// markers, and checks what the bus promises: exactly once, in order, intact for the permanent
// subscribers; no hole or duplicate for the restarted one; nothing stuck; every dead agent
// recovered; barrier rounds kept closing; the bus ends HEALTHY.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "chaos_driver.hpp"
#include "shmbus/inspect.hpp"

namespace shmbus::chaos {

using namespace std::chrono_literals;

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
      // One more than acknowledged (a whole batch less one with --batch) may have committed
      // just before a kill took its producer between the commit and the ledger.
      const std::uint64_t unacked = o_.batch > 1 ? static_cast<std::uint64_t>(o_.batch) : 1;
      if (got < ok) lost += ok - got;
      if (got > ok + unacked || (got > ok && !killed_[s])) {
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

}  // namespace shmbus::chaos
