// An agent directory: the on-disk home of a bus agent that works out of a directory of its own
// (the journal recorder, the NATS bridge), and the three things `shmbus status` and the
// supervisor's metrics need from it without knowing where it is:
// - <dir>/STATS: a magic word, a version word and the agent's counters, mapped once by the agent
//   and updated with relaxed word stores (no system call per update);
// - <dir>/LOCK: an exclusive flock held for the agent's life, so the kernel tells whether a live
//   process still works there (a SIGKILLed agent leaves its files but not its lock);
// - /dev/shm/shmbus-<kind>.<bus>@<agent> -> <dir>: the registration that lists the bus's agent
//   directories ('@' is in neither name), made when the agent opens and removed when it closes.
// Not API: the journal and the bridge wrap it in their typed calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/result.hpp"

namespace shmbus::detail {

/// The writing side of <dir>/STATS.
class StatsBlockFile {
 public:
  StatsBlockFile() = default;
  StatsBlockFile(const StatsBlockFile&) = delete;
  StatsBlockFile& operator=(const StatsBlockFile&) = delete;
  ~StatsBlockFile();
  /// Maps <dir>/STATS for `bytes` of counters (a multiple of 8) behind `magic` and `version`.
  /// Best effort: false (and a log line naming `who`) when it cannot; store() then does nothing.
  bool open(const std::string& dir, std::uint64_t magic, std::uint64_t version, std::size_t bytes,
            std::string_view who);
  /// Copies `bytes` of counters into the block, word by word with relaxed stores.
  void store(const void* counters, std::size_t bytes) noexcept;

 private:
  std::byte* block_ = nullptr;
  std::size_t size_ = 0;
};

/// Reads the counters of <dir>/STATS into `out` (`bytes`). kNotFound when there is no file,
/// kCorrupt when its magic, version or size is not the expected one; `what` names it.
Result<void> read_stats_block(const std::string& dir, std::uint64_t magic, std::uint64_t version,
                              void* out, std::size_t bytes, std::string_view what);

/// Holds the exclusive flock on <dir>/LOCK until destroyed. kBusy when another process holds it.
class DirLock {
 public:
  DirLock() = default;
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirLock& operator=(DirLock&& o) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();
  static Result<DirLock> acquire(const std::string& dir, std::string_view who);
  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

/// True when some process holds the flock of <dir>/LOCK, false when none does (or there is no
/// LOCK file), nullopt when /proc/locks cannot be read. Asking never takes the lock.
std::optional<bool> dir_lock_held(const std::string& dir);

/// /dev/shm/shmbus-<kind>.<bus>@<agent>.
std::string registration_path(std::string_view kind, std::string_view bus, std::string_view agent);

/// The registration link of one agent directory, removed when destroyed.
class Registration {
 public:
  Registration() = default;
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration();
  /// Links registration_path(kind, bus, agent) to the absolute path of `dir`, replacing a link
  /// a killed agent of the same name left (names are unique among live agents). Best effort:
  /// false and a log line when it cannot.
  bool open(std::string_view kind, std::string_view bus, std::string_view agent,
            const std::string& dir);

 private:
  std::string link_;
};

/// One registered agent directory of a bus.
struct RegisteredDir {
  std::string agent;
  std::string dir;
  /// Whether a live process holds <dir>/LOCK (dir_lock_held); nullopt when the kernel's lock
  /// table cannot be read, and the caller falls back on pid_alive of the pid in its STATS.
  std::optional<bool> lock_held;
};

/// The agent directories of `kind` registered for `bus`, sorted by agent name. Never fails: a
/// missing /dev/shm or no registration gives an empty list.
std::vector<RegisteredDir> list_registered(std::string_view kind, std::string_view bus);

/// Whether `pid` names a live process (or one we may not signal); false for 0.
bool pid_alive(std::uint64_t pid) noexcept;

}  // namespace shmbus::detail
