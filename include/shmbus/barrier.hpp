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
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/config.hpp"
#include "shmbus/result.hpp"

namespace shmbus {

class Bus;

namespace detail {
struct BarrierState;
}

/// Longest barrier name: 31 characters of [A-Za-z0-9_.-].
inline constexpr std::size_t kMaxBarrierName = 31;

/// What arrive() did with a signal. Outcomes, not errors: only kAccepted put it in a round.
enum class ArriveStatus : std::uint8_t {
  kAccepted,        ///< the signal is part of the round it was meant for
  kLate,            ///< that round had already closed (complete or deadline); signal dropped
  kAlreadyArrived,  ///< this participant already signalled that round; the first signal stands
  kNotOpen,         ///< that round has not opened yet (the one before it is still running)
  kNotParticipant,  ///< this agent is not a participant of the barrier
  kUnknownBarrier,  ///< the barrier was removed (or the handle is empty)
  kTooLarge,        ///< the signal exceeds BusConfig::barrier_signal_bytes
};

/// Short stable name ("accepted", "late", ...), for logs and JSON.
std::string_view arrive_status_name(ArriveStatus status) noexcept;

/// One participant's signal in a round.
struct BarrierSignal {
  std::string participant;           ///< agent name
  std::uint32_t index = 0;           ///< position in the barrier's participant list
  std::vector<std::byte> bytes;      ///< the signal as given to arrive()
  std::uint64_t arrive_mono_ns = 0;  ///< CLOCK_MONOTONIC when it arrived
};

/// A closed round as the waiter receives it.
struct BarrierRound {
  std::string barrier;
  std::uint64_t generation = 0;
  /// Every participant arrived, except those dropped because their process died.
  bool complete = false;
  std::uint32_t participants = 0;
  std::vector<BarrierSignal> signals;      ///< arrived participants, in participant order
  std::vector<std::string> missing;        ///< did not arrive (dropped ones included)
  std::vector<std::string> dropped;        ///< missing because their process had died
  std::uint64_t first_arrive_mono_ns = 0;  ///< 0 when nobody arrived
  std::uint64_t last_arrive_mono_ns = 0;
  std::uint64_t closed_mono_ns = 0;  ///< when this waiter took the round
  /// Rounds between the previous one returned and this one that were closed without this
  /// waiter (at their deadline, by the supervisor) and overwritten before it could read them.
  std::uint64_t skipped = 0;
  /// This waiter advanced the round (and published its sys.barrier.* event); false when the
  /// supervisor closed it first.
  bool closed_here = false;
};

struct BarrierParticipantStatus {
  std::string name;
  bool arrived = false;        ///< in the current round
  bool dropped = false;        ///< its process died; rounds no longer wait for it
  bool attached = false;       ///< an agent of that name opened the barrier (and has not gone)
  std::uint64_t accepted = 0;  ///< signals accepted in all rounds
};

/// A barrier as any process can read it.
struct BarrierStatus {
  std::string name;
  std::uint64_t generation = 0;  ///< the current round
  bool closing = false;          ///< the current round is being closed right now
  std::uint32_t participants = 0;
  std::uint32_t arrived = 0;  ///< in the current round
  std::vector<std::string> missing;
  std::vector<std::string> dropped;
  std::vector<BarrierParticipantStatus> detail;
  std::chrono::nanoseconds timeout{0};
  /// Until the current round's deadline (negative once past); empty while nobody has arrived
  /// (the deadline runs from a round's first arrival).
  std::optional<std::chrono::nanoseconds> time_left;
  std::uint64_t completed = 0;  ///< rounds closed complete
  std::uint64_t timed_out = 0;  ///< rounds closed at the deadline with someone missing
  std::uint64_t late = 0;       ///< arrivals rejected as late
  std::uint64_t drops = 0;      ///< participants dropped because their process died
  std::string waiter;           ///< agent name of the registered waiter, empty if none
  bool waiter_alive = false;
  std::uint64_t last_generation = 0;  ///< the last closed round (0: none yet)
  bool last_complete = false;
  std::uint32_t last_arrived = 0;
};

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
