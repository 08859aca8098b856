// MappedFile: open/create, preallocate, mmap, msync of a journal segment file.
#include "journal/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace shmbus::journal::detail {

Error os_error(int err, const std::string& what, const std::string& path) {
  Errc code = Errc::kSystem;
  if (err == ENOENT || err == ENOTDIR) code = Errc::kNotFound;
  if (err == EACCES || err == EPERM || err == EROFS) code = Errc::kPermission;
  if (err == ENOSPC || err == EDQUOT) code = Errc::kCapacityExceeded;
  return Error{code, what + " " + path + ": " + std::strerror(err)};
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    close();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    original_size_ = std::exchange(o.original_size_, 0);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
  }
  return *this;
}

MappedFile::~MappedFile() {
  close();
}

void MappedFile::close() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
  data_ = nullptr;
  fd_ = -1;
  size_ = 0;
}

Result<MappedFile> MappedFile::create(const std::string& path, std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return os_error(errno, "cannot create journal file", path);
  // posix_fallocate reserves the blocks now: ENOSPC here, not SIGBUS on a store into the map.
  if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); err != 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return os_error(err, "cannot allocate " + std::to_string(size) + " bytes for journal file",
                    path);
  }
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return os_error(err, "mmap", path);
  }
  MappedFile f;
  f.data_ = static_cast<std::byte*>(p);
  f.size_ = size;
  f.original_size_ = 0;
  f.fd_ = fd;
  f.path_ = path;
  return f;
}

Result<MappedFile> MappedFile::open(const std::string& path, bool writable,
                                    std::uint64_t min_size) {
  const int fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return os_error(errno, "cannot open journal file", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return os_error(err, "fstat", path);
  }
  const auto original = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t size = original;
  if (writable && size < min_size) {
    if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(min_size)); err != 0) {
      ::close(fd);
      return os_error(err, "cannot extend journal file", path);
    }
    size = min_size;
  }
  if (size == 0) {
    ::close(fd);
    return Error{Errc::kCorrupt, "journal file " + path + " is empty"};
  }
  void* p = ::mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    return os_error(err, "mmap", path);
  }
  if (!writable) ::madvise(p, size, MADV_SEQUENTIAL);
  MappedFile f;
  f.data_ = static_cast<std::byte*>(p);
  f.size_ = size;
  f.original_size_ = original;
  f.fd_ = fd;
  f.path_ = path;
  return f;
}

void MappedFile::prefault() noexcept {
  if (data_ == nullptr) return;
#ifdef MADV_POPULATE_WRITE
  if (::madvise(data_, size_, MADV_POPULATE_WRITE) == 0) return;
#endif
  // Older kernels (before 5.14): one store per page does the same, a fault at a time.
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  auto* p = reinterpret_cast<volatile unsigned char*>(data_);
  for (std::uint64_t i = 0; i < size_; i += page) p[i] = p[i];
}

void MappedFile::release(std::uint64_t from, std::uint64_t to) const noexcept {
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  from = (from + page - 1) & ~(page - 1);
  to = std::min(to, size_) & ~(page - 1);
  if (data_ == nullptr || to <= from) return;
  ::madvise(data_ + from, to - from, MADV_DONTNEED);
}

int MappedFile::rename_to(const std::string& path) noexcept {
  if (::rename(path_.c_str(), path.c_str()) != 0) return errno;
  try {
    path_ = path;
  } catch (...) {
    return ENOMEM;
  }
  return 0;
}

int MappedFile::sync(std::uint64_t from, std::uint64_t to) const noexcept {
  if (data_ == nullptr || to <= from) return 0;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t start = from & ~(page - 1);
  if (::msync(data_ + start, to - start, MS_SYNC) != 0) return errno;
  return 0;
}

}  // namespace shmbus::journal::detail
