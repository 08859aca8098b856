// DurableSubscriber: a named reader of a journal whose checkpoint (what it handled, with the
// handler's own state if it wants exactly-once effects) is stored durably. After a restart it
// resumes after its checkpoint; events it may already have handled before a crash are flagged as
// redelivered. Two modes:
//  - journal follow (DurableOptions::bus empty): it reads the journal files as the journal agent
//    appends them; its order is the journal's, its latency the journal agent's. Checkpoint: the
//    last journal event id handled (store_checkpoint).
//  - live (DurableOptions::bus set): it attaches to the bus first (tethered, at the rings'
//    tails P_r), replays the journal from its checkpoint up to P_r (waiting, bounded, for the
//    journal agent to get there), then delivers from the rings. No gap and no duplicate at the
//    seam: a journal record of ring r at position >= P_r is skipped (it comes live). Checkpoint:
//    per ring, the positions handed out (checkpoint_handed_out), since a live event has no
//    journal id yet.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "shmbus/journal.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"

namespace shmbus::journal {

struct DurableOptions {
  std::string journal_dir;
  std::string name;       ///< 1..64 characters of [A-Za-z0-9_.-]
  std::string state_dir;  ///< checkpoint files; default <journal_dir>/subscribers

  // ---- live mode (bus not empty) ----
  /// The bus the journal agent records. The subscriber attaches as agent `name` (so at most 31
  /// characters here) and is tethered: while it replays, a full ring holds producers back.
  std::string bus;
  /// Agent name of the journal agent writing `journal_dir`: its ring cursors tell when the
  /// journal holds everything before the seam.
  std::string journal_agent = "journal";
  /// Topic patterns and priorities delivered; the same as the journal agent's (what the journal
  /// does not hold cannot be replayed after a restart).
  std::vector<std::string> topics{"*"};
  std::array<bool, kPriorityCount> priorities{true, true, true, true};
  /// How long open() waits for the journal agent to reach the seam (kTimeout after it).
  std::chrono::nanoseconds seam_timeout = std::chrono::seconds(10);
};

/// One event handed to a durable handler.
struct Delivery {
  Record record;
  /// This event id was handed out before the last restart and is after the last checkpoint: the
  /// handler may have handled it already (at-least-once); de-duplicate or keep state with the
  /// checkpoint (store_checkpoint) to get exactly-once effects.
  bool redelivered = false;
  /// Live mode: true when delivered from the ring. A live event has no journal id yet:
  /// record.event_id is 0 and record.journal_ns 0; record.meta.priority and
  /// record.meta.ring_position name it (as for a replayed one), and a checkpoint refers to it
  /// by them (checkpoint_handed_out).
  bool live = false;
};

using DurableHandler = std::function<void(const Delivery&)>;

/// One thread at a time. One live instance per name (a lock file; a second one gets kBusy).
class DurableSubscriber {
 public:
  /// Loads the checkpoint and positions after it. Errors: those of Reader::open, kBusy,
  /// kCorrupt (a damaged checkpoint file, naming it), kInvalidArgument (name).
  static Result<DurableSubscriber> open(const DurableOptions& options);
  DurableSubscriber(DurableSubscriber&&) noexcept;
  DurableSubscriber& operator=(DurableSubscriber&&) noexcept;
  ~DurableSubscriber();

  /// Hands up to `max_events` journaled events to `handler`, in journal order; waits (sleeping in
  /// steps of at most 1 ms) up to `timeout` for the first. Returns how many it handed out.
  Result<std::size_t> poll(const DurableHandler& handler, std::size_t max_events,
                           std::chrono::nanoseconds timeout);

  /// Stores durably (write, fdatasync, rename) that every event up to `event_id` is handled,
  /// together with `state` (the handler's own state, up to 1 MiB), atomically: after a crash
  /// the subscriber restarts from exactly this pair.
  Result<void> store_checkpoint(std::uint64_t event_id, std::span<const std::byte> state = {});

  /// Live mode: stores durably, with `state`, that every delivery handed out so far is handled
  /// (per ring, the next position to deliver, and the journal id replay restarts from). After a
  /// crash the subscriber resumes exactly after them. kState in journal-follow mode.
  Result<void> checkpoint_handed_out(std::span<const std::byte> state = {});

  /// Live mode: deliveries so far from the journal (replayed) and from the rings (live).
  std::uint64_t replayed() const noexcept;
  std::uint64_t delivered_live() const noexcept;
  /// Live mode: ring positions the subscriber cannot deliver: lost by the journal before the seam
  /// (checked when topics is {"*"}: the journal then holds every position of a ring), or lapped
  /// live. Each gap is also logged; 0 is the promise.
  std::uint64_t gaps() const noexcept;
  /// Live mode: the first position of each ring delivered live (P_r).
  std::array<std::uint64_t, kPriorityCount> seam() const noexcept;

  /// The checkpoint loaded at open (or stored since): last event id handled and its state.
  std::uint64_t checkpoint() const noexcept;
  const std::vector<std::byte>& state() const noexcept;
  /// Highest event id handed out before this open (events up to it are flagged redelivered).
  std::uint64_t redelivery_limit() const noexcept;

 private:
  struct Impl;
  explicit DurableSubscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shmbus::journal
