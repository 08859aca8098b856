// ProcessPair: fork, pin, and a pidfd-based watchdog. The parent sleeps in
// poll() between checks (1 s once both children are ready), so it does not
// disturb the pinned children.
#include "process_pair.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
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

pid_t fork_child(const ChildMain& child_main, std::optional<int> cpu, const char* role) {
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
  if (cpu) {
    if (const std::string error = pin_to_cpu(*cpu); !error.empty()) {
      std::fprintf(stderr, "%s: %s\n", role, error.c_str());
    }
  }
  int code = 4;
  try {
    code = child_main();
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

  void reap() {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const bool killed = outcome.killed_by_parent;
    outcome = decode(status);
    outcome.killed_by_parent = killed;
    reaped = true;
    if (pidfd >= 0) close(pidfd);
    pidfd = -1;
  }
  void kill_now() {
    if (reaped) return;
    outcome.killed_by_parent = true;
    kill(pid, SIGKILL);
  }
};

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

std::string PairOutcome::describe() const {
  std::string text;
  if (stalled) text += "wedged: no progress within the stall timeout; ";
  if (timed_out) text += "timed out; ";
  if (interrupted) text += "interrupted; ";
  text += "producer " + producer.describe() + ", consumer " + consumer.describe();
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

PairOutcome run_process_pair(const ChildMain& producer_main, const ChildMain& consumer_main,
                             ControlBlock& control, const std::function<void()>& on_attached,
                             const PairOptions& options) {
  Child consumer;
  Child producer;
  consumer.pid = fork_child(consumer_main, options.consumer_cpu, "consumer");
  try {
    producer.pid = fork_child(producer_main, options.producer_cpu, "producer");
  } catch (...) {
    consumer.kill_now();
    consumer.reap();
    throw;
  }
  consumer.pidfd = pidfd_open(consumer.pid);
  producer.pidfd = pidfd_open(producer.pid);

  PairOutcome result;
  const std::uint64_t start_ns = monotonic_now_ns();
  std::uint64_t last_progress = ~std::uint64_t{0};
  std::uint64_t last_change_ns = start_ns;
  bool attached = false;

  auto kill_both = [&] {
    producer.kill_now();
    consumer.kill_now();
  };

  while (!producer.reaped || !consumer.reaped) {
    if (!attached && control.consumer_ready.load(std::memory_order_acquire) != 0 &&
        control.producer_ready.load(std::memory_order_acquire) != 0) {
      attached = true;
      on_attached();
    }
    pollfd fds[2];
    nfds_t count = 0;
    Child* by_index[2];
    for (Child* child : {&producer, &consumer}) {
      if (child->reaped) continue;
      if (child->pidfd < 0) {  // no pidfd: fall back to checking with WNOHANG
        int status = 0;
        if (waitpid(child->pid, &status, WNOHANG) == child->pid) {
          const bool killed = child->outcome.killed_by_parent;
          child->outcome = decode(status);
          child->outcome.killed_by_parent = killed;
          child->reaped = true;
        }
        continue;
      }
      fds[count] = pollfd{child->pidfd, POLLIN, 0};
      by_index[count++] = child;
    }
    const int wait_ms = attached ? 1000 : 10;
    const int ready = count > 0 ? poll(fds, count, wait_ms) : poll(nullptr, 0, wait_ms);
    if (ready < 0 && errno != EINTR) {
      const std::string error = std::string("poll on child pidfds: ") + std::strerror(errno);
      kill_both();
      for (Child* child : {&producer, &consumer}) {
        if (!child->reaped) child->reap();
      }
      throw std::runtime_error(error);
    }
    for (nfds_t i = 0; ready > 0 && i < count; ++i) {
      if (fds[i].revents != 0) by_index[i]->reap();
    }

    // A child that failed takes its peer down: the peer would wait for it forever.
    for (auto [child, peer] : {std::pair{&producer, &consumer}, std::pair{&consumer, &producer}}) {
      if (child->reaped && !child->outcome.ok() && !peer->reaped) peer->kill_now();
    }

    const std::uint64_t now_ns = monotonic_now_ns();
    const std::uint64_t progress = control.progress.load(std::memory_order_relaxed) +
                                   control.ack.load(std::memory_order_relaxed) +
                                   control.consumer_done.load(std::memory_order_relaxed);
    if (progress != last_progress) {
      last_progress = progress;
      last_change_ns = now_ns;
    }
    if (interrupted() && !result.interrupted) {
      result.interrupted = true;
      kill_both();
    } else if (now_ns - last_change_ns > options.stall_timeout_ns && !result.stalled) {
      result.stalled = true;
      kill_both();
    } else if (now_ns - start_ns > options.hard_timeout_ns && !result.timed_out) {
      result.timed_out = true;
      kill_both();
    }
  }
  result.producer = producer.outcome;
  result.consumer = consumer.outcome;
  return result;
}

}  // namespace shmbus::bench
