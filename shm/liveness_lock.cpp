#include "shm/liveness_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace shmbus::detail {

namespace {
struct flock make_lock(short type, std::uint64_t byte, std::uint64_t len = 1) {
  struct flock fl;
  std::memset(&fl, 0, sizeof(fl));
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(byte);
  fl.l_len = static_cast<off_t>(len);
  fl.l_pid = 0;  // must be 0 for OFD locks
  return fl;
}
}  // namespace

LivenessLocks::~LivenessLocks() {
  if (fd_ >= 0) ::close(fd_);
}

LivenessLocks::LivenessLocks(LivenessLocks&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

LivenessLocks& LivenessLocks::operator=(LivenessLocks&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

std::string LivenessLocks::open(const std::string& path) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd_ < 0) return "open " + path + ": " + std::strerror(errno);
  return {};
}

void LivenessLocks::adopt(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

bool LivenessLocks::try_lock(std::uint64_t byte) noexcept {
  struct flock fl = make_lock(F_WRLCK, byte);
  return ::fcntl(fd_, F_OFD_SETLK, &fl) == 0;
}

void LivenessLocks::unlock(std::uint64_t byte) noexcept {
  struct flock fl = make_lock(F_UNLCK, byte);
  ::fcntl(fd_, F_OFD_SETLK, &fl);
}

bool LivenessLocks::held_by_other(std::uint64_t byte, std::uint64_t len) const noexcept {
  struct flock fl = make_lock(F_WRLCK, byte, len);
  if (::fcntl(fd_, F_OFD_GETLK, &fl) != 0) return true;  // cannot tell: assume alive
  return fl.l_type != F_UNLCK;
}

}  // namespace shmbus::detail
