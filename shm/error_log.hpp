// ErrorLog: the process-local view of the segment's error-log ring (ErrorLogHeader and
// ErrorLogEntry in shm/layout.hpp). Every sys.error event a dispatcher publishes is also
// appended here, so `shmbus errors` and recent_errors() show it to a process that attached
// afterwards. Append is noexcept and allocation-free; any thread of any process may call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "shm/error_log_layout.hpp"
#include "shm/segment.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

/// A copy of one committed entry, fields as in ErrorLogEntry (texts cut at their NUL).
struct ErrorLogCopy {
  std::uint64_t index = 0;  // 0 = the first entry ever appended
  std::uint64_t time_ns = 0;
  std::uint64_t error_mono_ns = 0;
  std::uint64_t event_sequence = 0;
  std::uint64_t count = 0;
  std::uint32_t agent = 0;
  std::uint32_t code = 0;
  std::uint32_t topic = 0;
  std::uint32_t errc = 0;
  std::string agent_name;
  std::string handler;
  std::string text;
};

class ErrorLog {
 public:
  /// Geometry from the validated segment config, never from the region's own bytes.
  explicit ErrorLog(const Segment& segment) noexcept;

  /// Appends `e`, stamped with `realtime_ns`; the oldest entry goes when the ring is full.
  /// Lock-free: a writer claims an index, marks its entry, fills it and commits. A writer that
  /// finds its entry still marked by an older one (dead, or stopped mid-write) takes it over;
  /// should the old one resume, the checksum exposes the mix and readers drop the entry, so a
  /// dead writer costs at most its own entry. False when a newer entry already holds the slot.
  bool append(const sys::ErrorEvent& e, std::uint64_t realtime_ns) noexcept;

  /// The newest `limit` committed entries (0: all kept), oldest first. Entries being written,
  /// overwritten while copied, or failing their checksum are skipped.
  std::vector<ErrorLogCopy> read(std::size_t limit = 0) const;

  std::uint64_t appended() const noexcept;  // indexes ever claimed
  std::uint32_t capacity() const noexcept { return capacity_; }

  /// The checksum of an entry as it should be once committed with `seq` (also for tests).
  static std::uint64_t checksum(const ErrorLogEntry& entry, std::uint64_t seq) noexcept;

 private:
  ErrorLogEntry& entry(std::uint64_t index) const noexcept { return entries_[index % capacity_]; }

  ErrorLogHeader* header_ = nullptr;
  ErrorLogEntry* entries_ = nullptr;
  std::uint32_t capacity_ = 0;
};

}  // namespace shmbus::detail
