// The journal (library shmbus::journal): segmented, memory-mapped files of CRC32C-checked event
// records, a writer that appends with no system call per record, a reader that seeks by event id
// or time, and the recovery report of a torn tail. The journal agent, `shmbus record/replay/
// journal` and durable subscribers are built on these two classes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"

namespace shmbus::journal {

/// What survives what (README "Journal"): kNone survives a process crash (the page cache holds
/// every appended record) but not a power loss; kInterval loses at most the last interval and
/// two syncs' duration on a power loss (a syncer thread of the writer msyncs every interval; an
/// appender more than 32 MiB ahead of it syncs itself); kCritical makes every CRITICAL record,
/// and all before it, durable before append returns (group commit: one msync for the batch).
enum class SyncPolicy : std::uint8_t { kNone, kInterval, kCritical };

/// Parses "none", "critical" or "<N>ms"; kInvalidArgument otherwise.
Result<void> parse_sync_policy(std::string_view text, SyncPolicy& policy,
                               std::chrono::milliseconds& interval);

struct JournalOptions {
  std::string dir;                             ///< created if its parent exists
  std::uint64_t file_bytes = 64ull << 20;      ///< size of each segment file (64 KiB..16 GiB)
  SyncPolicy sync = SyncPolicy::kNone;         ///< see SyncPolicy
  std::chrono::milliseconds sync_interval{5};  ///< kInterval period
  std::uint64_t retain_bytes = 0;              ///< delete oldest sealed files beyond; 0 = all
  std::chrono::seconds retain_age{0};          ///< delete sealed files older; 0 = forever
  std::uint32_t index_interval = 1024;         ///< records between sparse index points
  /// Makes the next segment file ahead of need on a background thread (preallocated, mapped and
  /// prefaulted, under a name readers ignore), so a roll-over only renames it and no append
  /// takes the page faults of a fresh file. Costs one more file of disk space (not counted by
  /// retain_bytes) and of dirty page cache: a spare waiting longer than the kernel's dirty
  /// expiry (30 s by default) has its zero pages written back once before records overwrite
  /// them. A full disk is still reported at the roll-over that needs the file; close() waits
  /// for a prefault in progress.
  bool prepare_next_file = true;
};

/// The fields of a record the caller supplies; the journal adds the event id and journal time.
struct RecordMeta {
  std::string_view topic;
  Priority priority = Priority::kNormal;
  std::uint16_t flags = 0;
  std::uint16_t schema_version = 0;
  std::uint32_t producer = 0;
  std::uint32_t producer_epoch = 0;
  std::uint64_t producer_seq = 0;
  std::uint64_t publish_ns = 0;
  /// The event's position in its priority's ring (EventView::position) when a recorder
  /// journaled it; what a durable subscriber joins the live ring by. 0 for other writers.
  std::uint64_t ring_position = 0;
};

/// One record as read back. Views point into the mapped file: valid until the next call on the
/// reader that produced it.
struct Record {
  std::uint64_t event_id = 0;
  std::uint64_t journal_ns = 0;
  RecordMeta meta;
  std::span<const std::byte> payload;
};

/// What recovery found in the last file when a writer opened the journal.
struct RecoveryReport {
  std::string file;                 ///< the file scanned (empty for a new journal)
  std::uint64_t records_kept = 0;   ///< valid records in that file
  std::uint64_t valid_bytes = 0;    ///< end of the last valid record (file offset)
  std::uint64_t damaged_bytes = 0;  ///< bytes after it that were not zero (or missing), cleared
  bool file_was_short = false;      ///< the file had been cut below its fixed size
  bool damaged() const noexcept { return damaged_bytes != 0 || file_was_short; }
  std::string describe() const;
};

enum class [[nodiscard]] AppendStatus : std::uint8_t{
    kOk = 0,
    kTooLarge,  ///< record larger than a segment file
    kBadTopic,  ///< empty topic or longer than kMaxTopicName
    kNoSpace,   ///< a new segment file could not be allocated (disk full); nothing was lost
    kIoError,   ///< another OS error rolling or syncing (Writer::last_error says which)
    kClosed,
};
std::string_view append_status_name(AppendStatus s) noexcept;

struct WriterStats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;  ///< record bytes appended since open
  std::uint64_t syncs = 0;
  std::uint64_t sync_ns_total = 0;
  std::uint64_t sync_ns_max = 0;
  std::uint64_t files_created = 0;
  std::uint64_t files_removed = 0;  ///< by retention
  std::uint64_t next_event_id = 1;
};

/// Appends records. One thread at a time (not thread-safe); one writer per directory (a lock
/// file; a second one gets kBusy).
class Writer {
 public:
  /// Opens or creates the journal in options.dir: recovers the last file (truncating a torn
  /// tail, see recovery()) and continues after its last valid record. Errors: kNotFound (no
  /// parent directory), kPermission (not writable), kVersionMismatch (another format major),
  /// kCorrupt, kBusy (another writer), kCapacityExceeded (no space for the first file),
  /// kInvalidArgument (options).
  static Result<Writer> open(const JournalOptions& options);

  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();

  /// Hot path: copies the record into the mapped file; no system call and no allocation except
  /// when a file rolls over, a CRITICAL record is synced (kCritical), or the kInterval syncer is
  /// more than 32 MiB behind. Threads: one appending thread; the writer's syncer runs beside it. `event_id` receives the id given.
  AppendStatus append(const RecordMeta& meta, std::span<const std::byte> payload,
                      std::uint64_t* event_id = nullptr) noexcept;
  /// Kept for callers of older builds; nothing is due (kInterval syncs on the writer's thread).
  void tick() noexcept;
  /// Makes everything appended so far durable (msync) now.
  Result<void> sync();
  /// Syncs (by policy), writes the sealed index, releases the directory.
  Result<void> close();

  const RecoveryReport& recovery() const noexcept;
  const WriterStats& stats() const noexcept;
  /// Why the last append returned kNoSpace or kIoError.
  const std::string& last_error() const noexcept;

 private:
  struct Impl;
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// One segment file as listed by `journal ls`.
struct FileInfo {
  std::string path;
  std::uint64_t file_index = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t first_event_id = 0;  ///< id of its first record (or the next id when empty)
  std::uint64_t created_ns = 0;
  bool has_index = false;  ///< sealed with a sparse index sidecar
};

/// Reads a journal in order, one file mapped at a time (memory stays flat). A file whose tail is
/// torn ends the reading there (the writer's recovery truncates it); damage in the middle of a
/// sealed file is an error (kCorrupt) naming file and offset.
class Reader {
 public:
  /// Errors: kNotFound (no such dir or no journal files), kVersionMismatch, kCorrupt.
  static Result<Reader> open(const std::string& dir);

  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  const std::vector<FileInfo>& files() const noexcept;
  /// Positions before the first record whose event id >= `event_id` (sparse index, then scan).
  Result<void> seek_event(std::uint64_t event_id);
  /// Positions before the first record whose journal time >= `journal_ns`.
  Result<void> seek_time(std::uint64_t journal_ns);
  /// The next record into `out`: true, or false at the end (call again later to follow a
  /// journal still being written: new files and records are picked up).
  Result<bool> next(Record& out);

 private:
  struct Impl;
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shmbus::journal
