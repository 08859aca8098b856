// DurableSubscriber: checkpoint file (tmp + fdatasync + rename), a mapped high-water mark of
// what was handed out (survives a process kill with no system call per event), a Reader of the
// journal and, in live mode, a Bus subscription joined at the seam (see journal_durable.hpp).
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
#include <thread>

#include <spdlog/spdlog.h>

#include "journal/format.hpp"
#include "journal/mapped_file.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/topic.hpp"

namespace shmbus::journal {

using namespace detail;

namespace {

constexpr std::uint32_t kCheckpointMagic = 0x4B434A53u;  // "SJCK"
// The checkpoint file's own version (the journal format's may change without it).
// 1.1: flags bit 0 (kHasPositions) says the ring positions follow the state.
constexpr std::uint16_t kCheckpointMajor = 1;
constexpr std::uint16_t kCheckpointMinor = 1;
constexpr std::uint32_t kHasPositions = 1;

struct CheckpointHeader {
  std::uint32_t magic;
  std::uint16_t version_major;
  std::uint16_t version_minor;
  std::uint64_t event_id;  ///< every journal record up to this id is handled
  std::uint64_t state_len;
  std::uint32_t crc;  ///< CRC32C of event_id, state_len, the state bytes (and the positions)
  std::uint32_t flags;
};
static_assert(sizeof(CheckpointHeader) == 32);
using Positions = std::array<std::uint64_t, kPriorityCount>;

constexpr std::uint64_t kMaxState = 1u << 20;

std::uint32_t checkpoint_crc(const CheckpointHeader& h, const std::byte* state,
                             const Positions* positions) {
  std::uint32_t c = crc32c_extend(0, &h.event_id, 16);
  c = crc32c_extend(c, state, static_cast<std::size_t>(h.state_len));
  if (positions != nullptr) c = crc32c_extend(c, positions->data(), sizeof(Positions));
  return c;
}

// The mapped high-water mark: word 0 the highest journal event id handed out (follow mode),
// words 1..4 per ring the next position handed out (live mode). Stored before each handler call.
constexpr std::size_t kHwmWords = 1 + kPriorityCount;

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
  std::uint64_t* hwm = nullptr;  // mapped <name>.hwm (kHwmWords)
  std::uint64_t redelivery_limit = 0;
  std::uint64_t checkpoint = 0;
  std::vector<std::byte> state;
  std::string ckpt_path;

  // ---- live mode ----
  std::optional<Bus> bus;
  bool live = false;        // replay done: delivering from the rings
  bool all_topics = false;  // topics == {"*"}: the journal holds every position of a ring
  Positions seam{};         // P_r: first position delivered live
  Positions handed{};       // next position to hand out, per ring (from the checkpoint on)
  Positions hwm_open{};     // handed out before this open: flagged redelivered below these
  std::array<bool, kPriorityCount> known{};  // handed[r] is exact (something of r was handed)
  std::uint64_t replay_floor = 0;            // journal ids up to this are handled or not ours
  std::uint64_t first_deferred = 0;          // first journal id skipped because it comes live
  std::uint64_t n_replayed = 0, n_live = 0, n_gaps = 0;
  const DurableHandler* user = nullptr;  // during poll: the handler live events go to
  std::size_t live_count = 0;

  ~Impl() {
    if (hwm != nullptr) ::munmap(hwm, kHwmWords * sizeof(std::uint64_t));
    if (lock_fd >= 0) ::close(lock_fd);
  }

  bool wanted(std::string_view topic) const noexcept {
    for (const auto& p : opts.topics) {
      if (topic_matches(p, topic)) return true;
    }
    return false;
  }

  void gap(std::uint32_t r, std::uint64_t from, std::uint64_t to, const char* where) {
    n_gaps += to - from;
    spdlog::error("durable subscriber {}: ring {} positions [{}, {}) lost {}", opts.name, r, from,
                  to, where);
  }

