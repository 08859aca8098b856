// Names of the resources a run creates, and the guarantee that none outlive the
// harness: every name carries the harness's pid ("shmbus-bench.<pid>.<n>"; a bus
// of that name lives in /dev/shm/shmbus.shmbus-bench.<pid>.<n>), a sweep at start
// removes those of dead pids (a harness killed by SIGKILL), and a check at exit
// reports any of ours still present. Used by both benchmark harnesses.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace shmbus::bench {

/// "shmbus-bench.<pid>.<counter>", unique per call within this process.
std::string next_resource_prefix();

/// Removes /dev/shm/[shmbus.]shmbus-bench.<pid>.* and <tmp>/shmbus-bench.<pid> whose pid
/// is not alive. Returns the removed paths.
std::vector<std::string> sweep_stale_resources();

/// Objects of this process still in /dev/shm (should be none between runs).
std::vector<std::string> leftover_shm_objects();

/// A private directory for socket files, removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace shmbus::bench
