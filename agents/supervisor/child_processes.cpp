// ChildProcesses: fork/exec, a thread blocked in waitpid that restarts what exits, and stop.
#include "child_processes.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace shmbus::supervisor_app {

std::vector<ChildSpec> journal_specs(const AppConfig& config, const std::string& bus,
                                     const std::string& argv0) {
  std::string binary = config.journal_binary;
  if (binary.empty()) {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : argv0;
    dir = dir.substr(0, dir.find_last_of('/') + 1);
    binary = dir + "shmbus-journal";  // installed: the same bin directory
    if (::access(binary.c_str(), X_OK) != 0) binary = dir + "../journal/shmbus-journal";
  }
  std::vector<ChildSpec> out;
  for (const auto& j : config.journals) {
    ChildSpec s;
    s.name = "journal agent '" + j.name + "'";
    s.path = binary;
    s.args = {"--bus", bus, "--dir", j.dir, "--name", j.name};
    s.args.insert(s.args.end(), j.args.begin(), j.args.end());
    out.push_back(std::move(s));
  }
  return out;
}

ChildProcesses::~ChildProcesses() {
  stop();
}

pid_t ChildProcesses::spawn(const ChildSpec& spec) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(spec.path.c_str()));
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The child starts with default signal handling: the supervisor's handlers are not its own.
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    ::execv(spec.path.c_str(), argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    spdlog::error("cannot start {} ({}): {}", spec.name, spec.path, std::strerror(errno));
  } else {
    spdlog::info("started {} (pid {})", spec.name, pid);
  }
  return pid;
}

void ChildProcesses::start(std::vector<ChildSpec> specs) {
  if (specs.empty()) return;
  std::lock_guard lock(mutex_);
  for (auto& s : specs) {
    Child c;
    c.spec = std::move(s);
    c.pid = spawn(c.spec);
    c.started = std::chrono::steady_clock::now();
    children_.push_back(std::move(c));
  }
  watcher_ = std::thread([this] { watch(); });
}

void ChildProcesses::watch() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);  // blocks until a child exits
    std::unique_lock lock(mutex_);
    if (pid < 0) {
      if (errno == EINTR) continue;
      // ECHILD: none left. Only possible when stopping (or every spawn failed): wait for stop.
      cv_.wait(lock, [this] { return stopping_; });
      return;
    }
    for (auto& c : children_) {
      if (c.pid != pid) continue;
      c.pid = -1;
      if (stopping_) break;
      spdlog::warn("{} (pid {}) exited ({} {}); restarting", c.spec.name, pid,
                   WIFSIGNALED(status) ? "signal" : "code",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
      // A child that dies at once is restarted at most once a second.
      const auto earliest = c.started + std::chrono::seconds(1);
      cv_.wait_until(lock, earliest, [this] { return stopping_; });
      if (stopping_) break;
      c.pid = spawn(c.spec);
      c.started = std::chrono::steady_clock::now();
      ++c.restarts;
      break;
    }
    bool any = false;
    for (const auto& c : children_) any = any || c.pid > 0;
    if (stopping_ && !any) return;
  }
}

void ChildProcesses::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (const auto& c : children_) {
      if (c.pid > 0) ::kill(c.pid, SIGTERM);
    }
  }
  cv_.notify_all();
  if (!watcher_.joinable()) return;
  // The watcher reaps them; past the grace period whoever is left gets SIGKILL.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      bool any = false;
      for (const auto& c : children_) any = any || c.pid > 0;
      if (!any) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        for (const auto& c : children_) {
          if (c.pid > 0) ::kill(c.pid, SIGKILL);
        }
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the reaper's progress
  }
  watcher_.join();
}

}  // namespace shmbus::supervisor_app
