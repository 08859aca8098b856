// The fuzz targets' common ground: puts a fuzz input into a real POSIX shared-memory segment
// (/dev/shm/shmbus.fuzz-<pid>), so every reader runs on exactly what another process could
// have left there, through the same Segment::open mapping production uses. Used by every
// target under fuzz/ and by nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace shmbus::fuzz {

/// How the input becomes a segment image.
struct ImageOptions {
  /// Make the ready word non-zero and the file at least a header long, so readers that wait
  /// for a creator (Segment::open's ready wait) answer at once. The segment-validation target
  /// leaves both alone and opens with no wait instead.
  bool skip_waits = true;
  /// Re-initialise the control mutex (robust, unlocked). Targets that take it (agent sweep)
  /// would otherwise wait out its timeout on every input whose mutex bytes are garbage; the
  /// mutex's own handling of garbage is glibc's, not a reader of ours.
  bool fresh_control_mutex = false;
};

/// One segment named "fuzz-<pid>", rewritten for each input and removed at exit.
class FuzzSegment {
 public:
  /// The process-wide instance (libFuzzer runs inputs one after another in one thread).
  static FuzzSegment& instance();

  /// Replaces the segment's contents with `data`, zero-extended to the size its header claims
  /// (at most kMaxImage), so a corpus file may stop at its last non-zero byte.
  void load(const std::uint8_t* data, std::size_t size, const ImageOptions& options = {});
  const std::string& bus_name() const noexcept { return bus_name_; }

  static constexpr std::size_t kMaxImage = std::size_t{8} << 20;

 private:
  FuzzSegment();
  ~FuzzSegment();
  std::string bus_name_;
  std::string path_;
  int fd_ = -1;
};

}  // namespace shmbus::fuzz