  // Hands one event (replayed or live) of ring r at `pos` to the user's handler.
  void hand_out(const DurableHandler& h, Delivery& d, std::uint32_t r, std::uint64_t pos) {
    d.redelivered = pos < hwm_open[r];
    if (pos + 1 > __atomic_load_n(&hwm[1 + r], __ATOMIC_RELAXED)) {
      __atomic_store_n(&hwm[1 + r], pos + 1, __ATOMIC_RELAXED);
    }
    handed[r] = pos + 1;
    known[r] = true;
    h(d);
  }

  void on_live(const EventView& e) {
    const std::uint32_t r = index_of(e.priority);
    if (user == nullptr || !opts.priorities[r]) return;
    if (e.position < handed[r]) return;  // two patterns matched it: handed out already
    if (known[r] && e.position > handed[r]) gap(r, handed[r], e.position, "live (lapped)");
    Delivery d;
    d.live = true;
    d.record.event_id = 0;
    d.record.journal_ns = 0;
    d.record.meta.topic = e.topic_name;
    d.record.meta.priority = e.priority;
    d.record.meta.flags = e.flags;
    d.record.meta.schema_version = e.schema_version;
    d.record.meta.producer = e.id.producer;
    d.record.meta.producer_epoch = e.id.producer_epoch;
    d.record.meta.producer_seq = e.id.sequence;
    d.record.meta.publish_ns = e.timestamp_ns;
    d.record.meta.ring_position = e.position;
    d.record.payload = e.payload;
    ++n_live;
    ++live_count;
    hand_out(*user, d, r, e.position);
  }

  // The seam: our own cursors right after subscribing (nothing read yet) are P_r; then wait for
  // the journal agent's cursors to pass them, so the journal holds every record before P_r.
  Result<void> join_seam() {
    const auto deadline = std::chrono::steady_clock::now() + opts.seam_timeout;
    const auto self = static_cast<std::uint32_t>(::getpid());
    bool have_seam = false;
    for (;;) {
      auto snap = inspect_bus(opts.bus);
      if (!snap) return snap.error();
      const AgentSnapshot* journal_agent = nullptr;
      for (const AgentSnapshot& a : snap->agents) {
        if (!have_seam && a.name == opts.name && a.pid == self && a.alive) {
          seam = a.cursor;
          have_seam = true;
        }
        if (a.name == opts.journal_agent && a.alive) journal_agent = &a;
      }
      if (!have_seam)
        return Error{Errc::kState, "durable subscriber " + opts.name +
                                       ": own agent record not found on bus " + opts.bus};
      bool reached = journal_agent != nullptr;
      for (std::uint32_t r = 0; reached && r < kPriorityCount; ++r) {
        reached = !opts.priorities[r] || journal_agent->cursor[r] >= seam[r];
      }
      if (reached) return {};
      if (std::chrono::steady_clock::now() >= deadline) {
        return Error{Errc::kTimeout,
                     "durable subscriber " + opts.name + ": journal agent '" + opts.journal_agent +
                         (journal_agent == nullptr ? "' is not running on bus "
                                                   : "' has not reached the live seam on bus ") +
                         opts.bus + " (cannot join the rings without a gap)"};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // no wake-up word to wait on
    }
  }

  // Replay finished: whatever of ring r between the last replayed position and P_r the journal
  // did not hold is a gap (known only when the journal holds every topic).
  void finish_replay() {
    for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
      if (!opts.priorities[r]) continue;
      if (all_topics && known[r] && handed[r] < seam[r]) {
        gap(r, handed[r], seam[r], "by the journal before the seam");
      }
      if (handed[r] < seam[r]) handed[r] = seam[r];
      known[r] = known[r] || all_topics;
    }
    live = true;
  }

  Result<std::size_t> poll_live_mode(const DurableHandler& handler, std::size_t max_events,
                                     std::chrono::nanoseconds timeout);

