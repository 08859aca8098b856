// The chaos driver's actions (chaos_driver.hpp): starting the processes, random SIGKILL and
// SIGSTOP by weight, resuming, restarting what exited, sampling the stuck watch, and the main
// loop. The final checks are in chaos_checks.cpp.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <new>
#include <thread>

#include "chaos_driver.hpp"
#include "shm/ring/slot_seq.hpp"
#include "shm/segment.hpp"
#include "shmbus/inspect.hpp"

namespace shmbus::chaos {

using namespace std::chrono_literals;

void Driver::start_producer(std::size_t slot) {
  if (incarnations_ >= kSteadySource) return;  // sources exhausted: the slot stays empty
  const std::uint32_t source = incarnations_++;
  const Priority prio = (source % 2) == 0 ? Priority::kNormal : Priority::kHigh;
  const bool in_place = (source / 2) % 2 == 1;  // half publish(), half claim/commit
  const int delay = o_.claim_delay_us;
  const int batch = o_.batch;
  producer_source_[slot] = source;
  producers_[slot] = Proc{};
  producers_[slot].pid = spawn([this, slot, source, prio, in_place, delay, batch] {
    return run_producer(bus_, "kp" + std::to_string(slot), source, prio, in_place, delay, ledger_,
                        batch);
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

// "R", "S", "T"... and the kernel function it waits in, of a process; "gone" when it is not.
std::string process_state(pid_t pid) {
  std::string out = "gone";
  if (FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r")) {
    int p = 0;
    char comm[64];
    char state = '?';
    if (std::fscanf(f, "%d %63s %c", &p, comm, &state) == 3) out = std::string(1, state);
    std::fclose(f);
  }
  if (FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/wchan").c_str(), "r")) {
    char w[64] = {};
    if (std::fscanf(f, "%63s", w) == 1 && w[0] != '0') out += std::string(" in ") + w;
    std::fclose(f);
  }
  return out;
}

// A subscriber just crossed half the stuck limit: say what it waits at (the slot's seq word and
// producer, the live claim words naming it, the supervisor), so a failure can be diagnosed
// from the output alone. Cold: once per stuck episode.
void Driver::describe_stuck(const std::string& sub, std::uint32_t ring, std::uint64_t pos,
                            const BusSnapshot& snap) {
  std::string line = "chaos: " + sub + " stuck at ring " + std::to_string(ring) + " position " +
                     std::to_string(pos) + " (tail " + std::to_string(snap.rings[ring].tail) +
                     "); supervisor pid " + std::to_string(snap.supervisor_pid) +
                     (snap.supervisor_alive ? " alive" : " NOT alive") + ", heartbeat age " +
                     std::to_string(snap.supervisor_heartbeat_age_ns / 1000000) + " ms";
  auto seg = detail::Segment::open(bus_, std::chrono::milliseconds(0));
  if (seg) {
    for (const AgentSnapshot& a : snap.agents) {
      if (a.name != sub) continue;
      // The subscriber's process state (R running/runnable, S sleeping, T stopped) and every
      // ring it reads: its cursor, the tail, and the seq word of the slot at its cursor.
      line += "; " + sub + " pid " + std::to_string(a.pid) + " " +
              process_state(static_cast<pid_t>(a.pid)) + ", heartbeat age " +
              std::to_string(a.heartbeat_age_ns / 1000000) + " ms";
      for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
        const std::uint64_t c = a.cursor[r];
        const std::uint64_t seq = (*seg)->slot(r, c).seq.load(std::memory_order_acquire);
        line += "; ring " + std::to_string(r) + " cursor " + std::to_string(c) + " tail " +
                std::to_string(snap.rings[r].tail) + " seq " +
                std::to_string(seq & ~detail::kSeqPad) + ((seq & detail::kSeqPad) != 0 ? "p" : "") +
                (detail::seq_settled(seq, c) ? "" : " (not settled)");
      }
    }
    const detail::SlotHeader& slot = (*seg)->slot(ring, pos);
    line += "; slot producer " + std::to_string(slot.producer) + ", quarantine " +
            std::to_string(slot.quarantine.load(std::memory_order_relaxed));
    for (const AgentSnapshot& a : snap.agents) {
      const std::uint64_t w = (*seg)->agent(a.index).claiming[ring].load(std::memory_order_relaxed);
      if ((w & ~detail::kClaimConfirmed) == pos + 1) {
        line += "; claim word of " + a.name + " (pid " + std::to_string(a.pid) + ", " +
                process_state(static_cast<pid_t>(a.pid)) + (a.alive ? ", alive" : ", dead") +
                ((w & detail::kClaimConfirmed) != 0 ? ", confirmed)" : ", unconfirmed)");
      }
    }
  } else {
    line += "; segment: " + seg.message();
  }
  line += "; our supervisor pid " + std::to_string(supervisor_.pid) + " " +
          process_state(supervisor_.pid) + ", last killed " +
          std::to_string(ms(Clock::now() - last_supervisor_kill_)) + " ms ago";
  for (const Proc& p : producers_) {
    if (p.stopped) line += "; a producer is stopped (pid " + std::to_string(p.pid) + ")";
  }
  std::fprintf(stderr, "%s\n", line.c_str());
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
          const auto stuck = now - since_[s][r];
          // Described once, at half the limit: a run that fails has said what it waited at.
          const auto half = std::chrono::milliseconds(o_.stuck_limit_ms / 2);
          if (stuck > half && worst_stuck_ <= half) describe_stuck(name, r, pos, *snap);
          worst_stuck_ = std::max(worst_stuck_, stuck);
        }
      }
    }
  }
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

}  // namespace shmbus::chaos
