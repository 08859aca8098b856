// The durable import's mapped high-water marks.
#include "bridge/hwm_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <type_traits>

namespace shmbus::bridge::detail {

namespace {
constexpr std::uint64_t kMagic = 0x4d57484744425253ull;  // "SRBDGHWM"
// Version 2 added the fields from pending_index on; a version-1 file is its first 48 bytes.
constexpr std::uint64_t kVersion = 2;
constexpr std::size_t kVersion1Bytes = 48;
}  // namespace

struct HwmFile::Block {
  std::uint64_t magic;
  std::uint64_t version;
  std::uint64_t done;
  std::uint64_t pending;
  std::uint64_t pending_pseq;
  std::uint32_t agent_index;
  std::uint32_t agent_epoch;
  std::uint64_t pending_index;
  std::uint64_t pending_incarnation;
  std::uint64_t pending_position;
  std::uint32_t pending_priority;
  std::uint32_t reserved;
  std::uint64_t reserved2[6];
  // From offset 128: one Ring per priority.
};

// One priority ring's imported positions: bit (q % kHwmRingWindow) of `bits` is position q, for
// q in [base, base + kHwmRingWindow).
struct HwmRing {
  std::uint64_t incarnation;
  std::uint64_t base;
  std::uint64_t reserved[6];
  std::uint64_t bits[kHwmRingWindow / 64];
};

namespace {
constexpr std::size_t kRingsOffset = 128;
constexpr std::uint64_t kWords = kHwmRingWindow / 64;
constexpr std::size_t kFileBytes = kRingsOffset + kPriorityCount * sizeof(HwmRing);
}  // namespace

HwmRing& HwmFile::ring(std::uint32_t priority) const noexcept {
  return reinterpret_cast<HwmRing*>(reinterpret_cast<char*>(block_) + kRingsOffset)[priority];
}

HwmFile::~HwmFile() {
  if (block_ != nullptr) ::munmap(block_, kFileBytes);
}

Result<void> HwmFile::open(const std::string& path, bool& existed) {
  // The file is a format: a restarted (or upgraded) bridge reads what the last one wrote.
  static_assert(std::is_standard_layout_v<Block> && std::is_standard_layout_v<HwmRing>);
  static_assert(offsetof(Block, pending_index) == kVersion1Bytes);
  static_assert(sizeof(Block) == kRingsOffset);
  static_assert(offsetof(HwmRing, bits) == 64 && sizeof(HwmRing) == 64 + kHwmRingWindow / 8);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Error{Errc::kSystem, "cannot open " + path + ": " + std::strerror(errno)};
  struct stat st {};
  ::fstat(fd, &st);
  const bool v1 = st.st_size == static_cast<off_t>(kVersion1Bytes);
  existed = v1 || st.st_size == static_cast<off_t>(kFileBytes);
  // Extending a version-1 file fills the new fields with zeros: no ring marks yet.
  if (::ftruncate(fd, kFileBytes) != 0) {
    ::close(fd);
    return Error{Errc::kSystem, "cannot size " + path + ": " + std::strerror(errno)};
  }
  void* p = ::mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED)
    return Error{Errc::kSystem, "cannot map " + path + ": " + std::strerror(errno)};
  block_ = static_cast<Block*>(p);
  if (existed && block_->magic == kMagic && v1 && block_->version == 1) block_->version = kVersion;
  if (!existed || block_->magic != kMagic || block_->version != kVersion) {
    if (existed) return Error{Errc::kCorrupt, path + ": not an import high-water mark"};
    std::memset(static_cast<void*>(block_), 0, kFileBytes);
    block_->magic = kMagic;
    block_->version = kVersion;
  }
  return {};
}

HwmState HwmFile::load() const noexcept {
  HwmState s;
  s.done = __atomic_load_n(&block_->done, __ATOMIC_ACQUIRE);
  s.pending = __atomic_load_n(&block_->pending, __ATOMIC_ACQUIRE);
  s.pending_pseq = __atomic_load_n(&block_->pending_pseq, __ATOMIC_ACQUIRE);
  s.agent_index = __atomic_load_n(&block_->agent_index, __ATOMIC_ACQUIRE);
  s.agent_epoch = __atomic_load_n(&block_->agent_epoch, __ATOMIC_ACQUIRE);
  s.pending_index = __atomic_load_n(&block_->pending_index, __ATOMIC_ACQUIRE);
  s.pending_incarnation = __atomic_load_n(&block_->pending_incarnation, __ATOMIC_ACQUIRE);
  s.pending_position = __atomic_load_n(&block_->pending_position, __ATOMIC_ACQUIRE);
  s.pending_priority = __atomic_load_n(&block_->pending_priority, __ATOMIC_ACQUIRE);
  for (std::uint32_t i = 0; i < kPriorityCount; ++i) {
    s.marks[i].incarnation = __atomic_load_n(&ring(i).incarnation, __ATOMIC_ACQUIRE);
    s.marks[i].base = __atomic_load_n(&ring(i).base, __ATOMIC_ACQUIRE);
  }
  return s;
}

