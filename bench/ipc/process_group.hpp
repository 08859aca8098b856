// ProcessGroup: forks the child processes of one benchmark run (a producer and a
// consumer for shmbus-ipc-bench, one producer and M subscribers and so on for
// shmbus-scaling-bench), pins each to its CPU, and waits for all of them with a
// watchdog: a child that fails makes the parent kill the others at once (they
// would wait for it forever); a run that makes no progress for `stall_timeout_ns`,
// or exceeds `hard_timeout_ns`, gets every child killed and is reported as wedged.
// SIGINT/SIGTERM to the parent end the run the same way. Children die with the
// parent (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace shmbus::bench {

struct ChildOutcome {
  bool exited = false;  ///< exit() / _exit() (else killed by a signal)
  int exit_code = 0;
  int signal = 0;
  bool killed_by_parent = false;
  bool ok() const noexcept { return exited && exit_code == 0; }
  std::string describe() const;
};

/// Child entry point: returns the exit code; runs after fork in the child, which then _exit()s.
using ChildMain = std::function<int()>;

struct ChildSpec {
  std::string role;        ///< "consumer", "subscriber 3": used in messages
  ChildMain main;          ///< runs in the child
  std::optional<int> cpu;  ///< pinned there when set
};

/// How the parent tells progress and readiness, from memory it shares with the children.
/// Called in the parent only, between polls (every 10 ms until ready, then every second).
struct GroupWatch {
  /// Any change of the returned value counts as progress for the stall watchdog.
  std::function<std::uint64_t()> progress;
  /// True once every child has made its endpoint (attached, subscribed).
  std::function<bool()> all_ready;
  /// Runs once, the first time all_ready() holds (start the measurement, drop names).
  std::function<void()> on_ready;
};

struct GroupOptions {
  std::uint64_t stall_timeout_ns = 10'000'000'000;
  std::uint64_t hard_timeout_ns = 900'000'000'000;
};

struct GroupOutcome {
  std::vector<std::string> roles;      ///< as given, in fork order
  std::vector<ChildOutcome> children;  ///< same order
  bool stalled = false;                ///< watchdog: no progress for stall_timeout_ns
  bool timed_out = false;              ///< watchdog: hard_timeout_ns exceeded
  bool interrupted = false;
  bool ok() const noexcept;
  /// "wedged: ...; subscriber 0 exit 0, producer signal KILL (killed by the harness)".
  std::string describe() const;
};

/// Forks the children in the order given and waits as described above. Throws
/// std::runtime_error when fork or poll fails (every child already forked is killed and reaped).
GroupOutcome run_process_group(const std::vector<ChildSpec>& children, const GroupWatch& watch,
                               const GroupOptions& options);

/// Installs the SIGINT/SIGTERM handler that run_process_group() honours.
void install_interrupt_handler();
/// True once SIGINT or SIGTERM arrived.
bool interrupted();

}  // namespace shmbus::bench
