// Resource naming, stale sweep and leak check.
#include "resource_names.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace shmbus::bench {
namespace {

constexpr std::string_view kPrefix = "shmbus-bench.";
/// shmbus names the segment of bus B "shmbus.B"; the harnesses name their buses like any
/// other resource, so a bus segment of a run is "shmbus.shmbus-bench.<pid>.<n>".
constexpr std::string_view kBusSegmentPrefix = "shmbus.";
const std::filesystem::path kShmDir = "/dev/shm";

/// The pid in "[shmbus.]shmbus-bench.<pid>[.<rest>]", if the name is one of ours.
std::optional<pid_t> owner_pid(std::string_view name) {
  if (name.starts_with(kBusSegmentPrefix)) name.remove_prefix(kBusSegmentPrefix.size());
  if (!name.starts_with(kPrefix)) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc{} || pid <= 0) return std::nullopt;
  if (end != name.data() + name.size() && *end != '.') return std::nullopt;
  return pid;
}

bool alive(pid_t pid) {
  return kill(pid, 0) == 0 || errno == EPERM;
}

std::filesystem::path tmp_dir() {
  std::error_code ec;
  auto dir = std::filesystem::temp_directory_path(ec);
  return ec ? std::filesystem::path("/tmp") : dir;
}

}  // namespace

std::string next_resource_prefix() {
  static unsigned counter = 0;
  return std::string(kPrefix) + std::to_string(getpid()) + "." + std::to_string(counter++);
}

std::vector<std::string> sweep_stale_resources() {
  std::vector<std::string> removed;
  for (const auto& dir : {kShmDir, tmp_dir()}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const auto pid = owner_pid(entry.path().filename().string());
      if (!pid || alive(*pid)) continue;
      std::error_code remove_ec;
      if (std::filesystem::remove_all(entry.path(), remove_ec) > 0) {
        removed.push_back(entry.path().string());
      }
    }
  }
  return removed;
}

std::vector<std::string> leftover_shm_objects() {
  std::vector<std::string> ours;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kShmDir, ec)) {
    const auto pid = owner_pid(entry.path().filename().string());
    if (pid && *pid == getpid()) ours.push_back(entry.path().string());
  }
  return ours;
}

ScratchDir::ScratchDir() : path_(tmp_dir() / (std::string(kPrefix) + std::to_string(getpid()))) {
  std::filesystem::create_directories(path_);
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all);
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace shmbus::bench
