// The processes of shmbus-chaos and what they share: the payload and its check, the ledger
// every process writes (MAP_SHARED), fork/wait helpers, and the bodies of the supervisor,
// subscriber and producer processes. Used by the driver (chaos_driver.hpp) only.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "shmbus/bus.hpp"
#include "shmbus/supervisor.hpp"

namespace shmbus::chaos {

inline constexpr std::uint32_t kMaxSources = 16384;  // producer incarnations; last: the steady one
inline constexpr std::uint32_t kSteadySource = kMaxSources - 1;
inline constexpr int kPermanentSubs = 2;  // stopped at times, never killed: checked exactly-once
inline constexpr int kTransientSub = kPermanentSubs;  // killed and restarted: checked for order
inline constexpr int kSubs = kPermanentSubs + 1;
inline constexpr std::uint32_t kFill = 48;

struct Payload {
  std::uint32_t source;
  std::uint32_t check;
  std::uint64_t seq;
  std::uint8_t fill[kFill];
};
/// Sets `check` and the filler from `source` and `seq`.
void fill_payload(Payload& p);
/// True when `check` and the filler match `source` and `seq` (not torn).
bool intact(const Payload& p);

struct SubResult {
  std::atomic<std::uint64_t> last[kMaxSources];  // last sequence delivered per source
  std::atomic<std::uint64_t> order_errors{0};    // duplicate, hole or reorder
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint32_t> ends_seen{0};
};

// Shared by every process (MAP_SHARED, set up before the first fork).
struct Ledger {
  std::atomic<std::uint64_t> last_ok[kMaxSources];  // last sequence whose publish returned kOk
  std::atomic<bool> attached[kMaxSources];
  std::atomic<bool> in_claim[kMaxSources];  // holds a claimed slot: claim() ok, commit() not back
  std::atomic<bool> stop_steady{false};
  std::atomic<std::uint64_t> aborted{0};  // commits the supervisor beat (kAborted)
  SubResult subs[kSubs];
  // The barrier "chaos.round" (participants voter0 and voter1, killed at random; one waiter).
  std::atomic<bool> stop_barrier{false};
  std::atomic<std::uint64_t> rounds{0};           // rounds the waiter received
  std::atomic<std::uint64_t> rounds_complete{0};  // of which every live participant arrived
  std::atomic<std::uint64_t> last_round_ns{0};    // steady_clock when the last one came
  std::atomic<std::uint64_t> waiter_errors{0};    // wait() errors other than kTimeout
  std::atomic<std::uint64_t> arrivals{0};         // signals accepted from the voters
};

inline constexpr int kVoters = 2;
inline constexpr const char* kBarrier = "chaos.round";

/// steady_clock now in ns (the ledger's time base).
std::uint64_t steady_ns();

// ---- processes ---------------------------------------------------------------------------

/// fork() and run `body` in the child, which exits with its result.
pid_t spawn(const std::function<int()>& body);
/// Reaps a process that was sent SIGKILL (or exits), however long the kernel takes.
int reap(pid_t pid);
/// True (and reaped, exit code in `code`) when the process has exited.
bool exited(pid_t pid, int& code);
/// Waits for an exit with a deadline; -1 when still running at the deadline.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout);

/// Every agent blocks when idle (two cores: nobody busy-spins) and waits when a ring is full.
AgentOptions agent_options(const std::string& name);

/// The supervisor process: runs until SIGTERM. Exit 0 after a clean shutdown.
int run_supervisor(const SupervisorConfig& config);
/// A subscriber ("sub<index>", or "subT" when transient) recording into ledger.subs[index]
/// until it has seen both end markers. `inject_loss`: drop one event on purpose (self-test).
int run_subscriber(const std::string& bus_name, int index, bool transient, bool inject_loss,
                   Ledger& ledger);
/// A producer of source `source` on `priority`, through publish() or claim/commit
/// (`in_place`), holding every other claim open up to `claim_delay_us` before its commit.
/// The steady source runs until ledger.stop_steady; the others until killed. `batch` > 1: a
/// publish() producer publishes batches of that many events (Bus::publish_batch) instead.
int run_producer(const std::string& bus_name, const std::string& name, std::uint32_t source,
                 Priority priority, bool in_place, int claim_delay_us, Ledger& ledger,
                 int batch = 0);

/// The barrier's waiter ("waiter"): creates the barrier, takes every round until
/// ledger.stop_barrier. Exit 0 when it never lost its waiter role.
int run_waiter(const std::string& bus_name, Ledger& ledger);
/// Participant "voter<index>": arrives in every round, then waits for the next to open.
int run_voter(const std::string& bus_name, int index, Ledger& ledger);

}  // namespace shmbus::chaos
