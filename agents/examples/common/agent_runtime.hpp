// What every example agent shares: the common command-line options, the spdlog logger, attaching
// by name (waiting for the supervisor to create the bus) and a SIGINT/SIGTERM handler that stops
// the bus. Used by the executables under agents/examples/.
#pragma once

#include <chrono>
#include <string>

#include "shmbus/bus.hpp"
#include "shmbus/result.hpp"

namespace shmbus::examples {

struct CommonOptions {
  std::string bus = "demo";
  std::string log_level = "info";
  /// How long to wait for the bus to appear (the supervisor may start after us).
  double attach_timeout_s = 10;
};

/// Makes a stderr logger named `name` the default spdlog logger. False on an unknown level.
bool init_logging(const std::string& name, const std::string& level);

/// Attaches as `agent_name` with WaitStrategy::kBlock, retrying while the bus does not exist yet
/// (kNotFound, kNotReady) until the attach timeout.
Result<Bus> attach_agent(const CommonOptions& options, const std::string& agent_name);

/// SIGINT/SIGTERM set the stop flag and call stop() (async-signal-safe) on the target bus.
void install_stop_handler();
/// The bus the handler stops; nullptr before it is destroyed.
void set_stop_target(Bus* bus);
bool stop_requested() noexcept;

/// Runs `main_body` with a logger, the bus attached as `agent_name` and the stop handler
/// installed; maps errors to exit codes (0 ok, 2 no bus, 1 other). For the agents' main().
template <typename Body>
int run_agent(const CommonOptions& options, const std::string& agent_name, Body&& main_body);

/// CLOCK_MONOTONIC and CLOCK_REALTIME in ns.
std::uint64_t mono_ns() noexcept;
std::uint64_t wall_ns() noexcept;

// ---- implementation ------------------------------------------------------------------------

int report_attach_failure(const std::string& agent_name, const Error& error);
void spdlog_info_detached(const std::string& agent_name);

template <typename Body>
int run_agent(const CommonOptions& options, const std::string& agent_name, Body&& main_body) {
  if (!init_logging(agent_name, options.log_level)) return 1;
  install_stop_handler();
  auto bus = attach_agent(options, agent_name);
  if (!bus) return report_attach_failure(agent_name, bus.error());
  set_stop_target(&bus.value());
  const int rc = main_body(*bus);
  set_stop_target(nullptr);
  spdlog_info_detached(agent_name);
  return rc;
}

}  // namespace shmbus::examples
