// Whether a live process writes a journal directory, told by the kernel: Writer::open holds an
// exclusive flock on <dir>/LOCK for the writer's life, and the kernel drops it when the process
// dies however it dies (SIGKILL included). Read from /proc/locks, so asking never takes the lock
// (a writer starting at that moment is not refused). Used by list_bus_journals
// (journal/recorder.cpp), which `shmbus status` and the metrics read.
#pragma once

#include <optional>
#include <string>

namespace shmbus::journal::detail {

/// True when some process holds the flock of `dir`/LOCK, false when none does (or there is no
/// LOCK file), nullopt when /proc/locks cannot be read (the caller falls back on a pid check).
std::optional<bool> writer_lock_held(const std::string& dir);

}  // namespace shmbus::journal::detail
