// The `shmbus` CLI's commands: one function per subcommand, called by main.cpp once CLI11 has
// parsed the arguments. Each prints its output and returns the process exit code below.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "shmbus/result.hpp"

namespace shmbus::cli {

/// Exit codes of every command (also in `shmbus --help` and README).
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,     ///< bad arguments (CLI11 parse errors too)
  kExitNoBus = 2,     ///< no bus of that name
  kExitBadTopic = 3,  ///< malformed topic name or pattern, or a topic of another type
  kExitBadJson = 4,   ///< unparsable JSON, or JSON that does not fit the payload type
  kExitError = 5,     ///< anything else (version mismatch, publish refused, I/O)
};

/// Prints "shmbus: <message>" to stderr and maps the error to an exit code (kNotFound -> 2).
int report_error(const Error& error);

struct StatusOptions {
  std::string bus;
  bool json = false;
};
int run_status(const StatusOptions& options);
int run_agents(const StatusOptions& options);

struct TopOptions {
  std::string bus;
  std::uint64_t iterations = 0;  ///< frames to draw; 0 = until 'q' or a signal
  std::chrono::milliseconds period{500};
};
int run_top(const TopOptions& options);

struct TailOptions {
  std::string bus;
  std::string pattern = "*";
  bool from_history = false;
  std::uint64_t count = 0;       ///< stop after this many events; 0 = no limit
  std::uint64_t timeout_ms = 0;  ///< stop after this long; 0 = until a signal
};
int run_tail(const TailOptions& options);

struct PublishOptions {
  std::string bus;
  std::string topic;
  std::string json;
  std::string priority = "normal";
};
int run_publish(const PublishOptions& options);

struct BarrierOptions {
  std::string bus;
  std::string name;  ///< one barrier; empty = all
  bool json = false;
};
int run_barrier_status(const BarrierOptions& options);

struct ErrorsOptions {
  std::string bus;
  std::size_t count = 0;  ///< the newest N entries; 0 = all kept
  bool json = false;
};
int run_errors(const ErrorsOptions& options);

}  // namespace shmbus::cli
