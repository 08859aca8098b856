// Writer: appends records to the mapped segment file, rolls over to a new preallocated file when
// one is full, syncs by policy, applies retention, and recovers a torn tail when it opens.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "journal/format.hpp"
#include "journal/mapped_file.hpp"
#include "journal/scan.hpp"
#include "journal/spare_file.hpp"
#include "shm/agent_dir.hpp"
#include "shm/clock.hpp"
#include "shm/fast_clock.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/topic.hpp"

namespace shmbus::journal {

using shmbus::detail::monotonic_ns;
using shmbus::detail::realtime_ns;

using namespace detail;
namespace fs = std::filesystem;

namespace {

struct SealedFile {
  std::uint64_t file_index;
  std::uint64_t created_ns;
  std::uint64_t bytes;
  std::string path;
};

}  // namespace

Result<void> parse_sync_policy(std::string_view text, SyncPolicy& policy,
                               std::chrono::milliseconds& interval) {
  if (text == "none") {
    policy = SyncPolicy::kNone;
    return {};
  }
  if (text == "critical") {
    policy = SyncPolicy::kCritical;
    return {};
  }
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    std::uint64_t v = 0;
    for (char c : text.substr(0, text.size() - 2)) {
      if (c < '0' || c > '9' || v > 1'000'000) {
        return Error{Errc::kInvalidArgument,
                     "sync policy '" + std::string(text) + "': want none, critical or <N>ms"};
      }
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v == 0) return Error{Errc::kInvalidArgument, "sync interval must be at least 1ms"};
    policy = SyncPolicy::kInterval;
    interval = std::chrono::milliseconds(v);
    return {};
  }
  return Error{Errc::kInvalidArgument,
               "sync policy '" + std::string(text) + "': want none, critical or <N>ms"};
}

std::string_view append_status_name(AppendStatus s) noexcept {
  switch (s) {
    case AppendStatus::kOk:
      return "ok";
    case AppendStatus::kTooLarge:
      return "too_large";
    case AppendStatus::kBadTopic:
      return "bad_topic";
    case AppendStatus::kNoSpace:
      return "no_space";
    case AppendStatus::kIoError:
      return "io_error";
    case AppendStatus::kClosed:
      return "closed";
  }
  return "unknown";
}

std::string RecoveryReport::describe() const {
  if (file.empty()) return "new journal";
  std::string s = file + ": " + std::to_string(records_kept) + " records kept up to offset " +
                  std::to_string(valid_bytes);
  if (!damaged()) return s + ", no damage";
  s += "; damaged tail of " + std::to_string(damaged_bytes) + " bytes at offset " +
       std::to_string(valid_bytes) + " cleared";
  if (file_was_short) s += " (file had been cut short)";
  return s;
}

struct Writer::Impl {
  JournalOptions opts;
  shmbus::detail::DirLock lock;  // the flock on <dir>/LOCK: one writer per directory
  MappedFile cur;
  std::uint64_t file_index = 0;
  std::uint64_t off = 0;
  std::uint64_t records_in_file = 0;
  std::uint32_t until_index = 0;  // records before the next sparse index point (no division)
  std::uint64_t synced_off = 0;
  std::uint64_t last_journal_ns = 0;
  // Journal time without a clock_gettime per record: the thread's TSC-based monotonic clock
  // plus (realtime - monotonic), re-read from the kernel at most every kRealtimeRefreshNs (so
  // an NTP step of the wall clock shows in the records within that long).
  static constexpr std::uint64_t kRealtimeRefreshNs = 100'000'000;
  std::uint64_t realtime_offset = 0;
  std::uint64_t realtime_offset_at = 0;  // fast monotonic time of that reading (0: never)
  std::vector<IndexEntry> index;
  std::deque<SealedFile> sealed;
  WriterStats stats;
  RecoveryReport recovery;
  std::string last_error;
  bool closed = false;
  SpareFile spare;  // the next file, made ahead on a background thread

