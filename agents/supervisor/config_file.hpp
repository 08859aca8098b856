// The supervisor's JSON configuration file (--config FILE): every SupervisorConfig field, plus
// the process's own options. Unknown keys are errors, so a typo never goes unnoticed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shmbus/result.hpp"
#include "shmbus/supervisor.hpp"

namespace shmbus::supervisor_app {

/// What the process runs with: the library's config plus logging.
struct AppConfig {
  /// The process serves metrics by default (the library does not), on loopback only.
  AppConfig() { supervisor.metrics_address = kDefaultMetricsAddress; }
  SupervisorConfig supervisor;
  std::string log_level = "info";  // trace, debug, info, warn, error, critical, off
  /// "journals": journal agents (shmbus-journal) the supervisor starts once the bus exists,
  /// restarts when they exit, and stops with itself.
  struct Journal {
    std::string dir;                ///< --dir (required)
    std::string name;               ///< --name; default "journal", "journal-2", ...
    std::vector<std::string> args;  ///< further shmbus-journal arguments, verbatim
  };
  std::vector<Journal> journals;
  /// The shmbus-journal executable; default: beside shmbus-supervisor, else the build tree's
  /// agents/journal/shmbus-journal.
  std::string journal_binary;
};

/// Reads `path` into `config` (fields absent from the file keep their values). Errors:
/// kNotFound (no file), kInvalidArgument (bad JSON, unknown key, wrong type), naming the key.
Result<void> load_config_file(const std::string& path, AppConfig& config);

/// A user (name or number) as a uid, or a group as a gid; kInvalidArgument naming `what` when
/// there is no such user or group.
Result<std::int64_t> resolve_user(const std::string& text, const char* what);
Result<std::int64_t> resolve_group(const std::string& text, const char* what);

/// Octal mode text ("0660") as a number; kInvalidArgument naming `what` otherwise.
Result<std::uint32_t> parse_mode(const std::string& text, const char* what);

/// An example file with every key at its default, for --print-config.
std::string default_config_json();

}  // namespace shmbus::supervisor_app
