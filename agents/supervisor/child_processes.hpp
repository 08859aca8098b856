// The processes a supervisor config asks it to run beside the bus (today: journal agents, the
// "journals" section): started after the bus exists, restarted when they exit (at most once a
// second), stopped with SIGTERM (then SIGKILL after a deadline) when the supervisor stops.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config_file.hpp"

namespace shmbus::supervisor_app {

struct ChildSpec {
  std::string name;               ///< for logs
  std::string path;               ///< executable
  std::vector<std::string> args;  ///< argv[1..]
};

/// One ChildSpec per configured journal of bus `bus`; `argv0` locates shmbus-journal by default.
std::vector<ChildSpec> journal_specs(const AppConfig& config, const std::string& bus,
                                     const std::string& argv0);

class ChildProcesses {
 public:
  ChildProcesses() = default;
  ChildProcesses(const ChildProcesses&) = delete;
  ChildProcesses& operator=(const ChildProcesses&) = delete;
  ~ChildProcesses();

  /// Starts every child and the thread that restarts them. Call once.
  void start(std::vector<ChildSpec> specs);
  /// SIGTERM to every child, SIGKILL to those still running after `grace`; joins the thread.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  struct Child {
    ChildSpec spec;
    pid_t pid = -1;
    std::chrono::steady_clock::time_point started;
    std::uint64_t restarts = 0;
  };
  pid_t spawn(const ChildSpec& spec);
  void watch();

  std::vector<Child> children_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace shmbus::supervisor_app
