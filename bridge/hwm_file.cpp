// The durable import's mapped high-water mark.
#include "bridge/hwm_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shmbus::bridge::detail {

namespace {
constexpr std::uint64_t kMagic = 0x4d57484744425253ull;  // "SRBDGHWM"
constexpr std::uint64_t kVersion = 1;
}  // namespace

struct HwmFile::Block {
  std::uint64_t magic;
  std::uint64_t version;
  std::uint64_t done;
  std::uint64_t pending;
  std::uint64_t pending_pseq;
  std::uint32_t agent_index;
  std::uint32_t agent_epoch;
};

HwmFile::~HwmFile() {
  if (block_ != nullptr) ::munmap(block_, sizeof(Block));
}

Result<void> HwmFile::open(const std::string& path, bool& existed) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Error{Errc::kSystem, "cannot open " + path + ": " + std::strerror(errno)};
  struct stat st {};
  ::fstat(fd, &st);
  existed = st.st_size == static_cast<off_t>(sizeof(Block));
  if (::ftruncate(fd, sizeof(Block)) != 0) {
    ::close(fd);
    return Error{Errc::kSystem, "cannot size " + path + ": " + std::strerror(errno)};
  }
  void* p = ::mmap(nullptr, sizeof(Block), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED)
    return Error{Errc::kSystem, "cannot map " + path + ": " + std::strerror(errno)};
  block_ = static_cast<Block*>(p);
  if (!existed || block_->magic != kMagic || block_->version != kVersion) {
    if (existed) return Error{Errc::kCorrupt, path + ": not a version-1 import high-water mark"};
    std::memset(block_, 0, sizeof(Block));
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
  return s;
}

void HwmFile::set_agent(std::uint32_t index, std::uint32_t epoch) noexcept {
  __atomic_store_n(&block_->agent_index, index, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->agent_epoch, epoch, __ATOMIC_RELEASE);
}

void HwmFile::begin(std::uint64_t seq, std::uint64_t pseq) noexcept {
  __atomic_store_n(&block_->pending_pseq, pseq, __ATOMIC_RELEASE);
  __atomic_store_n(&block_->pending, seq, __ATOMIC_RELEASE);
}

void HwmFile::done(std::uint64_t seq) noexcept {
  __atomic_store_n(&block_->done, seq, __ATOMIC_RELEASE);
}

}  // namespace shmbus::bridge::detail
