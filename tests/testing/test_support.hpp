// Helpers for tests: unique bus names with RAII removal, forked children with
// deadlines (never a bare sleep), ready pipes, and a scale factor so sanitizer
// builds run the same tests with fewer events.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "shmbus/config.hpp"
#include "shmbus/event.hpp"
#include "shmbus/result.hpp"

namespace shmbus {
// Readable codes in gtest failure messages (found by argument-dependent lookup). One
// definition for every test file of a binary.
void PrintTo(Errc code, std::ostream* os);
void PrintTo(PublishStatus status, std::ostream* os);
}  // namespace shmbus

namespace shmbus::testing {

/// A bus name unique to this process and call: "t<pid>_<n>_<tag>".
std::string unique_bus_name(const std::string& tag);

/// Removes the segment of `name` when destroyed (force), so failed tests leave nothing behind.
class SegmentGuard {
 public:
  explicit SegmentGuard(std::string name) : name_(std::move(name)) {}
  ~SegmentGuard();
  SegmentGuard(const SegmentGuard&) = delete;
  SegmentGuard& operator=(const SegmentGuard&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

/// A fresh directory /tmp/shmbus_<tag>_XXXXXX, removed (recursively) when destroyed.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// A small bus for unit tests: rings of 64 slots with 16 kept as history, and the given limits.
BusConfig small_bus_config(const std::string& name, std::uint32_t max_agents,
                           std::uint32_t max_topics);

/// The bus of the publish and dispatch tests (pubsub_test, batch_publish_test): rings of 64,
/// 64, 128 and 128 slots with 8 kept as history, 8 agents, 64 topics.
BusConfig pubsub_bus_config(const std::string& name);

/// A bus for barrier tests: rings of 256 slots (64 of history), 24 agents, 4 barriers of up
/// to 8 participants with 64-byte signals.
BusConfig barrier_bus_config(const std::string& name);

/// SHMBUS_TEST_SCALE (default 1.0; sanitizer runs set less) times `n`, at least 1.
std::uint64_t scaled(std::uint64_t n);

/// A forked child process. The child runs `body` and _exits with its return value.
class Child {
 public:
  Child() = default;
  static Child fork(const std::function<int()>& body);
  /// fork + exec of a program with arguments; `env` ("NAME=value") is added to this
  /// process's environment for the child.
  static Child exec(const std::string& path, const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {});
  Child(Child&& o) noexcept : pid_(o.pid_), status_(o.status_), done_(o.done_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept;
  ~Child();  // kills (SIGKILL) and reaps a child still running

  pid_t pid() const { return pid_; }
  /// Waits up to `timeout`; returns the exit code, 128+signal if killed by one, or -1 on
  /// timeout (the child is then left running).
  int wait(std::chrono::milliseconds timeout);
  void kill(int sig);
  bool running();

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool done_ = false;
};

/// A pipe a child writes one byte to when ready; the parent waits with a deadline.
class ReadyPipe {
 public:
  ReadyPipe();
  ~ReadyPipe();
  void signal();  // child side
  /// Parent side: waits for `count` signals; false on timeout.
  bool wait(int count, std::chrono::milliseconds timeout);

 private:
  int fds_[2] = {-1, -1};
};

/// Polls `cond` (with yields) until true or the deadline; returns the last value.
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

/// Directory of built binaries (SHMBUS_BIN_DIR, set by ctest).
std::string bin_dir();

}  // namespace shmbus::testing
