#include "testing/test_support.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

#include <ostream>

#include "shmbus/bus.hpp"

namespace shmbus::testing {

std::string unique_bus_name(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "t" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1)) + "_" + tag;
}

SegmentGuard::~SegmentGuard() {
  (void)Bus::remove(name_, /*force=*/true);
}

BusConfig small_bus_config(const std::string& name, std::uint32_t max_agents,
                           std::uint32_t max_topics) {
  BusConfig c;
  c.name = name;
  c.ring_capacity = {64, 64, 64, 64};
  c.history_depth = 16;
  c.max_agents = max_agents;
  c.max_topics = max_topics;
  return c;
}

BusConfig pubsub_bus_config(const std::string& name) {
  BusConfig c;
  c.name = name;
  c.ring_capacity = {64, 64, 128, 128};
  c.history_depth = 8;
  c.max_agents = 8;
  c.max_topics = 64;
  return c;
}

BusConfig barrier_bus_config(const std::string& name) {
  BusConfig c;
  c.name = name;
  c.ring_capacity = {256, 256, 256, 256};
  c.history_depth = 64;
  c.max_agents = 24;
  c.max_barriers = 4;
  c.max_barrier_participants = 8;
  c.barrier_signal_bytes = 64;
  return c;
}

std::uint64_t scaled(std::uint64_t n) {
  double scale = 1.0;
  if (const char* s = std::getenv("SHMBUS_TEST_SCALE")) scale = std::atof(s);
  auto v = static_cast<std::uint64_t>(static_cast<double>(n) * scale);
  return v == 0 ? 1 : v;
}

Child Child::fork(const std::function<int()>& body) {
  Child c;
  c.pid_ = ::fork();
  if (c.pid_ == 0) {
    int rc = 1;
    try {
      rc = body();
    } catch (...) {
      rc = 99;
    }
    ::_exit(rc);
  }
  return c;
}

Child Child::exec(const std::string& path, const std::vector<std::string>& args,
                  const std::vector<std::string>& env) {
  // Built before the fork: the child of a threaded process must not allocate.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view have(*e);
    bool replaced = false;
    for (const auto& x : env) {
      replaced = replaced || have.substr(0, have.find('=') + 1) == x.substr(0, x.find('=') + 1);
    }
    if (!replaced) envp.push_back(*e);
  }
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  Child c;
  c.pid_ = ::fork();
  if (c.pid_ == 0) {
    ::execve(path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  return c;
}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = o.pid_;
    status_ = o.status_;
    done_ = o.done_;
    o.pid_ = -1;
  }
  return *this;
}

Child::~Child() {
  if (pid_ > 0 && !done_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

int Child::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done_) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      done_ = true;
      status_ = st;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

void Child::kill(int sig) {
  if (pid_ > 0 && !done_) ::kill(pid_, sig);
}

bool Child::running() {
  if (pid_ <= 0 || done_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    done_ = true;
    status_ = st;
    return false;
  }
  return true;
}

ReadyPipe::ReadyPipe() {
  if (::pipe(fds_) != 0) fds_[0] = fds_[1] = -1;
}

ReadyPipe::~ReadyPipe() {
  if (fds_[0] >= 0) ::close(fds_[0]);
  if (fds_[1] >= 0) ::close(fds_[1]);
}

void ReadyPipe::signal() {
  char b = 1;
  (void)!::write(fds_[1], &b, 1);
}

bool ReadyPipe::wait(int count, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int got = 0;
  while (got < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fds_[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[64];
    ssize_t n = ::read(fds_[0], buf,
                       std::min<std::size_t>(sizeof(buf), static_cast<std::size_t>(count - got)));
    if (n > 0) got += static_cast<int>(n);
  }
  return true;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

std::string bin_dir() {
  const char* d = std::getenv("SHMBUS_BIN_DIR");
  return d != nullptr ? d : ".";
}

TempDir::TempDir(const std::string& tag) {
  std::string tmpl = "/tmp/shmbus_" + tag + "_XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace shmbus::testing

namespace shmbus {
void PrintTo(Errc code, std::ostream* os) {
  *os << errc_name(code);
}
void PrintTo(PublishStatus status, std::ostream* os) {
  *os << publish_status_name(status);
}
}  // namespace shmbus
