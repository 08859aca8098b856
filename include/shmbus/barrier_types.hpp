// Barrier vocabulary: what arrive() reports, a closed round as the waiter receives it, and a
// barrier's status as any process reads it. Used by the Barrier handle (barrier.hpp), the core's
// barrier table, inspect.hpp and the CLI.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shmbus {

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

}  // namespace shmbus
