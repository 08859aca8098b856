// Death told by the kernel: each agent (and the supervisor) holds an
// open-file-description lock on one byte of the segment file. The kernel drops
// it when the process dies at any instruction, so a free byte means "dead".
// OFD locks belong to the open file, not the thread, and do not merge across
// separate opens in one process, so several handles per process work.
#pragma once

#include <cstdint>
#include <string>

namespace shmbus::detail {

/// Lock bytes live far beyond the segment's data; locks need no backing bytes.
inline constexpr std::uint64_t kLockBase = 1ull << 40;
inline constexpr std::uint64_t kSupervisorLockByte = kLockBase;
inline constexpr std::uint64_t kCreatorLockByte = kLockBase + 1;
inline constexpr std::uint64_t kAgentLockBase = kLockBase + 1024;

/// An fd opened on the segment file, used only for liveness locks.
class LivenessLocks {
 public:
  LivenessLocks() = default;
  ~LivenessLocks();
  LivenessLocks(LivenessLocks&& other) noexcept;
  LivenessLocks& operator=(LivenessLocks&& other) noexcept;
  LivenessLocks(const LivenessLocks&) = delete;
  LivenessLocks& operator=(const LivenessLocks&) = delete;

  /// Opens `path` (the segment file). Returns an error text, empty on success.
  std::string open(const std::string& path);
  /// Takes ownership of `fd`, an open descriptor of the segment file (the creator passes a
  /// duplicate of the descriptor its exclusive create returned, so its locks are on the very
  /// file it created, not on whatever the name points to by then).
  void adopt(int fd) noexcept;
  bool is_open() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }

  /// Takes the write lock on `byte` without waiting; false when another open holds it.
  bool try_lock(std::uint64_t byte) noexcept;
  /// Releases a lock this open holds.
  void unlock(std::uint64_t byte) noexcept;
  /// True when an open other than this one holds any byte of [byte, byte+len) (a live process).
  bool held_by_other(std::uint64_t byte, std::uint64_t len = 1) const noexcept;

 private:
  int fd_ = -1;
};

}  // namespace shmbus::detail
