// SharedMapping: an anonymous MAP_SHARED region created by the parent before it
// forks, so producer and consumer see the same bytes. It has no name, so nothing
// can be left behind in /dev/shm whatever happens to the processes.
#pragma once

#include <cstddef>

namespace shmbus::bench {

inline constexpr std::size_t kCacheLineBytes = 64;

class SharedMapping {
 public:
  SharedMapping() = default;
  /// Maps `bytes` (rounded up to pages) zero-filled; touches every page. Throws on failure.
  explicit SharedMapping(std::size_t bytes);
  SharedMapping(SharedMapping&& other) noexcept;
  SharedMapping& operator=(SharedMapping&& other) noexcept;
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  ~SharedMapping();

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace shmbus::bench