  // kInterval: the msync runs on a syncer thread every sync_interval, so the appending thread
  // neither waits for the disk nor spends its CPU submitting the write-back. sync_mu is held
  // across every msync and every change of `cur` (roll, close): the syncer never syncs a file
  // being unmapped. `published_off` is the end of the whole records of `cur` (release store
  // per append); `synced_view` what is durable, read by the appender to bound the lag.
  std::mutex sync_mu;
  std::condition_variable sync_cv;
  std::thread syncer;
  bool syncer_stop = false;  // under sync_mu
  std::atomic<std::uint64_t> published_off{0};
  std::atomic<std::uint64_t> synced_view{0};
  std::atomic<int> sync_error{0};
  std::atomic<std::uint64_t> sync_count{0}, sync_ns_total{0}, sync_ns_max{0};
  /// The syncer falling this far behind makes the appender sync itself (as without a syncer):
  /// a disk slower than the appends bounds the loss window instead of letting it grow.
  static constexpr std::uint64_t kMaxUnsyncedBytes = 32u << 20;

  ~Impl() { (void)close(); }

  std::string spare_path() const { return (fs::path(opts.dir) / "journal-next.spare").string(); }

  /// Starts making the next file in the background (JournalOptions::prepare_next_file).
  void prepare_next() {
    if (opts.prepare_next_file && !closed) spare.start(spare_path(), opts.file_bytes);
  }

  /// The file for index `idx`: the spare renamed into place when one was made, else made now.
  Result<MappedFile> new_file(std::uint64_t idx) {
    if (!spare.pending(opts.file_bytes)) return MappedFile::create(path_of(idx), opts.file_bytes);
    auto f = spare.take();
    if (!f) return f.error();
    if (const int err = f->rename_to(path_of(idx)); err != 0) {
      const std::string from = f->path();
      f->close();
      ::unlink(from.c_str());
      return os_error(err, "cannot rename " + from + " to", path_of(idx));
    }
    return f;
  }

  std::string path_of(std::uint64_t idx) const {
    return (fs::path(opts.dir) / file_name(idx)).string();
  }

  void reserve_index() {
    const std::uint64_t min_rec = align_record(sizeof(RecordHeader) + 1);
    index.clear();
    index.reserve(static_cast<std::size_t>(opts.file_bytes / (min_rec * opts.index_interval) + 2));
  }

