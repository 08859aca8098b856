// ProcessGroup: fork, pin, and a pidfd-based watchdog. The parent sleeps in
// poll() between checks (1 s once every child is ready), so it does not
// disturb the pinned children.
#include "process_group.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "clock.hpp"
#include "cpu_affinity.hpp"

namespace shmbus::bench {
namespace {

volatile sig_atomic_t g_interrupted = 0;

void on_interrupt(int) {
  g_interrupted = 1;
}

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

pid_t fork_child(const ChildSpec& spec) {
  std::fflush(nullptr);  // no duplicated stdio buffers in the child
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid != 0) return pid;

  // Child. Die with the parent; default signal dispositions.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(3);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (spec.cpu) {
    if (const std::string error = pin_to_cpu(*spec.cpu); !error.empty()) {
      std::fprintf(stderr, "%s: %s\n", spec.role.c_str(), error.c_str());
    }
  }
  int code = 4;
  try {
    code = spec.main();
  } catch (...) {
  }
  std::fflush(nullptr);
  _exit(code);
}

ChildOutcome decode(int status) {
  ChildOutcome outcome;
  if (WIFEXITED(status)) {
    outcome.exited = true;
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.signal = WTERMSIG(status);
  }
  return outcome;
}

struct Child {
  pid_t pid = -1;
  int pidfd = -1;
  bool reaped = false;
  ChildOutcome outcome;

  void record(int status) {
    const bool killed = outcome.killed_by_parent;
    outcome = decode(status);
    outcome.killed_by_parent = killed;
    reaped = true;
    if (pidfd >= 0) close(pidfd);
    pidfd = -1;
  }
  void reap() {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    record(status);
  }
  /// No pidfd (old kernel): checks without blocking.
  void try_reap() {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) record(status);
  }
  void kill_now() {
    if (reaped) return;
    outcome.killed_by_parent = true;
    kill(pid, SIGKILL);
  }
};

void kill_and_reap_all(std::vector<Child>& children) {
  for (Child& child : children) child.kill_now();
  for (Child& child : children) {
    if (!child.reaped) child.reap();
  }
}

}  // namespace

std::string ChildOutcome::describe() const {
  std::string text;
  if (exited) {
    text = "exit " + std::to_string(exit_code);
  } else {
    text = std::string("signal ") + (sigabbrev_np(signal) ? sigabbrev_np(signal) : "?");
  }
  if (killed_by_parent) text += " (killed by the harness)";
  return text;
}

bool GroupOutcome::ok() const noexcept {
  if (stalled || timed_out || interrupted) return false;
  for (const ChildOutcome& child : children) {
    if (!child.ok()) return false;
  }
  return true;
}

std::string GroupOutcome::describe() const {
  std::string text;
  if (stalled) text += "wedged: no progress within the stall timeout; ";
  if (timed_out) text += "timed out; ";
  if (interrupted) text += "interrupted; ";
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (i > 0) text += ", ";
    text += roles[i] + " " + children[i].describe();
  }
  return text;
}

void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll() must return EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() {
  return g_interrupted != 0;
}

GroupOutcome run_process_group(const std::vector<ChildSpec>& specs, const GroupWatch& watch,
                               const GroupOptions& options) {
  std::vector<Child> children(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    try {
      children[i].pid = fork_child(specs[i]);
    } catch (...) {
      children.resize(i);
      kill_and_reap_all(children);
      throw;
    }
  }
  for (Child& child : children) child.pidfd = pidfd_open(child.pid);

  GroupOutcome result;
  const std::uint64_t start_ns = monotonic_now_ns();
  std::uint64_t last_progress = ~std::uint64_t{0};
  std::uint64_t last_change_ns = start_ns;
  bool ready = false;
  std::vector<pollfd> fds;
  std::vector<Child*> by_index;

  auto all_reaped = [&] {
    for (const Child& child : children) {
      if (!child.reaped) return false;
    }
    return true;
  };
  auto kill_all = [&] {
    for (Child& child : children) child.kill_now();
  };

  while (!all_reaped()) {
    if (!ready && watch.all_ready()) {
      ready = true;
      watch.on_ready();
    }
    fds.clear();
    by_index.clear();
    for (Child& child : children) {
      if (child.reaped) continue;
      if (child.pidfd < 0) {
        child.try_reap();
        continue;
      }
      fds.push_back(pollfd{child.pidfd, POLLIN, 0});
      by_index.push_back(&child);
    }
    const int wait_ms = ready ? 1000 : 10;
    const int polled = poll(fds.empty() ? nullptr : fds.data(), fds.size(), wait_ms);
    if (polled < 0 && errno != EINTR) {
      const std::string error = std::string("poll on child pidfds: ") + std::strerror(errno);
      kill_and_reap_all(children);
      throw std::runtime_error(error);
    }
    for (std::size_t i = 0; polled > 0 && i < fds.size(); ++i) {
      if (fds[i].revents != 0) by_index[i]->reap();
    }

    // A child that failed takes the others down: they would wait for it forever.
    for (const Child& child : children) {
      if (child.reaped && !child.outcome.ok()) {
        kill_all();
        break;
      }
    }

    const std::uint64_t now_ns = monotonic_now_ns();
    const std::uint64_t progress = watch.progress();
    if (progress != last_progress) {
      last_progress = progress;
      last_change_ns = now_ns;
    }
    if (interrupted() && !result.interrupted) {
      result.interrupted = true;
      kill_all();
    } else if (now_ns - last_change_ns > options.stall_timeout_ns && !result.stalled) {
      result.stalled = true;
      kill_all();
    } else if (now_ns - start_ns > options.hard_timeout_ns && !result.timed_out) {
      result.timed_out = true;
      kill_all();
    }
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    result.roles.push_back(specs[i].role);
    result.children.push_back(children[i].outcome);
  }
  return result;
}

}  // namespace shmbus::bench