void HwmFile::set_agent(std::uint32_t index, std::uint32_t epoch) noexcept {
  __atomic_store_n(&block_->agent_index, index, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->agent_epoch, epoch, __ATOMIC_RELEASE);
}

void HwmFile::begin(std::uint64_t seq, std::uint64_t pseq, std::uint64_t index,
                    std::uint32_t priority, std::uint64_t incarnation,
                    std::uint64_t position) noexcept {
  // A SIGKILL may stop this between any two stores. Producer sequence 0 (no publish takes it)
  // goes first and the real one last: an intent whose fields are half written names no event,
  // and the restarted importer (correctly) finds no publish for it.
  __atomic_store_n(&block_->pending_pseq, std::uint64_t{0}, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->pending_index, index, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->pending_priority, priority, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->pending_incarnation, incarnation, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->pending_position, position, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->pending, seq, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->pending_pseq, pseq, __ATOMIC_RELEASE);
}

void HwmFile::mark(std::uint32_t priority, std::uint64_t incarnation,
                   std::uint64_t position) noexcept {
  if (priority >= kPriorityCount || incarnation == 0) return;
  HwmRing& r = ring(priority);
  // A SIGKILL may stop this between any two stores. Every step leaves bits that claim no
  // position that was not imported: a kill costs at most a forgotten old position (a duplicate
  // only if that very event came again), never a loss. And the intent, complete before the
  // publish, sets this bit again at restart (the publish is in the history).
  if (__atomic_load_n(&r.incarnation, __ATOMIC_ACQUIRE) != incarnation) {
    // Another origin bus incarnation: forget the old one first, then clear, then take it.
    __atomic_store_n(&r.incarnation, std::uint64_t{0}, __ATOMIC_RELEASE);
    for (auto& w : r.bits) __atomic_store_n(&w, std::uint64_t{0}, __ATOMIC_RELAXED);
    __atomic_store_n(&r.base, position & ~std::uint64_t{63}, __ATOMIC_RELEASE);
    __atomic_store_n(&r.incarnation, incarnation, __ATOMIC_RELEASE);
  }
  const std::uint64_t base = __atomic_load_n(&r.base, __ATOMIC_ACQUIRE);
  if (position < base) return;  // older than the window: counts as imported already
  if (position >= base + kHwmRingWindow) {
    // Slide: the words of the positions leaving the window are cleared before the base moves
    // past them (they are reused for the positions entering it).
    const std::uint64_t next = (position + 1 - kHwmRingWindow + 63) & ~std::uint64_t{63};
    const std::uint64_t from = base / 64, to = std::min(next / 64, from + kWords);
    for (std::uint64_t w = from; w < to; ++w) {
      __atomic_store_n(&r.bits[w % kWords], std::uint64_t{0}, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&r.base, next, __ATOMIC_RELEASE);
  }
  std::uint64_t& word = r.bits[(position / 64) % kWords];
  __atomic_store_n(&word,
                   __atomic_load_n(&word, __ATOMIC_RELAXED) | (std::uint64_t{1} << (position % 64)),
                   __ATOMIC_RELEASE);
}

bool HwmFile::seen(std::uint32_t priority, std::uint64_t incarnation,
                   std::uint64_t position) const noexcept {
  if (priority >= kPriorityCount || incarnation == 0) return false;
  const HwmRing& r = ring(priority);
  if (__atomic_load_n(&r.incarnation, __ATOMIC_ACQUIRE) != incarnation) return false;
  const std::uint64_t base = __atomic_load_n(&r.base, __ATOMIC_ACQUIRE);
  if (position < base) return true;
  if (position >= base + kHwmRingWindow) return false;
  const std::uint64_t word = __atomic_load_n(&r.bits[(position / 64) % kWords], __ATOMIC_ACQUIRE);
  return (word >> (position % 64) & 1) != 0;
}

void HwmFile::done(std::uint64_t seq) noexcept {
  __atomic_store_n(&block_->done, seq, __ATOMIC_RELEASE);
}

}  // namespace shmbus::bridge::detail
