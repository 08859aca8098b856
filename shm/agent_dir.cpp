// Agent directories (agent_dir.hpp): the STATS block, the LOCK flock looked up in /proc/locks by
// device and inode, and the /dev/shm registration links.
#include "shm/agent_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

#include "shm/shared_words.hpp"

namespace shmbus::detail {

namespace {

constexpr std::size_t kStatsHeader = 16;  // magic, version
constexpr std::string_view kRegistrationDir = "/dev/shm/";

Error errno_error(int err, const std::string& what) {
  Errc code = Errc::kSystem;
  if (err == ENOENT || err == ENOTDIR) code = Errc::kNotFound;
  if (err == EACCES || err == EPERM || err == EROFS) code = Errc::kPermission;
  return Error{code, what + ": " + std::strerror(err)};
}

}  // namespace

// ---- STATS --------------------------------------------------------------------------------

StatsBlockFile::~StatsBlockFile() {
  if (block_ != nullptr) ::munmap(block_, size_);
}

bool StatsBlockFile::open(const std::string& dir, std::uint64_t magic, std::uint64_t version,
                          std::size_t bytes, std::string_view who) {
  const std::string path = dir + "/STATS";
  const std::size_t size = kStatsHeader + bytes;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    spdlog::warn("{}: cannot open {}: {}", who, path, std::strerror(errno));
    return false;
  }
  void* p = MAP_FAILED;
  if (::ftruncate(fd, static_cast<off_t>(size)) == 0) {
    p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  const int err = errno;
  ::close(fd);
  if (p == MAP_FAILED) {
    spdlog::warn("{}: cannot map {}: {}", who, path, std::strerror(err));
    return false;
  }
  block_ = static_cast<std::byte*>(p);
  size_ = size;
  std::memcpy(block_, &magic, 8);
  std::memcpy(block_ + 8, &version, 8);
  return true;
}

void StatsBlockFile::store(const void* counters, std::size_t bytes) noexcept {
  if (block_ == nullptr) return;
  store_words(block_ + kStatsHeader, static_cast<const std::byte*>(counters),
              std::min(bytes, size_ - kStatsHeader));
}

Result<void> read_stats_block(const std::string& dir, std::uint64_t magic, std::uint64_t version,
                              void* out, std::size_t bytes, std::string_view what) {
  const std::string path = dir + "/STATS";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error{Errc::kNotFound,
                 "no " + std::string(what) + " " + path + ": " + std::strerror(errno)};
  }
  std::uint64_t head[2] = {};
  const ssize_t h = ::pread(fd, head, sizeof head, 0);
  const ssize_t n = ::pread(fd, out, bytes, kStatsHeader);
  ::close(fd);
  if (h != static_cast<ssize_t>(sizeof head) || n != static_cast<ssize_t>(bytes) ||
      head[0] != magic || head[1] != version) {
    return Error{Errc::kCorrupt, std::string(what) + " " + path + ": not a version-" +
                                     std::to_string(version) + " stats block"};
  }
  return {};
}

// ---- LOCK ---------------------------------------------------------------------------------

DirLock& DirLock::operator=(DirLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<DirLock> DirLock::acquire(const std::string& dir, std::string_view who) {
  const std::string path = dir + "/LOCK";
  DirLock l;
  l.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (l.fd_ < 0) {
    return errno_error(errno, std::string(who) + " directory not writable: " + path);
  }
  if (::flock(l.fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error{Errc::kBusy,
                   std::string(who) + " directory " + dir + " is used by another live process"};
    }
    return errno_error(errno, "cannot lock " + path);
  }
  return l;
}

std::optional<bool> dir_lock_held(const std::string& dir) {
  struct stat st {};
  if (::stat((dir + "/LOCK").c_str(), &st) != 0) return false;  // never opened by an agent
  std::FILE* f = std::fopen("/proc/locks", "re");
  if (f == nullptr) return std::nullopt;
  // Lines like "3: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF" (blocked waiters are marked
  // "->" and hold nothing); device as major:minor in hex, then the inode.
  char line[256];
  bool held = false;
  while (!held && std::fgets(line, sizeof line, f) != nullptr) {
    char kind[16] = {}, mode[16] = {}, access[16] = {};
    unsigned maj = 0, min = 0;
    std::uint64_t ino = 0;
    long pid = 0;
    const char* p = std::strchr(line, ':');
    if (p == nullptr || std::strstr(line, "->") != nullptr) continue;
    if (std::sscanf(p + 1, "%15s %15s %15s %ld %x:%x:%" SCNu64, kind, mode, access, &pid, &maj,
                    &min, &ino) != 7) {
      continue;
    }
    held = std::strcmp(kind, "FLOCK") == 0 && ino == static_cast<std::uint64_t>(st.st_ino) &&
           maj == ::major(st.st_dev) && min == ::minor(st.st_dev);
  }
  std::fclose(f);
  return held;
}

bool pid_alive(std::uint64_t pid) noexcept {
  const auto p = static_cast<pid_t>(pid);
  return p > 0 && (::kill(p, 0) == 0 || errno == EPERM);
}

// ---- registration -------------------------------------------------------------------------

std::string registration_path(std::string_view kind, std::string_view bus, std::string_view agent) {
  std::string p(kRegistrationDir);
  p.append("shmbus-").append(kind).append(".").append(bus).append("@").append(agent);
  return p;
}

Registration::~Registration() {
  if (!link_.empty()) ::unlink(link_.c_str());
}

bool Registration::open(std::string_view kind, std::string_view bus, std::string_view agent,
                        const std::string& dir) {
  char abs[PATH_MAX];
  if (::realpath(dir.c_str(), abs) == nullptr) {
    spdlog::warn("{} {}: cannot register: {}", kind, dir, std::strerror(errno));
    return false;
  }
  const std::string link = registration_path(kind, bus, agent);
  ::unlink(link.c_str());  // left by a killed agent of this name (names are unique when live)
  if (::symlink(abs, link.c_str()) != 0) {
    spdlog::warn("{} {}: cannot register as {}: {}", kind, dir, link, std::strerror(errno));
    return false;
  }
  link_ = link;
  return true;
}

std::vector<RegisteredDir> list_registered(std::string_view kind, std::string_view bus) {
  std::vector<RegisteredDir> out;
  const std::string dir(kRegistrationDir);
  const std::string prefix = registration_path(kind, bus, "").substr(dir.size());
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* ent = ::readdir(d)) {
    const std::string_view name(ent->d_name);
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    char target[PATH_MAX];
    const std::string link = dir + std::string(name);
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;  // not a link: not ours
    RegisteredDir r;
    r.agent = std::string(name.substr(prefix.size()));
    r.dir.assign(target, static_cast<std::size_t>(n));
    r.lock_held = dir_lock_held(r.dir);
    out.push_back(std::move(r));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const RegisteredDir& a, const RegisteredDir& b) { return a.agent < b.agent; });
  return out;
}

}  // namespace shmbus::detail
