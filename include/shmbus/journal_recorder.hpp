// Recorder: a subscriber of a live bus that appends the events it is told to keep (priorities
// and topic patterns) to a journal, and publishes its counters in a small stats file beside the
// journal (STATS) that `shmbus journal stats` and tools read without its cooperation. Used by
// the shmbus-journal agent and `shmbus record`.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/config.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"

namespace shmbus::journal {

/// What the recorder does when the journal cannot take an event (disk full, I/O error).
enum class Backpressure : std::uint8_t {
  /// Keep retrying the event (every 100 ms) without returning from the handler: its tethered
  /// cursor holds producers back, so nothing acknowledged to a publisher is skipped. Counted as
  /// held (events and nanoseconds).
  kHold,
  /// Drop the event and count it as shed, per priority; keep going.
  kShed,
};

struct RecorderOptions {
  std::string bus;
  std::string agent_name;                ///< unique among live agents of the bus
  std::vector<std::string> topics{"*"};  ///< patterns: name, prefix.* or *
  std::array<bool, kPriorityCount> priorities{true, true, true, true};
  Backpressure backpressure = Backpressure::kHold;
  /// Start with the history each ring keeps (BusConfig::history_depth) and skip the events the
  /// journal already holds (same producer, epoch, priority and a sequence not above the last
  /// journaled one): a journal agent restarted after a kill picks up what was published while
  /// it was down, as far as the rings' history reaches. Off for a new recording.
  bool resume_from_history = false;
  /// How the recorder's dispatcher waits when no event is ready (a sleeping one costs the
  /// publisher a FUTEX_WAKE).
  WaitStrategy wait = WaitStrategy::kBlock;
  JournalOptions journal;
};

/// Counters, also in the STATS file (read_recorder_stats).
struct RecorderStats {
  std::uint64_t pid = 0;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t syncs = 0;
  std::uint64_t sync_ns_max = 0;
  std::uint64_t sync_ns_avg = 0;
  std::uint64_t last_event_id = 0;
  std::uint64_t lag_ns = 0;       ///< journal time minus the event's publish time, last one
  std::uint64_t held_events = 0;  ///< events the journal could not take at once (kHold)
  std::uint64_t held_ns = 0;      ///< time spent holding producers back
  std::array<std::uint64_t, kPriorityCount> shed{};  ///< dropped by kShed, per priority
  std::uint64_t missed = 0;              ///< ring positions lost while untethered (gap notices)
  std::uint64_t duplicates_skipped = 0;  ///< history events already journaled (resume)
  std::uint64_t updated_ns = 0;          ///< CLOCK_REALTIME of the last update
};

class Recorder {
 public:
  /// Opens the journal (recovering it) and attaches to the bus. Errors: those of Writer::open
  /// and Bus::attach, kInvalidArgument for a bad pattern.
  static Result<Recorder> open(const RecorderOptions& options);
  Recorder(Recorder&&) noexcept;
  Recorder& operator=(Recorder&&) noexcept;
  ~Recorder();

  /// Dispatches and journals until stop(), then drains what is ready and syncs.
  Result<void> run();
  /// Makes run() return soon. Any thread, async-signal-safe.
  void stop() noexcept;
  const RecoveryReport& recovery() const noexcept;
  RecorderStats stats() const noexcept;

 private:
  struct Impl;
  explicit Recorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The counters a recorder keeps in `dir`/STATS. kNotFound when there is none.
Result<RecorderStats> read_recorder_stats(const std::string& dir);

/// A recorder registers its journal with its bus so that `shmbus status` and the supervisor's
/// metrics find it without knowing journal directories: a symbolic link
/// /dev/shm/shmbus-journal.<bus>@<agent> -> <absolute journal dir> ('@' is in neither name),
/// made when the recorder opens (replacing one a killed recorder of the same agent name left)
/// and removed when it is destroyed.
std::string journal_registration_path(std::string_view bus, std::string_view agent);

/// One registered journal of a bus.
struct BusJournal {
  std::string agent;     ///< the recorder's agent name (its AgentSnapshot has the ring lag)
  std::string dir;       ///< the journal directory
  bool running = false;  ///< a process holds the dir's writer lock (told by the kernel)
  RecorderStats stats;   ///< zeros when the STATS file could not be read (see error)
  std::string error;     ///< why stats could not be read; empty when they were
};

/// The journals registered for `bus`, by agent name. Never fails: a missing /dev/shm or no
/// registration gives an empty list; an unreadable STATS file sets BusJournal::error.
std::vector<BusJournal> list_bus_journals(std::string_view bus);

}  // namespace shmbus::journal
