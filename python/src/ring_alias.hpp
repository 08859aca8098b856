// RingAlias: a second, read-only mapping of a bus segment through which the binding exports
// handlers' zero-copy payload views. When a view outlives its handler (a NumPy array or a
// memoryview slice kept past the call), freeze() swaps the alias pages under that payload,
// atomically, for a private read-only copy of their bytes at that moment: the kept view goes on
// reading that event, never a recycled slot, and the primary mapping the core reads is
// untouched. Used by PyEvent (py_bus.cpp), with the GIL held. Not API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace shmbus::py {

/// One read-only MAP_SHARED mapping of one VMA of a segment file. After freeze() only the
/// frozen pages stay mapped; the destructor unmaps whatever is left.
class AliasMapping {
 public:
  AliasMapping(std::uintptr_t primary_begin, std::byte* base, std::size_t len)
      : primary_begin_(primary_begin), base_(base), len_(len) {}
  ~AliasMapping();
  AliasMapping(const AliasMapping&) = delete;
  AliasMapping& operator=(const AliasMapping&) = delete;

  /// The alias of primary address `p` (which lies in this mapping's VMA).
  const std::byte* translate(const std::byte* p) const noexcept {
    return base_ + (reinterpret_cast<std::uintptr_t>(p) - primary_begin_);
  }
  bool frozen() const noexcept { return frozen_; }

 private:
  friend class RingAlias;
  std::uintptr_t primary_begin_;
  std::byte* base_;
  std::size_t len_;
  bool frozen_ = false;
};

/// Per PyBus. map() hands out the live alias of a payload; freeze() retires it.
class RingAlias {
 public:
  /// The mapping aliasing payload [p, p + n), shared by the events that use it; nullptr when
  /// [p, p + n) is not inside a mapping of a /dev/shm file that can be opened (a lagging
  /// subscriber's copied-out event, no /proc): the caller then exports a private copy.
  /// Cold on the first call per segment (reads /proc/self/maps, mmap), then a range check.
  std::shared_ptr<AliasMapping> map(const std::byte* p, std::size_t n);

  /// A view of [alias_p, alias_p + n) in `m` is still exported while its handler returns:
  /// replaces the pages under it with a private read-only copy taken now (mremap, atomic for
  /// concurrent readers), and stops handing `m` out (the next map() maps afresh). When no
  /// other event holds `m`, its other pages are unmapped at once. Out of memory for the copy,
  /// the pages become zeros instead (kZeroed); kFailed if even that was refused.
  enum class Freeze { kCopied, kZeroed, kFailed };
  Freeze freeze(const std::shared_ptr<AliasMapping>& m, const std::byte* alias_p, std::size_t n);

  /// Views frozen so far (handlers that kept a payload view past their return).
  std::uint64_t frozen_count() const noexcept { return frozen_count_; }

 private:
  struct Vma {
    std::uintptr_t begin = 0, end = 0;
    std::uint64_t file_offset = 0;
    std::string path;
    std::shared_ptr<AliasMapping> alias;  // the live alias, mapped on first use
  };
  void scan();

  std::vector<Vma> vmas_;  // the /dev/shm mappings of this process, from /proc/self/maps
  bool scanned_ = false;
  std::uint64_t frozen_count_ = 0;
};

}  // namespace shmbus::py
