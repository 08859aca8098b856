// DurableSubscriber: checkpoint file (tmp + fdatasync + rename), a mapped high-water mark of
// event ids handed out (survives a process kill with no system call per event), and a Reader
// following the journal.
#include "shmbus/journal_durable.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "journal/format.hpp"
#include "journal/mapped_file.hpp"

namespace shmbus::journal {

using namespace detail;

namespace {

constexpr std::uint32_t kCheckpointMagic = 0x4B434A53u;  // "SJCK"

struct CheckpointHeader {
  std::uint32_t magic;
  std::uint16_t version_major;
  std::uint16_t version_minor;
  std::uint64_t event_id;
  std::uint64_t state_len;
  std::uint32_t crc;  ///< CRC32C of event_id, state_len and the state bytes
  std::uint32_t reserved;
};
static_assert(sizeof(CheckpointHeader) == 32);

constexpr std::uint64_t kMaxState = 1u << 20;

std::uint32_t checkpoint_crc(const CheckpointHeader& h, const std::byte* state) {
  Crc32c c;
  c.process_bytes(&h.event_id, 16);
  c.process_bytes(state, static_cast<std::size_t>(h.state_len));
  return c.checksum();
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return n != "." && n != "..";
}

}  // namespace

struct DurableSubscriber::Impl {
  DurableOptions opts;
  std::optional<Reader> reader;
  int lock_fd = -1;
  std::uint64_t* hwm = nullptr;  // mapped <name>.hwm: highest event id handed out
  std::uint64_t redelivery_limit = 0;
  std::uint64_t checkpoint = 0;
  std::vector<std::byte> state;
  std::string ckpt_path;

  ~Impl() {
    if (hwm != nullptr) ::munmap(hwm, sizeof(std::uint64_t));
    if (lock_fd >= 0) ::close(lock_fd);
  }

