// RingAlias (ring_alias.hpp): the alias mapping of a segment and the freezing of kept views.
#include "ring_alias.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace shmbus::py {

namespace {

std::uintptr_t page_size() {
  static const std::uintptr_t p = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  return p;
}

}  // namespace

AliasMapping::~AliasMapping() {
  if (base_ != nullptr && len_ != 0) munmap(base_, len_);
}

void RingAlias::scan() {
  scanned_ = true;
  vmas_.clear();
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // "begin-end perms offset dev inode path"
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    if (!(in >> range >> perms >> offset >> dev >> inode)) continue;
    std::getline(in >> std::ws, path);
    if (path.rfind("/dev/shm/", 0) != 0 || path.find(" (deleted)") != std::string::npos) continue;
    Vma v;
    if (std::sscanf(range.c_str(), "%lx-%lx", &v.begin, &v.end) != 2) continue;
    v.file_offset = std::stoull(offset, nullptr, 16);
    v.path = std::move(path);
    vmas_.push_back(std::move(v));
  }
}

std::shared_ptr<AliasMapping> RingAlias::map(const std::byte* p, std::size_t n) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  auto find = [&]() -> Vma* {
    for (Vma& v : vmas_) {
      if (a >= v.begin && a + n <= v.end) return &v;
    }
    return nullptr;
  };
  if (!scanned_) scan();
  Vma* v = find();
  if (v == nullptr) return nullptr;
  if (v->alias == nullptr) {
    const int fd = ::open(v->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    const std::size_t len = v->end - v->begin;
    void* base = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(v->file_offset));
    ::close(fd);
    if (base == MAP_FAILED) return nullptr;
    v->alias = std::make_shared<AliasMapping>(v->begin, static_cast<std::byte*>(base), len);
  }
  return v->alias;
}

RingAlias::Freeze RingAlias::freeze(const std::shared_ptr<AliasMapping>& m,
                                    const std::byte* alias_p, std::size_t n) {
  const std::uintptr_t ps = page_size();
  const auto first = reinterpret_cast<std::uintptr_t>(alias_p) & ~(ps - 1);
  const auto last = (reinterpret_cast<std::uintptr_t>(alias_p) + n + ps - 1) & ~(ps - 1);
  const std::size_t len = last - first;
  // The slot is still ours: this dispatcher's cursor has not passed it, so producers cannot
  // have reused it, and the copy below is that event's bytes.
  Freeze result = Freeze::kCopied;
  void* snap = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  bool moved = false;
  if (snap != MAP_FAILED) {
    std::memcpy(snap, reinterpret_cast<const void*>(first), len);
    moved = mprotect(snap, len, PROT_READ) == 0 &&
            mremap(snap, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, reinterpret_cast<void*>(first)) !=
                MAP_FAILED;
    if (!moved) munmap(snap, len);
  }
  if (!moved) {
    // Out of memory for a copy: zero pages in place still keep the view off the ring.
    if (mmap(reinterpret_cast<void*>(first), len, PROT_READ,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
      return Freeze::kFailed;
    }
    result = Freeze::kZeroed;
  }
  ++frozen_count_;
  // Retire m: later events get a fresh alias, since these pages no longer follow the ring.
  for (Vma& v : vmas_) {
    if (v.alias == m) v.alias.reset();
  }
  AliasMapping& a = *m;
  a.frozen_ = true;
  // Only the kept view's event holds m (the caller's reference): keep just the frozen pages.
  if (m.use_count() == 1) {
    const auto base = reinterpret_cast<std::uintptr_t>(a.base_);
    if (first > base) munmap(a.base_, first - base);
    if (base + a.len_ > last) munmap(reinterpret_cast<void*>(last), base + a.len_ - last);
    a.base_ = reinterpret_cast<std::byte*>(first);
    a.len_ = len;
  }
  return result;
}

}  // namespace shmbus::py