  Result<void> create_file(std::uint64_t idx) {
    auto f = new_file(idx);
    if (!f) return f.error();
    FileHeader h{};
    std::memcpy(h.magic, kFileMagic, sizeof h.magic);
    h.version_major = kFormatMajor;
    h.version_minor = kFormatMinor;
    h.header_bytes = sizeof(FileHeader);
    h.file_bytes = opts.file_bytes;
    h.file_index = idx;
    h.first_event_id = stats.next_event_id;
    last_journal_ns = std::max(last_journal_ns, realtime_ns());
    h.created_ns = last_journal_ns;
    h.header_crc = file_header_crc(h);
    std::memcpy(f->data(), &h, sizeof h);
    cur = std::move(*f);
    file_index = idx;
    off = sizeof(FileHeader);
    synced_off = 0;
    synced_view.store(0, std::memory_order_relaxed);
    published_off.store(off, std::memory_order_release);
    records_in_file = 0;
    until_index = 0;
    reserve_index();
    ++stats.files_created;
    // The new file must be findable after a power loss once records in it are synced.
    if (opts.sync != SyncPolicy::kNone) {
      const int dfd = ::open(opts.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
    return {};
  }

  /// CLOCK_REALTIME now, from the fast clock (see realtime_offset).
  std::uint64_t journal_now() noexcept {
    const std::uint64_t mono = shmbus::detail::fast_monotonic_ns();
    if (realtime_offset_at == 0 || mono - realtime_offset_at > kRealtimeRefreshNs) {
      const std::uint64_t rt = realtime_ns();
      const std::uint64_t kernel_mono = monotonic_ns();
      realtime_offset = rt - kernel_mono;  // unsigned: realtime is past monotonic on any host
      realtime_offset_at = mono;
      return rt;
    }
    return mono + realtime_offset;
  }
  /// msync of `cur` up to `end`; sync_mu held (or no syncer running).
  int sync_locked(std::uint64_t end) noexcept {
    if (!cur.valid() || end <= synced_off) return 0;
    const auto t0 = monotonic_ns();
    const int err = cur.sync(synced_off, end);
    const auto dt = monotonic_ns() - t0;
    if (err != 0) return err;
    synced_off = end;
    synced_view.store(end, std::memory_order_relaxed);
    sync_count.fetch_add(1, std::memory_order_relaxed);
    sync_ns_total.fetch_add(dt, std::memory_order_relaxed);
    if (dt > sync_ns_max.load(std::memory_order_relaxed)) {
      sync_ns_max.store(dt, std::memory_order_relaxed);
    }
    return 0;
  }

  /// Appending thread: everything appended so far durable now.
  int do_sync() noexcept {
    std::lock_guard<std::mutex> g(sync_mu);
    return sync_locked(off);
  }

  void start_syncer() {
    if (opts.sync != SyncPolicy::kInterval) return;
    published_off.store(off, std::memory_order_release);
    synced_view.store(synced_off, std::memory_order_relaxed);
    syncer = std::thread([this] {
      std::unique_lock<std::mutex> lk(sync_mu);
      while (!syncer_stop) {
        sync_cv.wait_for(lk, opts.sync_interval);
        if (syncer_stop) break;
        if (const int err = sync_locked(published_off.load(std::memory_order_acquire)); err != 0) {
          sync_error.store(err, std::memory_order_relaxed);
        }
      }
    });
  }

  void stop_syncer() noexcept {
    if (!syncer.joinable()) return;
    {
      std::lock_guard<std::mutex> g(sync_mu);
      syncer_stop = true;
    }
    sync_cv.notify_all();
    syncer.join();
  }

  /// Seals the current file (sync by policy, index sidecar) and unmaps it.
  Result<void> seal() {
    if (!cur.valid()) return {};
    if (opts.sync != SyncPolicy::kNone) {
      if (const int err = sync_locked(off); err != 0) return os_error(err, "msync", cur.path());
    }
    auto r = store_index(cur.path(), index, opts.sync != SyncPolicy::kNone);
    FileHeader h;
    std::memcpy(&h, cur.data(), sizeof h);
    sealed.push_back(SealedFile{file_index, h.created_ns, cur.size(), cur.path()});
    cur.close();
    return r;
  }

  void apply_retention() {
    std::uint64_t total = opts.file_bytes;  // the active file
    for (const auto& s : sealed) total += s.bytes;
    const std::uint64_t now = realtime_ns();
    const auto age_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(opts.retain_age).count());
    while (!sealed.empty()) {
      const bool too_big = opts.retain_bytes != 0 && total > opts.retain_bytes;
      // A sealed file's last record is older than the next file's creation time.
      const std::uint64_t end_ns = sealed.size() > 1 ? sealed[1].created_ns : last_journal_ns;
      const bool too_old = age_ns != 0 && end_ns + age_ns < now;
      if (!too_big && !too_old) break;
      const SealedFile& s = sealed.front();
      ::unlink(s.path.c_str());
      ::unlink((s.path.substr(0, s.path.size() - 4) + ".idx").c_str());
      total -= s.bytes;
      ++stats.files_removed;
      sealed.pop_front();
    }
  }

  AppendStatus roll() noexcept {
    try {
      // The syncer waits: the file it syncs is sealed, unmapped and replaced here.
      std::lock_guard<std::mutex> g(sync_mu);
      if (auto r = seal(); !r) {
        // The index sidecar may be what no longer fits: a full disk, said as such.
        last_error = r.message();
        return r.code() == Errc::kCapacityExceeded ? AppendStatus::kNoSpace
                                                   : AppendStatus::kIoError;
      }
      if (auto r = create_file(file_index + 1); !r) {
        last_error = r.message();
        return r.code() == Errc::kCapacityExceeded ? AppendStatus::kNoSpace
                                                   : AppendStatus::kIoError;
      }
      apply_retention();
      prepare_next();
      return AppendStatus::kOk;
    } catch (const std::exception& e) {
      last_error = e.what();
      return AppendStatus::kIoError;
    }
  }

  Result<void> close() {
    if (closed) return {};
    closed = true;
    stop_syncer();
    spare.discard();
    Result<void> r;
    if (cur.valid()) {
      if (const int err = do_sync(); err != 0) r = os_error(err, "msync", cur.path());
      if (auto s = store_index(cur.path(), index, opts.sync != SyncPolicy::kNone); !s && r) r = s;
      cur.close();
    }
    lock = shmbus::detail::DirLock{};
    return r;
  }

  Result<void> recover(const std::vector<std::uint64_t>& indices) {
    // Every file but the last is sealed: read its header for retention and continuity.
    for (std::size_t i = 0; i + 1 < indices.size(); ++i) {
      auto f = MappedFile::open(path_of(indices[i]), false, 0);
      if (!f) return f.error();
      auto h = check_file_header(f->data(), f->size(), f->path());
      if (!h) return h.error();
      sealed.push_back(SealedFile{indices[i], h->created_ns, f->size(), f->path()});
    }
    const std::string path = path_of(indices.back());
    auto probe = MappedFile::open(path, false, 0);
    if (!probe && probe.code() != Errc::kCorrupt) return probe.error();
    auto ph = probe ? check_file_header(probe->data(), probe->size(), path)
                    : Result<FileHeader>(probe.error());
    if (!ph) {
      // A file whose creation was cut before its header was written holds no record: all zeros
      // (or empty). Remove it and continue after the file before it.
      bool blank = true;
      if (probe) {
        for (std::uint64_t i = 0; i < probe->size() && blank; ++i) {
          blank = probe->data()[i] == std::byte{0};
        }
      }
      if (!blank || ph.code() == Errc::kVersionMismatch) return ph.error();
      probe = MappedFile{};
      ::unlink(path.c_str());
      recovery.damaged_bytes = 0;
      auto rest = indices;
      rest.pop_back();
      sealed.clear();
      if (rest.empty()) return create_file(indices.back());
      return recover(rest);
    }
    const std::uint64_t bytes = ph->file_bytes;
    probe->close();
    auto f = MappedFile::open(path, true, bytes);
    if (!f) return f.error();
    auto h = check_file_header(f->data(), f->size(), path);
    if (!h) return h.error();
    std::vector<IndexEntry> idx;
    idx.reserve(static_cast<std::size_t>(
        bytes / (align_record(sizeof(RecordHeader) + 1) * opts.index_interval) + 2));
    const ScanResult s = scan_file(f->data(), f->size(), *h, opts.index_interval, &idx);
    recovery.file = path;
    recovery.records_kept = s.records;
    recovery.valid_bytes = s.end;
    recovery.damaged_bytes = s.damaged_bytes;
    recovery.file_was_short = f->original_size() < bytes;
    if (s.damaged_bytes != 0) {
      std::memset(f->data() + s.end, 0, s.damaged_bytes);
    }
    if (recovery.damaged()) {
      if (const int err = f->sync(s.end, s.end + s.damaged_bytes + 1); err != 0) {
        return os_error(err, "msync", path);
      }
    }
    cur = std::move(*f);
    file_index = indices.back();
    off = s.end;
    synced_off = s.end;
    records_in_file = s.records;
    until_index = static_cast<std::uint32_t>(
        (opts.index_interval - s.records % opts.index_interval) % opts.index_interval);
    index = std::move(idx);
    stats.next_event_id = h->first_event_id + s.records;
    last_journal_ns = std::max(s.last_journal_ns, h->created_ns);
    // A file with the same size as the options ask is not required: keep its own size.
    opts.file_bytes = bytes;
    return {};
  }
};

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;
Writer::~Writer() = default;

Result<Writer> Writer::open(const JournalOptions& options) {
  if (options.dir.empty()) return Error{Errc::kInvalidArgument, "journal directory not given"};
  if (options.file_bytes < (64u << 10) || options.file_bytes > (16ull << 30)) {
    return Error{Errc::kInvalidArgument, "journal file size " + std::to_string(options.file_bytes) +
                                             " out of range [64 KiB, 16 GiB]"};
  }
  if (options.index_interval == 0) {
    return Error{Errc::kInvalidArgument, "index interval must be at least 1"};
  }
  auto impl = std::make_unique<Impl>();
  impl->opts = options;
  std::error_code ec;
  const fs::path dir(options.dir);
  if (!fs::exists(dir, ec)) {
    const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec)) {
      return Error{Errc::kNotFound,
                   "journal directory " + options.dir + ": does not exist, nor does its parent"};
    }
    if (::mkdir(options.dir.c_str(), 0750) != 0 && errno != EEXIST) {
      return os_error(errno, "cannot create journal directory", options.dir);
    }
  } else if (!fs::is_directory(dir, ec)) {
    return Error{Errc::kInvalidArgument, "journal directory " + options.dir + ": not a directory"};
  }
  // Held for the writer's life: the kernel tells `shmbus status` whether a live process still
  // writes here (shm/agent_dir.hpp), and a second writer is refused (kBusy).
  auto lock = shmbus::detail::DirLock::acquire(options.dir, "journal");
  if (!lock) return lock.error();
  impl->lock = std::move(*lock);
  std::vector<std::uint64_t> indices;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (const auto i = parse_file_name(entry.path().filename().string()); i != 0) {
      indices.push_back(i);
    }
  }
  if (ec) return os_error(ec.value(), "cannot list journal directory", options.dir);
  std::sort(indices.begin(), indices.end());
  if (indices.empty()) {
    if (auto r = impl->create_file(1); !r) return r.error();
  } else if (auto r = impl->recover(indices); !r) {
    return r.error();
  }
  try {
    impl->start_syncer();
  } catch (const std::exception& e) {
    return Error{Errc::kSystem,
                 "journal " + options.dir + ": cannot start its sync thread: " + e.what()};
  }
  if (options.prepare_next_file) {
    impl->prepare_next();
  } else {
    ::unlink(impl->spare_path().c_str());  // left by an earlier writer that was killed
  }
  return Writer(std::move(impl));
}

