// The writing side of the bridge's STATS file (shmbus/bridge_stats.hpp): mapped once, updated
// with relaxed word stores (no system call per update), registered as
// /dev/shm/shmbus-bridge.<bus>@<agent> until destroyed.
#pragma once

#include <string>

#include "shmbus/bridge_stats.hpp"

namespace shmbus::bridge::detail {

class StatsFile {
 public:
  StatsFile() = default;
  StatsFile(const StatsFile&) = delete;
  StatsFile& operator=(const StatsFile&) = delete;
  ~StatsFile();
  /// Maps `dir`/STATS and registers it for `bus`/`agent`; best effort (false + a log line).
  bool open(const std::string& dir, const std::string& bus, const std::string& agent);
  void publish(const BridgeStats& s) noexcept;

 private:
  struct Block;
  Block* block_ = nullptr;
  std::string registration_;
};

}  // namespace shmbus::bridge::detail
