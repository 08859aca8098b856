// Facts about processes for diagnostics: our pid and a process's start time
// (so a reused pid is not mistaken for the agent that registered). Death itself
// is told by liveness locks (liveness_lock.hpp), not by these.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace shmbus::detail {

/// Start time of `pid` in clock ticks since boot (field 22 of /proc/pid/stat); 0 if unknown.
std::uint64_t process_start_time(pid_t pid) noexcept;

/// True when a process `pid` exists and started at `start_time` (0 = don't compare).
bool process_alive(pid_t pid, std::uint64_t start_time) noexcept;

}  // namespace shmbus::detail