  Result<void> load_checkpoint() {
    const int fd = ::open(ckpt_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return {};  // never checkpointed: from the journal's start
      return os_error(errno, "cannot read checkpoint", ckpt_path);
    }
    CheckpointHeader h{};
    bool ok = ::pread(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h) &&
              h.magic == kCheckpointMagic && h.state_len <= kMaxState;
    if (ok && h.version_major != kCheckpointMajor) {
      ::close(fd);
      return Error{Errc::kVersionMismatch,
                   "checkpoint " + ckpt_path + ": format " + std::to_string(h.version_major) +
                       ", this build reads " + std::to_string(kCheckpointMajor)};
    }
    std::vector<std::byte> s(ok ? static_cast<std::size_t>(h.state_len) : 0);
    ok = ok && ::pread(fd, s.data(), s.size(), sizeof h) == static_cast<ssize_t>(s.size());
    Positions pos{};
    const bool has_positions = ok && (h.flags & kHasPositions) != 0;
    if (has_positions) {
      ok = ::pread(fd, pos.data(), sizeof pos, static_cast<off_t>(sizeof h + s.size())) ==
           static_cast<ssize_t>(sizeof pos);
    }
    ok = ok && checkpoint_crc(h, s.data(), has_positions ? &pos : nullptr) == h.crc;
    ::close(fd);
    if (!ok) return Error{Errc::kCorrupt, "checkpoint " + ckpt_path + " is damaged"};
    checkpoint = h.event_id;
    state = std::move(s);
    handed = pos;
    for (std::uint32_t r = 0; r < kPriorityCount; ++r) known[r] = pos[r] != 0;
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
  if (::ftruncate(fd, kHwmWords * sizeof(std::uint64_t)) != 0) {
    const int err = errno;
    ::close(fd);
    return os_error(err, "cannot size", hwm_path);
  }
  void* p =
      ::mmap(nullptr, kHwmWords * sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return os_error(errno, "mmap", hwm_path);
  impl->hwm = static_cast<std::uint64_t*>(p);
  impl->redelivery_limit = __atomic_load_n(impl->hwm, __ATOMIC_RELAXED);
  for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
    impl->hwm_open[r] = __atomic_load_n(&impl->hwm[1 + r], __ATOMIC_RELAXED);
  }
  impl->replay_floor = impl->checkpoint;
  if (!options.bus.empty()) {
    // Live mode: attach and subscribe first, so nothing published from now on is missed.
    impl->all_topics = options.topics.size() == 1 && options.topics[0] == "*";
    AgentOptions agent;
    agent.name = options.name;
    agent.wait = WaitStrategy::kBlock;
    agent.handler_budget = std::chrono::nanoseconds(0);
    agent.max_handler_failures = 0;
    auto b = Bus::attach(options.bus, agent);
    if (!b) return b.error();
    impl->bus.emplace(std::move(*b));
    Impl* self = impl.get();
    for (const auto& pattern : options.topics) {
      auto sub = impl->bus->on(pattern, [self](const EventView& e) { self->on_live(e); });
      if (!sub) return sub.error();
    }
    impl->bus->on_gap([self](Priority pr, std::uint64_t missed) {
      const std::uint32_t r = index_of(pr);
      self->gap(r, self->handed[r], self->handed[r] + missed, "live (untethered, lapped)");
      self->handed[r] += missed;
    });
    if (auto r = impl->join_seam(); !r) return r.error();
  }
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
  if (m.bus) return m.poll_live_mode(handler, max_events, timeout);
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

Result<std::size_t> DurableSubscriber::Impl::poll_live_mode(const DurableHandler& handler,
                                                            std::size_t max_events,
                                                            std::chrono::nanoseconds timeout) {
  std::size_t n = 0;
  Delivery d;
  while (!live && n < max_events) {
    auto got = reader->next(d.record);
    if (!got) return got.error();
    if (!*got) {
      finish_replay();  // the journal held everything before the seam when open() returned
      break;
    }
    const std::uint64_t id = d.record.event_id;
    if (id <= checkpoint) continue;  // the sparse index lands before it
    const std::uint32_t r = index_of(d.record.meta.priority);
    const std::uint64_t pos = d.record.meta.ring_position;
    if (opts.priorities[r] && pos >= seam[r]) {
      if (first_deferred == 0) first_deferred = id;  // comes live
      continue;
    }
    if (first_deferred == 0) replay_floor = id;
    if (!opts.priorities[r] || pos < handed[r] || !wanted(d.record.meta.topic)) continue;
    if (all_topics && known[r] && pos > handed[r]) gap(r, handed[r], pos, "by the journal");
    d.live = false;
    ++n_replayed;
    ++n;
    hand_out(handler, d, r, pos);
  }
  if (live && n < max_events) {
    user = &handler;
    live_count = 0;
    if (n == 0) {
      (void)bus->poll_wait(max_events, timeout);
    } else {
      (void)bus->poll(max_events - n);
    }
    user = nullptr;
    n += live_count;
  }
  return n;
}

namespace {

Result<void> write_checkpoint(const std::string& path, const std::string& dir,
                              std::uint64_t event_id, std::span<const std::byte> state,
                              const Positions* positions) {
  if (state.size() > kMaxState) {
    return Error{Errc::kInvalidArgument, "checkpoint state larger than 1 MiB"};
  }
  CheckpointHeader h{};
  h.magic = kCheckpointMagic;
  h.version_major = kCheckpointMajor;
  h.version_minor = kCheckpointMinor;
  h.event_id = event_id;
  h.state_len = state.size();
  h.flags = positions != nullptr ? kHasPositions : 0;
  h.crc = checkpoint_crc(h, state.data(), positions);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return os_error(errno, "cannot write checkpoint", tmp);
  bool ok = ::write(fd, &h, sizeof h) == static_cast<ssize_t>(sizeof h) &&
            ::write(fd, state.data(), state.size()) == static_cast<ssize_t>(state.size());
  if (ok && positions != nullptr) {
    ok = ::write(fd, positions->data(), sizeof(Positions)) ==
         static_cast<ssize_t>(sizeof(Positions));
  }
  ok = ok && ::fdatasync(fd) == 0;
  const int err = ok ? 0 : (errno != 0 ? errno : ENOSPC);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return os_error(err != 0 ? err : errno, "cannot store checkpoint", path);
  }
  // The rename itself survives a power loss only once the directory is synced.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const bool synced = ::fsync(dfd) == 0;
    const int derr = errno;
    ::close(dfd);
    if (!synced) return os_error(derr, "cannot sync", dir);
  }
  return {};
}

}  // namespace

Result<void> DurableSubscriber::store_checkpoint(std::uint64_t event_id,
                                                 std::span<const std::byte> state) {
  Impl& m = *impl_;
  if (auto r = write_checkpoint(m.ckpt_path, m.opts.state_dir, event_id, state, nullptr); !r) {
    return r;
  }
  m.checkpoint = event_id;
  m.state.assign(state.begin(), state.end());
  return {};
}

Result<void> DurableSubscriber::checkpoint_handed_out(std::span<const std::byte> state) {
  Impl& m = *impl_;
  if (!m.bus) return Error{Errc::kState, "checkpoint_handed_out: not in live mode"};
  // Replay restarts after the journal ids below the first record deferred to live delivery (or
  // after the last one replay went past); records after it are skipped by position.
  const std::uint64_t floor = m.first_deferred != 0 ? m.first_deferred - 1 : m.replay_floor;
  if (auto r = write_checkpoint(m.ckpt_path, m.opts.state_dir, floor, state, &m.handed); !r) {
    return r;
  }
  m.state.assign(state.begin(), state.end());
  return {};
}

std::uint64_t DurableSubscriber::replayed() const noexcept {
  return impl_->n_replayed;
}
std::uint64_t DurableSubscriber::delivered_live() const noexcept {
  return impl_->n_live;
}
std::uint64_t DurableSubscriber::gaps() const noexcept {
  return impl_->n_gaps;
}
std::array<std::uint64_t, kPriorityCount> DurableSubscriber::seam() const noexcept {
  return impl_->seam;
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
