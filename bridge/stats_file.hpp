// The writing side of the bridge's state directory (shmbus/bridge_stats.hpp), an agent
// directory like a journal's (shm/agent_dir.hpp): the STATS block, mapped once and updated with
// relaxed word stores (no system call per update); the LOCK flock, held for the bridge's life
// (a second bridge on the same state directory is refused, and `shmbus status` tells a
// SIGKILLed bridge from a live one); and the registration /dev/shm/shmbus-bridge.<bus>@<agent>.
#pragma once

#include <string>

#include "shm/agent_dir.hpp"
#include "shmbus/bridge_stats.hpp"
#include "shmbus/result.hpp"

namespace shmbus::bridge::detail {

class StatsFile {
 public:
  /// Takes `dir`'s lock: kBusy when another live bridge works there.
  Result<void> lock(const std::string& dir);
  /// Maps `dir`/STATS and registers it for `bus`/`agent`; best effort (a log line when not).
  void open(const std::string& dir, const std::string& bus, const std::string& agent);
  void publish(const BridgeStats& s) noexcept;

 private:
  shmbus::detail::DirLock lock_;
  shmbus::detail::StatsBlockFile block_;
  shmbus::detail::Registration registration_;
};

}  // namespace shmbus::bridge::detail