AppendStatus Writer::append(const RecordMeta& meta, std::span<const std::byte> payload,
                            std::uint64_t* event_id) noexcept {
  Impl& m = *impl_;
  if (m.closed) return AppendStatus::kClosed;
  const std::size_t tl = meta.topic.size();
  if (tl == 0 || tl > kMaxTopicName) return AppendStatus::kBadTopic;
  const std::uint64_t len = align_record(sizeof(RecordHeader) + tl + payload.size());
  if (len > m.opts.file_bytes - sizeof(FileHeader) || payload.size() > 0xFFFFFFFFu) {
    return AppendStatus::kTooLarge;
  }
  if (!m.cur.valid() || m.off + len > m.cur.size()) {
    if (const auto st = m.roll(); st != AppendStatus::kOk) return st;
  }
  std::byte* rec = m.cur.data() + m.off;
  const std::uint64_t now = std::max(m.last_journal_ns, m.journal_now());
  m.last_journal_ns = now;
  RecordHeader h;
  h.magic = 0;
  h.length = static_cast<std::uint32_t>(len);
  h.crc = 0;
  h.topic_len = static_cast<std::uint16_t>(tl);
  h.priority = static_cast<std::uint8_t>(meta.priority);
  h.reserved0 = 0;
  h.event_id = m.stats.next_event_id;
  h.payload_len = static_cast<std::uint32_t>(payload.size());
  h.flags = meta.flags;
  h.schema_version = meta.schema_version;
  h.producer = meta.producer;
  h.producer_epoch = meta.producer_epoch;
  h.producer_seq = meta.producer_seq;
  h.publish_ns = meta.publish_ns;
  h.journal_ns = now;
  h.ring_position = meta.ring_position;
  std::memcpy(rec + 4, reinterpret_cast<const std::byte*>(&h) + 4, sizeof h - 4);
  std::memcpy(rec + sizeof h, meta.topic.data(), tl);
  if (!payload.empty()) std::memcpy(rec + sizeof h + tl, payload.data(), payload.size());
  const std::size_t used = sizeof h + tl + payload.size();
  if (len > used) std::memset(rec + used, 0, len - used);
  const std::uint32_t crc = record_crc(rec, h.length);
  std::memcpy(rec + offsetof(RecordHeader, crc), &crc, sizeof crc);
  // Magic last, release: a reader following the live file sees a whole record or none.
  __atomic_store_n(reinterpret_cast<std::uint32_t*>(rec), kRecordMagic, __ATOMIC_RELEASE);

  if (m.until_index == 0) {
    if (m.index.size() < m.index.capacity()) m.index.push_back(IndexEntry{h.event_id, now, m.off});
    m.until_index = m.opts.index_interval;
  }
  --m.until_index;
  ++m.records_in_file;
  m.off += len;
  if (event_id != nullptr) *event_id = h.event_id;
  ++m.stats.next_event_id;
  ++m.stats.records;
  m.stats.bytes += len;

  if (m.opts.sync == SyncPolicy::kCritical && meta.priority == Priority::kCritical) {
    if (const int err = m.do_sync(); err != 0) {
      m.last_error = std::string("msync: ") + std::strerror(err);
      return AppendStatus::kIoError;
    }
  } else if (m.opts.sync == SyncPolicy::kInterval) {
    // The syncer takes it from here: one release store, and a look at how far behind it is.
    m.published_off.store(m.off, std::memory_order_release);
    int err = m.sync_error.exchange(0, std::memory_order_relaxed);
    if (err == 0 &&
        m.off - m.synced_view.load(std::memory_order_relaxed) > Impl::kMaxUnsyncedBytes) {
      err = m.do_sync();
    }
    if (err != 0) {
      m.last_error = std::string("msync: ") + std::strerror(err);
      return AppendStatus::kIoError;
    }
  }
  return AppendStatus::kOk;
}

void Writer::tick() noexcept {
  // kInterval syncs on the writer's own syncer thread now; nothing is due from the caller.
}

Result<void> Writer::sync() {
  if (impl_->closed) return Error{Errc::kState, "journal closed"};
  if (const int err = impl_->do_sync(); err != 0) {
    return os_error(err, "msync", impl_->cur.path());
  }
  return {};
}

Result<void> Writer::close() {
  return impl_->close();
}
const RecoveryReport& Writer::recovery() const noexcept {
  return impl_->recovery;
}
const WriterStats& Writer::stats() const noexcept {
  Impl& m = *impl_;
  m.stats.syncs = m.sync_count.load(std::memory_order_relaxed);
  m.stats.sync_ns_total = m.sync_ns_total.load(std::memory_order_relaxed);
  m.stats.sync_ns_max = m.sync_ns_max.load(std::memory_order_relaxed);
  return m.stats;
}
const std::string& Writer::last_error() const noexcept {
  return impl_->last_error;
}

}  // namespace shmbus::journal