  Result<void> load_checkpoint() {
    const int fd = ::open(ckpt_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return {};  // never checkpointed: from the journal's start
      return os_error(errno, "cannot read checkpoint", ckpt_path);
    }
    CheckpointHeader h{};
    bool ok = ::pread(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h) &&
              h.magic == kCheckpointMagic && h.state_len <= kMaxState;
    if (ok && h.version_major != kFormatMajor) {
      ::close(fd);
      return Error{Errc::kVersionMismatch,
                   "checkpoint " + ckpt_path + ": format " + std::to_string(h.version_major) +
                       ", this build reads " + std::to_string(kFormatMajor)};
    }
    std::vector<std::byte> s(ok ? static_cast<std::size_t>(h.state_len) : 0);
    ok = ok && ::pread(fd, s.data(), s.size(), sizeof h) == static_cast<ssize_t>(s.size()) &&
         checkpoint_crc(h, s.data()) == h.crc;
    ::close(fd);
    if (!ok) return Error{Errc::kCorrupt, "checkpoint " + ckpt_path + " is damaged"};
    checkpoint = h.event_id;
    state = std::move(s);
    return {};
  }
};

DurableSubscriber::DurableSubscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DurableSubscriber::DurableSubscriber(DurableSubscriber&&) noexcept = default;
DurableSubscriber& DurableSubscriber::operator=(DurableSubscriber&&) noexcept = default;
DurableSubscriber::~DurableSubscriber() = default;

Result<DurableSubscriber> DurableSubscriber::open(const DurableOptions& options) {
  if (!valid_name(options.name)) {
    return Error{Errc::kInvalidArgument,
                 "durable subscriber name '" + options.name + "': 1..64 of [A-Za-z0-9_.-]"};
  }
  auto impl = std::make_unique<Impl>();
  impl->opts = options;
  if (impl->opts.state_dir.empty()) impl->opts.state_dir = options.journal_dir + "/subscribers";
  if (::mkdir(impl->opts.state_dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return os_error(errno, "cannot create", impl->opts.state_dir);
  }
  const std::string base = impl->opts.state_dir + "/" + options.name;
  impl->lock_fd = ::open((base + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (impl->lock_fd < 0) return os_error(errno, "cannot open", base + ".lock");
  if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Error{Errc::kBusy, "durable subscriber " + options.name + " is already running"};
  }
  impl->ckpt_path = base + ".ckpt";
  if (auto r = impl->load_checkpoint(); !r) return r.error();
  // The high-water mark: a mapped word, stored before each handler call (no system call), so a
  // killed process leaves behind how far it got.
  const std::string hwm_path = base + ".hwm";
  const int fd = ::open(hwm_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return os_error(errno, "cannot open", hwm_path);
  if (::ftruncate(fd, sizeof(std::uint64_t)) != 0) {
    const int err = errno;
    ::close(fd);
    return os_error(err, "cannot size", hwm_path);
  }
  void* p = ::mmap(nullptr, sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return os_error(errno, "mmap", hwm_path);
  impl->hwm = static_cast<std::uint64_t*>(p);
  impl->redelivery_limit = __atomic_load_n(impl->hwm, __ATOMIC_RELAXED);
  auto reader = Reader::open(options.journal_dir);
  if (!reader) return reader.error();
  impl->reader.emplace(std::move(*reader));
  if (impl->checkpoint != 0) {
    if (auto r = impl->reader->seek_event(impl->checkpoint + 1); !r) return r.error();
  }
  return DurableSubscriber(std::move(impl));
}

Result<std::size_t> DurableSubscriber::poll(const DurableHandler& handler, std::size_t max_events,
                                            std::chrono::nanoseconds timeout) {
  Impl& m = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t n = 0;
  Delivery d;
  while (n < max_events) {
    auto got = m.reader->next(d.record);
    if (!got) return got.error();
    if (!*got) {
      if (n != 0) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      // Nothing journaled yet: sleep a little (the journal has no wake-up word to wait on).
      const auto step =
          std::min<std::chrono::nanoseconds>(deadline - now, std::chrono::milliseconds(1));
      timespec ts{0, static_cast<long>(step.count())};
      ::nanosleep(&ts, nullptr);
      continue;
    }
    if (d.record.event_id <= m.checkpoint) continue;  // the sparse index lands before it
    d.redelivered = d.record.event_id <= m.redelivery_limit;
    if (d.record.event_id > __atomic_load_n(m.hwm, __ATOMIC_RELAXED)) {
      __atomic_store_n(m.hwm, d.record.event_id, __ATOMIC_RELAXED);
    }
    handler(d);
    ++n;
  }
  return n;
}

Result<void> DurableSubscriber::store_checkpoint(std::uint64_t event_id,
                                                 std::span<const std::byte> state) {
  Impl& m = *impl_;
  if (state.size() > kMaxState) {
    return Error{Errc::kInvalidArgument, "checkpoint state larger than 1 MiB"};
  }
  CheckpointHeader h{};
  h.magic = kCheckpointMagic;
  h.version_major = kFormatMajor;
  h.version_minor = kFormatMinor;
  h.event_id = event_id;
  h.state_len = state.size();
  h.crc = checkpoint_crc(h, state.data());
  const std::string tmp = m.ckpt_path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return os_error(errno, "cannot write checkpoint", tmp);
  bool ok = ::write(fd, &h, sizeof h) == static_cast<ssize_t>(sizeof h) &&
            ::write(fd, state.data(), state.size()) == static_cast<ssize_t>(state.size()) &&
            ::fdatasync(fd) == 0;
  const int err = ok ? 0 : (errno != 0 ? errno : ENOSPC);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), m.ckpt_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return os_error(err != 0 ? err : errno, "cannot store checkpoint", m.ckpt_path);
  }
  // The rename itself survives a power loss only once the directory is synced.
  const int dfd = ::open(m.opts.state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const bool synced = ::fsync(dfd) == 0;
    const int derr = errno;
    ::close(dfd);
    if (!synced) return os_error(derr, "cannot sync", m.opts.state_dir);
  }
  m.checkpoint = event_id;
  m.state.assign(state.begin(), state.end());
  return {};
}

std::uint64_t DurableSubscriber::checkpoint() const noexcept {
  return impl_->checkpoint;
}
const std::vector<std::byte>& DurableSubscriber::state() const noexcept {
  return impl_->state;
}
std::uint64_t DurableSubscriber::redelivery_limit() const noexcept {
  return impl_->redelivery_limit;
}

}  // namespace shmbus::journal
