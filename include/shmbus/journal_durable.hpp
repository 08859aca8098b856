// DurableSubscriber: a named reader of a journal whose checkpoint (the last event id it handled,
// with the handler's own state if it wants exactly-once effects) is stored durably. After a
// restart it resumes after its checkpoint; events it may already have handled before a crash
// are flagged as redelivered. It follows the journal live (the journal agent appends, it reads
// the same mapped files), so its order is the journal's and there is no seam to cross.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "shmbus/journal.hpp"
#include "shmbus/result.hpp"

namespace shmbus::journal {

struct DurableOptions {
  std::string journal_dir;
  std::string name;       ///< 1..64 characters of [A-Za-z0-9_.-]
  std::string state_dir;  ///< checkpoint files; default <journal_dir>/subscribers
};

/// One event handed to a durable handler.
struct Delivery {
  Record record;
  /// This event id was handed out before the last restart and is after the last checkpoint: the
  /// handler may have handled it already (at-least-once); de-duplicate or keep state with the
  /// checkpoint (store_checkpoint) to get exactly-once effects.
  bool redelivered = false;
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
