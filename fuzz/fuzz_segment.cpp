// FuzzSegment: writes each fuzz input into /dev/shm/shmbus.fuzz-<pid> with plain POSIX calls.
#include "fuzz_segment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "shm/control_mutex.hpp"
#include "shm/layout.hpp"
#include "shm/segment.hpp"

namespace shmbus::fuzz {

using detail::SegmentHeader;

FuzzSegment& FuzzSegment::instance() {
  static FuzzSegment segment;
  return segment;
}

FuzzSegment::FuzzSegment()
    : bus_name_("fuzz-" + std::to_string(::getpid())), path_(detail::shm_file_path(bus_name_)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    std::perror(path_.c_str());
    std::abort();
  }
  // libFuzzer leaves through exit(): remove the segment then (a crash leaves it behind; the
  // fuzz script removes /dev/shm/shmbus.fuzz-* of its runs).
  std::atexit([] { ::unlink(instance().path_.c_str()); });
}

FuzzSegment::~FuzzSegment() {
  if (fd_ >= 0) ::close(fd_);
}

void FuzzSegment::load(const std::uint8_t* data, std::size_t size, const ImageOptions& options) {
  size = std::min(size, kMaxImage);
  std::size_t image = size;
  if (size >= sizeof(SegmentHeader)) {
    std::uint64_t claimed = 0;
    std::memcpy(&claimed, data + offsetof(SegmentHeader, total_size), sizeof claimed);
    if (claimed > image)
      image = static_cast<std::size_t>(std::min<std::uint64_t>(claimed, kMaxImage));
  }
  if (options.skip_waits) image = std::max(image, sizeof(SegmentHeader));
  // Truncating to 0 first zero-fills whatever the previous input left.
  if (::ftruncate(fd_, 0) != 0 || ::ftruncate(fd_, static_cast<off_t>(image)) != 0) {
    std::perror("ftruncate");
    std::abort();
  }
  if (size > 0 && ::pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size)) {
    std::perror("pwrite");
    std::abort();
  }
  if (options.skip_waits) {
    std::uint32_t ready = 0;
    const off_t at = offsetof(SegmentHeader, ready);
    if (::pread(fd_, &ready, sizeof ready, at) != sizeof ready) std::abort();
    if (ready == detail::kNotReady) {
      ready = detail::kLayoutVersion;
      if (::pwrite(fd_, &ready, sizeof ready, at) != sizeof ready) std::abort();
    }
  }
  if (options.fresh_control_mutex) {
    // Built in a local copy and written back: the file is not mapped here.
    alignas(pthread_mutex_t) unsigned char bytes[sizeof(pthread_mutex_t)];
    auto* m = reinterpret_cast<pthread_mutex_t*>(bytes);
    if (!detail::init_robust_mutex(m).empty()) std::abort();
    const off_t at = offsetof(SegmentHeader, control_mutex);
    if (::pwrite(fd_, bytes, sizeof bytes, at) != static_cast<ssize_t>(sizeof bytes)) std::abort();
  }
}

}  // namespace shmbus::fuzz
