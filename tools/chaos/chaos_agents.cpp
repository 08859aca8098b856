// The processes of shmbus-chaos (chaos_agents.hpp): payload checks, fork/wait helpers and the
// supervisor, subscriber and producer bodies.
#include "chaos_agents.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "shm/publish_steps.hpp"
#include "shmbus/barrier.hpp"

namespace shmbus::chaos {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::uint32_t check_of(std::uint32_t source, std::uint64_t seq) {
  std::uint64_t h = (std::uint64_t{source} << 40) ^ seq ^ 0x9E3779B97F4A7C15ull;
  h *= 0xff51afd7ed558ccdull;
  return static_cast<std::uint32_t>(h >> 29);
}

// The publish() window knob (shm/publish_steps.hpp): one producer per process, so globals.
std::atomic<bool>* g_in_claim = nullptr;
int g_claim_delay_us = 0;
std::uint64_t g_publishes = 0;
std::mt19937 g_delay_rng;

void hold_publish_window() noexcept {
  // Every other publish, like the claim() producers: a kill or a stop lands inside the window.
  if ((g_publishes++ & 1) != 0) return;
  g_in_claim->store(true, std::memory_order_relaxed);
  std::uniform_int_distribution<int> delay(0, g_claim_delay_us);
  const timespec ts{0, 1000L * delay(g_delay_rng)};
  ::nanosleep(&ts, nullptr);
}

std::atomic<Supervisor*> g_supervisor{nullptr};
void stop_supervisor(int) {
  if (Supervisor* s = g_supervisor.load()) s->stop();
}

}  // namespace

void fill_payload(Payload& p) {
  p.check = check_of(p.source, p.seq);
  for (std::uint32_t i = 0; i < kFill; ++i) p.fill[i] = static_cast<std::uint8_t>(p.seq * 31 + i);
}

bool intact(const Payload& p) {
  if (p.check != check_of(p.source, p.seq)) return false;
  for (std::uint32_t i = 0; i < kFill; ++i) {
    if (p.fill[i] != static_cast<std::uint8_t>(p.seq * 31 + i)) return false;
  }
  return true;
}

pid_t spawn(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(3);
  }
  if (pid == 0) {
    ::signal(SIGTERM, SIG_DFL);
    ::_exit(body());
  }
  return pid;
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool exited(pid_t pid, int& code) {
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r != pid) return false;
  code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int code = 0;
  while (!exited(pid, code)) {
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(2ms);
  }
  return code;
}

AgentOptions agent_options(const std::string& name) {
  AgentOptions o;
  o.name = name;
  o.wait = WaitStrategy::kBlock;  // two cores: nobody busy-spins
  o.full_policy = FullPolicy::kWait;
  o.publish_timeout = 500ms;
  o.attach_wait = 2s;
  return o;
}

int run_supervisor(const SupervisorConfig& sc) {
  struct sigaction sa {};
  sa.sa_handler = stop_supervisor;
  sigaction(SIGTERM, &sa, nullptr);
  auto sup = Supervisor::start(sc);
  if (!sup) {
    std::fprintf(stderr, "chaos: supervisor: %s\n", sup.message().c_str());
    return 10;
  }
  g_supervisor.store(&sup.value());
  sup->run();
  g_supervisor.store(nullptr);
  return sup->shutdown() ? 0 : 12;
}

int run_subscriber(const std::string& bus_name, int index, bool transient, bool inject_loss,
                   Ledger& ledger) {
  auto bus =
      Bus::attach(bus_name, agent_options(transient ? "subT" : "sub" + std::to_string(index)));
  if (!bus) return 10;
  SubResult& res = ledger.subs[index];
  std::vector<bool> seen(kMaxSources, !transient);  // a transient one starts mid-stream
  std::uint64_t count = 0;
  (void)bus->on("ch.data", [&](const EventView& v) {
    Payload p{};
    if (!v.copy_to(p) || p.source >= kMaxSources) {
      res.torn.fetch_add(1);
      return;
    }
    if (!intact(p)) res.torn.fetch_add(1);
    if (inject_loss && p.source == kSteadySource && ++count == 2) return;  // self-test
    const std::uint64_t last = res.last[p.source].load(std::memory_order_relaxed);
    if (seen[p.source] && p.seq != last + 1) res.order_errors.fetch_add(1);
    seen[p.source] = true;
    res.last[p.source].store(p.seq, std::memory_order_relaxed);
    res.delivered.fetch_add(1, std::memory_order_relaxed);
  });
  Bus* self = &bus.value();
  (void)bus->on("ch.end", [&](const EventView&) {
    if (res.ends_seen.fetch_add(1) + 1 == 2) self->stop();  // one end marker per ring used
  });
  bus->run();
  return 0;
}

