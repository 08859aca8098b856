// The bridge's STATS file and its /dev/shm registration: written by the bridge (StatsFile), read
// by `shmbus status` and the supervisor's metrics (read_bridge_stats, list_bus_bridges). The
// registration works as the journal's does (journal_recorder.hpp): a link named after bus and
// agent pointing at the directory that holds STATS.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "bridge/stats_file.hpp"
#include "shmbus/bridge_stats.hpp"

namespace shmbus::bridge {

namespace {
constexpr std::uint64_t kStatsMagic = 0x5354414247444252ull;  // "RBDGBATS"
constexpr std::uint64_t kStatsVersion = 1;
constexpr std::string_view kRegistrationDir = "/dev/shm/";
constexpr std::string_view kRegistrationPrefix = "shmbus-bridge.";
static_assert(std::is_trivially_copyable_v<BridgeStats>);
static_assert(sizeof(BridgeStats) % 8 == 0);
}  // namespace

namespace detail {

struct StatsFile::Block {
  std::uint64_t magic;
  std::uint64_t version;
  BridgeStats s;
};

StatsFile::~StatsFile() {
  if (block_ != nullptr) ::munmap(block_, sizeof(Block));
  if (!registration_.empty()) ::unlink(registration_.c_str());
}

bool StatsFile::open(const std::string& dir, const std::string& bus, const std::string& agent) {
  const std::string path = dir + "/STATS";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    spdlog::warn("bridge: cannot open {}: {}", path, std::strerror(errno));
    return false;
  }
  if (::ftruncate(fd, sizeof(Block)) == 0) {
    void* p = ::mmap(nullptr, sizeof(Block), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      block_ = static_cast<Block*>(p);
      block_->magic = kStatsMagic;
      block_->version = kStatsVersion;
    }
  }
  ::close(fd);
  char abs[PATH_MAX];
  if (::realpath(dir.c_str(), abs) == nullptr) return block_ != nullptr;
  const std::string link = bridge_registration_path(bus, agent);
  ::unlink(link.c_str());  // left by a killed bridge of this name (names are unique when live)
  if (::symlink(abs, link.c_str()) != 0) {
    spdlog::warn("bridge: cannot register as {}: {}", link, std::strerror(errno));
  } else {
    registration_ = link;
  }
  return block_ != nullptr;
}

void StatsFile::publish(const BridgeStats& s) noexcept {
  if (block_ == nullptr) return;
  auto* d = reinterpret_cast<std::uint64_t*>(&block_->s);
  const auto* src = reinterpret_cast<const std::uint64_t*>(&s);
  for (std::size_t i = 0; i < sizeof(BridgeStats) / 8; ++i) {
    __atomic_store_n(&d[i], src[i], __ATOMIC_RELAXED);
  }
}

}  // namespace detail

Result<BridgeStats> read_bridge_stats(const std::string& dir) {
  const std::string path = dir + "/STATS";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error{Errc::kNotFound, "no bridge stats " + path + ": " + std::strerror(errno)};
  struct {
    std::uint64_t magic, version;
    BridgeStats s;
  } b{};
  const auto n = ::pread(fd, &b, sizeof b, 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof b) || b.magic != kStatsMagic || b.version != kStatsVersion) {
    return Error{Errc::kCorrupt, "bridge stats " + path + ": not a version-1 stats block"};
  }
  b.s.last_error[sizeof b.s.last_error - 1] = '\0';
  return b.s;
}

std::string bridge_registration_path(std::string_view bus, std::string_view agent) {
  std::string p(kRegistrationDir);
  p.append(kRegistrationPrefix).append(bus).append("@").append(agent);
  return p;
}

std::vector<BusBridge> list_bus_bridges(std::string_view bus) {
  std::vector<BusBridge> out;
  const std::string dir(kRegistrationDir);
  const std::string prefix = std::string(kRegistrationPrefix) + std::string(bus) + "@";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* ent = ::readdir(d)) {
    const std::string_view name(ent->d_name);
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    BusBridge b;
    b.agent = std::string(name.substr(prefix.size()));
    char target[PATH_MAX];
    const std::string link = dir + std::string(name);
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    b.dir.assign(target, static_cast<std::size_t>(n));
    if (auto st = read_bridge_stats(b.dir)) {
      b.stats = *st;
      const auto pid = static_cast<pid_t>(b.stats.pid);
      b.running = pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
    } else {
      b.error = st.message();
    }
    out.push_back(std::move(b));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const BusBridge& a, const BusBridge& b) { return a.agent < b.agent; });
  return out;
}

}  // namespace shmbus::bridge
