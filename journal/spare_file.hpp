// The next journal segment file, made ahead of need on a background thread: created under a
// name readers ignore, preallocated, mapped and prefaulted, so that when the writer rolls over it
// only renames it and writes the header. Creating, allocating and zero-filling the pages of a
// fresh file (a fifth of the append cost when done on first touch) stays off the append path.
// Used by the Writer (journal/writer.cpp) only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "journal/mapped_file.hpp"
#include "shmbus/result.hpp"

namespace shmbus::journal::detail {

class SpareFile {
 public:
  SpareFile() = default;
  SpareFile(const SpareFile&) = delete;
  SpareFile& operator=(const SpareFile&) = delete;
  /// Waits for the background step and removes a spare nobody took.
  ~SpareFile();

  /// Starts making `path` (which must not exist; a leftover one is removed first) of `size`
  /// bytes on a background thread. At most one at a time: a spare not taken is discarded first.
  void start(std::string path, std::uint64_t size);
  /// True when a spare of `size` bytes was started and not taken.
  bool pending(std::uint64_t size) const noexcept { return started_ && size_ == size; }
  /// Waits for the spare and hands it over (mapped read-write, still under its spare name), or
  /// the error making it (kCapacityExceeded on a full disk: nothing was appended into it).
  Result<MappedFile> take();
  /// Waits for the background step and removes the spare file.
  void discard() noexcept;

 private:
  void join() noexcept;

  std::thread thread_;
  std::optional<Result<MappedFile>> made_;  // written by thread_, read after join
  std::string path_;
  std::uint64_t size_ = 0;
  bool started_ = false;
};

}  // namespace shmbus::journal::detail
