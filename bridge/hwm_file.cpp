// The durable import's mapped high-water marks.
#include "bridge/hwm_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
  RingMark marks[kPriorityCount];
};

HwmFile::~HwmFile() {
  if (block_ != nullptr) ::munmap(block_, sizeof(Block));
}

Result<void> HwmFile::open(const std::string& path, bool& existed) {
  // The file is a format: a restarted (or upgraded) bridge reads what the last one wrote.
  static_assert(std::is_standard_layout_v<Block> && sizeof(RingMark) == 16);
  static_assert(offsetof(Block, pending_index) == kVersion1Bytes);
  static_assert(offsetof(Block, marks) == 80 && sizeof(Block) == 144);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Error{Errc::kSystem, "cannot open " + path + ": " + std::strerror(errno)};
  struct stat st {};
  ::fstat(fd, &st);
  const bool v1 = st.st_size == static_cast<off_t>(kVersion1Bytes);
  existed = v1 || st.st_size == static_cast<off_t>(sizeof(Block));
  // Extending a version-1 file fills the new fields with zeros: no ring marks yet.
  if (::ftruncate(fd, sizeof(Block)) != 0) {
    ::close(fd);
    return Error{Errc::kSystem, "cannot size " + path + ": " + std::strerror(errno)};
  }
  void* p = ::mmap(nullptr, sizeof(Block), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED)
    return Error{Errc::kSystem, "cannot map " + path + ": " + std::strerror(errno)};
  block_ = static_cast<Block*>(p);
  if (existed && block_->magic == kMagic && v1 && block_->version == 1) block_->version = kVersion;
  if (!existed || block_->magic != kMagic || block_->version != kVersion) {
    if (existed) return Error{Errc::kCorrupt, path + ": not an import high-water mark"};
    std::memset(static_cast<void*>(block_), 0, sizeof(Block));
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
  for (std::size_t i = 0; i < kPriorityCount; ++i) {
    s.marks[i].incarnation = __atomic_load_n(&block_->marks[i].incarnation, __ATOMIC_ACQUIRE);
    s.marks[i].position = __atomic_load_n(&block_->marks[i].position, __ATOMIC_ACQUIRE);
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
  if (priority >= kPriorityCount) return;
  RingMark& m = block_->marks[priority];
  // The position first: a SIGKILL between the two stores leaves the old incarnation with the
  // new position, which claims nothing of the new incarnation (and the intent, complete before
  // the publish, rewrites the mark at restart: that publish is in the history).
  __atomic_store_n(&m.position, position, __ATOMIC_RELEASE);
  __atomic_store_n(&m.incarnation, incarnation, __ATOMIC_RELEASE);
}

bool HwmFile::seen(std::uint32_t priority, std::uint64_t incarnation,
                   std::uint64_t position) const noexcept {
  if (priority >= kPriorityCount || incarnation == 0) return false;
  const RingMark& m = block_->marks[priority];
  return __atomic_load_n(&m.incarnation, __ATOMIC_ACQUIRE) == incarnation &&
         position <= __atomic_load_n(&m.position, __ATOMIC_ACQUIRE);
}

void HwmFile::done(std::uint64_t seq) noexcept {
  __atomic_store_n(&block_->done, seq, __ATOMIC_RELEASE);
}

}  // namespace shmbus::bridge::detail
