// A journal segment file mapped into memory (MAP_SHARED): created preallocated so a full disk is
// found when the file is made, never as SIGBUS on a later store. Used by the writer (read-write)
// and the reader (read-only, one file at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "shmbus/result.hpp"

namespace shmbus::journal::detail {

/// An Error for errno `err` of `what` on `path`: ENOENT -> kNotFound, EACCES/EPERM/EROFS ->
/// kPermission, ENOSPC/EDQUOT -> kCapacityExceeded, else kSystem.
Error os_error(int err, const std::string& what, const std::string& path);

class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }
  MappedFile& operator=(MappedFile&& o) noexcept;
  ~MappedFile();

  /// Creates `path` (must not exist), preallocates `size` bytes and maps it read-write. On any
  /// failure the file is removed again.
  static Result<MappedFile> create(const std::string& path, std::uint64_t size);
  /// Maps an existing file; read-write ones are first extended to `min_size` (zeros) if shorter.
  static Result<MappedFile> open(const std::string& path, bool writable, std::uint64_t min_size);

  bool valid() const noexcept { return data_ != nullptr; }
  std::byte* data() const noexcept { return data_; }
  std::uint64_t size() const noexcept { return size_; }
  /// Size the file had on disk before open() extended it.
  std::uint64_t original_size() const noexcept { return original_size_; }
  const std::string& path() const noexcept { return path_; }
  /// msync(MS_SYNC) of [from, to), widened to pages; returns errno or 0.
  int sync(std::uint64_t from, std::uint64_t to) const noexcept;
  /// Faults every page of a read-write map in now (MADV_POPULATE_WRITE, else a store per page),
  /// so later stores take no page fault and the kernel zero-fills no page on the append path.
  /// Best effort: a failure leaves the pages to fault on first touch as before.
  void prefault() noexcept;
  /// Drops the pages of [from, to) (widened inward to whole pages) from this process's map
  /// (MADV_DONTNEED): the resident set of a reader that streams a file stays flat; a later read
  /// of the range faults the pages back from the page cache. Best effort.
  void release(std::uint64_t from, std::uint64_t to) const noexcept;
  /// Renames the file (same directory) to `path`; errno or 0.
  int rename_to(const std::string& path) noexcept;
  void close() noexcept;

 private:
  std::byte* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t original_size_ = 0;
  int fd_ = -1;
  std::string path_;
};

}  // namespace shmbus::journal::detail
