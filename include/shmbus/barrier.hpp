// Barriers: fan-in of the signals of several participant agents (strategies) for one decision
// round, read by one waiter agent (the CIO) as soon as all have arrived or at the round's
// deadline with whatever arrived. Rounds are numbered (generations); a signal meant for a round
// that has closed is rejected as late and never shows up in a later round. Used by agents
// through a Bus; status is readable from any process (the CLI).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/barrier_types.hpp"
#include "shmbus/config.hpp"
#include "shmbus/result.hpp"

namespace shmbus {

class Bus;

namespace detail {
struct BarrierState;
}

// ---- registry (cold path) -----------------------------------------------------------------------

/// Creates barrier `name` with its participants (agent names, 1..max_barrier_participants, no
/// duplicates) and per-round timeout (> 0; the deadline runs from each round's first arrival).
/// Idempotent: an existing barrier with the same participants and timeout is success.
/// Errors: kInvalidArgument, kAlreadyExists (same name, other definition), kCapacityExceeded
/// (max_barriers in use), kBusy (control mutex unavailable).
Result<void> create_barrier(Bus& bus, std::string_view name,
                            std::span<const std::string> participants,
                            std::chrono::nanoseconds timeout);
/// Removes a barrier. Open handles then see kUnknownBarrier. Errors: kNotFound, kBusy.
Result<void> remove_barrier(Bus& bus, std::string_view name);

/// Status of one barrier; kNotFound when there is none of that name.
Result<BarrierStatus> barrier_status(Bus& bus, std::string_view name);
/// Same, from a process that is not attached (the CLI): maps the segment of `bus_name`.
Result<BarrierStatus> barrier_status(std::string_view bus_name, std::string_view name);
/// Status of every barrier of a bus.
Result<std::vector<BarrierStatus>> list_barriers(Bus& bus);
Result<std::vector<BarrierStatus>> list_barriers(std::string_view bus_name);

// ---- handle ------------------------------------------------------------------------------------

/// A process's handle on one barrier, bound to one Bus (which must outlive it). It is a
/// participant handle when the bus's agent is listed, and becomes the waiter with
/// become_waiter(). Threading: one thread at a time per handle; status() from any thread.
class Barrier {
 public:
  /// Resolves barrier `name` once (arrive then does no lookup). For a participant this also
  /// binds its slot to this agent, so the supervisor drops it from rounds if its process dies.
  /// Errors: kNotFound, kInvalidArgument.
  static Result<Barrier> open(Bus& bus, std::string_view name);

  Barrier();
  Barrier(Barrier&&) noexcept;
  Barrier& operator=(Barrier&&) noexcept;
  ~Barrier();  ///< gives the waiter role back

  const std::string& name() const noexcept;
  bool is_participant() const noexcept;

  // ---- participant side (hot path: noexcept, no allocation, no system call unless the
  //      waiter sleeps and this arrival is the one it waits for) ----------------------------

  /// The round arrive(signal) targets: the round open when the handle was opened (or last
  /// waited for with wait_open), then the one after each accepted arrival, or the open round
  /// after a late one.
  std::uint64_t round() const noexcept;
  /// Arrives in round() with `signal` (at most barrier_signal_bytes).
  [[nodiscard]] ArriveStatus arrive(std::span<const std::byte> signal) noexcept;
  /// Arrives in round `generation` explicitly: kLate if it has closed, kNotOpen if not yet open.
  [[nodiscard]] ArriveStatus arrive(std::span<const std::byte> signal,
                                    std::uint64_t generation) noexcept;
  /// Waits until round() is open (or a later round is, skipping closed ones) and returns its
  /// generation, which round() then targets. kTimeout after `timeout`; kUnknownBarrier-like
  /// kNotFound when the barrier was removed.
  Result<std::uint64_t> wait_open(std::chrono::nanoseconds timeout,
                                  WaitStrategy strategy = WaitStrategy::kBlock);

  // ---- waiter side ------------------------------------------------------------------------

  /// Registers this agent as the barrier's waiter; takes over from a registered waiter whose
  /// process died. Registers the sys.barrier.* topics. Errors: kBusy (a live waiter exists).
  Result<void> become_waiter();
  bool is_waiter() const noexcept;
  /// Waits for the next round to close and returns it: as soon as every live participant has
  /// arrived, or at the deadline with the partial set. The round advances atomically; the
  /// closer publishes sys.barrier.completed or sys.barrier.timeout. kTimeout when no round
  /// closed within `timeout` (a round with no arrival never closes); kState when not the waiter
  /// (or another waiter took over); kNotFound when the barrier was removed.
  Result<BarrierRound> wait(std::chrono::nanoseconds timeout,
                            WaitStrategy strategy = WaitStrategy::kBlock);
  /// Same, reusing `out`'s storage (no allocation once its vectors have grown).
  Result<void> wait(BarrierRound& out, std::chrono::nanoseconds timeout,
                    WaitStrategy strategy = WaitStrategy::kBlock);

  Result<BarrierStatus> status() const;

 private:
  explicit Barrier(std::unique_ptr<detail::BarrierState> state);
  std::unique_ptr<detail::BarrierState> s_;
};

}  // namespace shmbus