int run_producer(const std::string& bus_name, const std::string& name, std::uint32_t source,
                 Priority priority, bool in_place, int claim_delay_us, Ledger& ledger, int batch) {
  auto bus = Bus::attach(bus_name, agent_options(name));
  if (!bus) return 10;
  auto topic = bus->register_topic("ch.data", sizeof(Payload));
  if (!topic) return 11;
  ledger.attached[source].store(true);
  std::mt19937 rng(source * 7919u + 1);
  std::uniform_int_distribution<int> delay(0, std::max(claim_delay_us, 0));
  Payload p{};
  p.source = source;
  p.seq = 1;
  fill_payload(p);
  if (!in_place && claim_delay_us > 0) {
    g_in_claim = &ledger.in_claim[source];
    g_claim_delay_us = claim_delay_us;
    g_delay_rng.seed(source * 104729u + 3);
    detail::set_publish_step_hook(&hold_publish_window);
  }
  if (!in_place && batch > 1) {
    // Batches of consecutive sequences; the ledger learns a batch's outcome when it returns.
    std::vector<Payload> items(static_cast<std::size_t>(batch));
    for (std::uint64_t i = 0; source != kSteadySource || !ledger.stop_steady.load(); ++i) {
      for (std::size_t k = 0; k < items.size(); ++k) {
        items[k] = p;
        items[k].seq = p.seq + k;
        fill_payload(items[k]);
      }
      const PublishBatchResult r =
          bus->publish_batch(*topic, items.data(), sizeof(Payload), items.size(), priority);
      ledger.in_claim[source].store(false, std::memory_order_relaxed);
      if (r.published > 0) {
        ledger.last_ok[source].store(p.seq + r.published - 1, std::memory_order_release);
        p.seq += r.published;
      }
      if (r.status == PublishStatus::kAborted)
        ledger.aborted.fetch_add(1, std::memory_order_relaxed);
      if (source == kSteadySource && (i & 63) == 0) sched_yield();
    }
    return 0;
  }
  for (std::uint64_t i = 0; source != kSteadySource || !ledger.stop_steady.load(); ++i) {
    PublishStatus s;
    if (in_place) {
      Claim c = bus->claim(*topic, sizeof(Payload), priority);
      if (!c.ok()) continue;
      // From here until commit returns, a kill leaves a claimed, uncommitted slot.
      ledger.in_claim[source].store(true, std::memory_order_relaxed);
      std::memcpy(c.data().data(), &p, sizeof p);
      if (claim_delay_us > 0 && (i & 1) == 0) {
        // The test knob: hold the claim open so a kill or a stop lands inside the window.
        const timespec ts{0, 1000L * delay(rng)};
        ::nanosleep(&ts, nullptr);
      }
      s = bus->commit(c);
      ledger.in_claim[source].store(false, std::memory_order_relaxed);
    } else {
      // With the knob, publish() holds its own claim -> commit window open (hook above).
      s = bus->publish(*topic, &p, sizeof p, priority);
      ledger.in_claim[source].store(false, std::memory_order_relaxed);
    }
    if (s == PublishStatus::kOk) {
      ledger.last_ok[source].store(p.seq, std::memory_order_release);
      ++p.seq;
      fill_payload(p);
    } else if (s == PublishStatus::kAborted) {
      ledger.aborted.fetch_add(1, std::memory_order_relaxed);
    }
    if (source == kSteadySource && (i & 63) == 0) sched_yield();
  }
  return 0;
}

std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

int run_waiter(const std::string& bus_name, Ledger& ledger) {
  auto bus = Bus::attach(bus_name, agent_options("waiter"));
  if (!bus) return 10;
  std::vector<std::string> voters;
  for (int i = 0; i < kVoters; ++i) voters.push_back("voter" + std::to_string(i));
  // A round closes 50 ms after its first arrival at the latest (partial, without the dead).
  if (!create_barrier(*bus, kBarrier, voters, 50ms)) return 11;
  auto barrier = Barrier::open(*bus, kBarrier);
  if (!barrier || !barrier->become_waiter()) return 12;
  ledger.last_round_ns.store(steady_ns());
  BarrierRound round;
  while (!ledger.stop_barrier.load()) {
    auto r = barrier->wait(round, 200ms);
    if (r) {
      ledger.rounds.fetch_add(1);
      if (round.complete) ledger.rounds_complete.fetch_add(1);
      ledger.last_round_ns.store(steady_ns());
    } else if (r.code() != Errc::kTimeout) {
      ledger.waiter_errors.fetch_add(1);
      if (r.code() == Errc::kState) return 13;  // lost the waiter role
      std::this_thread::sleep_for(1ms);
    }
  }
  return 0;
}

int run_voter(const std::string& bus_name, int index, Ledger& ledger) {
  auto bus = Bus::attach(bus_name, agent_options("voter" + std::to_string(index)));
  if (!bus) return 10;
  Result<Barrier> barrier = make_error(Errc::kNotFound, "not yet");
  const auto deadline = Clock::now() + 10s;
  while (!(barrier = Barrier::open(*bus, kBarrier)) && Clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);  // the waiter creates it
  }
  if (!barrier) return 11;
  const std::byte signal[8] = {std::byte{static_cast<unsigned char>(index)}};
  for (;;) {
    if (barrier->arrive(signal) == ArriveStatus::kAccepted) ledger.arrivals.fetch_add(1);
    (void)barrier->wait_open(100ms);   // the next round, once this one closed
    std::this_thread::sleep_for(2ms);  // pacing: a few hundred rounds a second is plenty
  }
}

}  // namespace shmbus::chaos
