// Configuration of a bus segment (fixed at creation, stored in the segment
// header) and of one attached agent (process-local).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "shmbus/priority.hpp"

namespace shmbus {

/// Geometry of a segment. Written into the header by the creator; attachers
/// read it back from the segment, so every process agrees.
struct BusConfig {
  /// Bus name: 1..40 characters of [A-Za-z0-9_.-]; the segment is /dev/shm/shmbus.<name>.
  std::string name;
  /// Slots per ring, indexed by Priority; each a power of two in [64, 2^24].
  std::array<std::uint32_t, kPriorityCount> ring_capacity{4096, 4096, 16384, 16384};
  /// Largest payload of one event, in bytes (8..65536). Slots are 64 + this, rounded to 64.
  std::uint32_t max_payload_bytes = 192;
  /// Agent records (1..1024).
  std::uint32_t max_agents = 64;
  /// Topic registry entries (16..65536).
  std::uint32_t max_topics = 1024;
  /// Events per ring kept readable behind the slowest subscriber for history / late joiners
  /// (0..capacity/2). Producers never overwrite them.
  std::uint32_t history_depth = 256;
  /// Barrier table entries and participants per barrier.
  std::uint32_t max_barriers = 16;
  std::uint32_t max_barrier_participants = 16;
  /// Signal bytes per participant of a barrier round.
  std::uint32_t barrier_signal_bytes = 64;
  /// Dead-letter entries kept (oldest dropped first).
  std::uint32_t dead_letter_capacity = 256;
  /// Error-log entries kept (oldest overwritten).
  std::uint32_t error_log_capacity = 256;
  /// File mode of the shared-memory object; owner-only by default. A supervisor refuses to
  /// adopt a live segment whose mode is wider.
  std::uint32_t permissions = 0600;
  /// The user that must own a live segment for a supervisor to adopt it; -1: the supervisor's
  /// own effective uid. (Not stored in the segment.)
  std::int64_t owner_uid = -1;
  /// The group a new segment is given (needs `permissions` with group bits to matter), and
  /// that a live segment whose mode lets a group in must have to be adopted; -1: the creating
  /// process's group. (Not stored in the segment.)
  std::int64_t group_gid = -1;
};

/// How a dispatcher waits when no event is ready.
enum class WaitStrategy : std::uint8_t {
  kBusySpin,   ///< spin on the rings; lowest latency, burns a core (pin it)
  kSpinYield,  ///< spin briefly, then sched_yield
  kBlock,      ///< spin briefly, then sleep on the segment's futex word
};

/// What publish does when the ring is full (the slowest tethered subscriber is a ring behind).
enum class FullPolicy : std::uint8_t {
  kReturn,  ///< return PublishStatus::kFull at once
  kWait,    ///< wait up to `publish_timeout`, then return kTimeout
};

/// Process-local options of one attached agent.
struct AgentOptions {
  /// Agent name: 1..31 characters of [A-Za-z0-9_.-], unique among live agents of the bus.
  std::string name;
  WaitStrategy wait = WaitStrategy::kSpinYield;
  FullPolicy full_policy = FullPolicy::kWait;
  std::chrono::nanoseconds publish_timeout = std::chrono::milliseconds(1000);
  /// Events a dispatcher handles from one ring before re-checking higher priorities and storing
  /// its cursor. Higher priorities are checked before every event of a lower one regardless.
  std::uint32_t dispatch_batch = 64;
  /// Period of the heartbeat an idle dispatcher writes while it waits.
  std::chrono::nanoseconds heartbeat_period = std::chrono::milliseconds(50);
  /// Start subscribers with the history kept in each ring (up to history_depth events) instead of
  /// only events published after subscribing.
  bool start_from_history = false;
  /// A handler that throws this many times in a row is unsubscribed, with a sys.error event
  /// (ErrorKind::kHandlerUnsubscribed). A call that returns resets the streak. 0 = never.
  std::uint32_t max_handler_failures = 5;
  /// A handler call longer than this is counted as slow (per subscription and in the agent
  /// record) and reported on sys.error (kHandlerSlow) at most once per second per handler.
  /// 0 = not timed.
  std::chrono::nanoseconds handler_budget = std::chrono::milliseconds(1);
  /// How long attach waits for a segment whose creator is still initialising it (smaller than
  /// a header, or not yet marked ready) before it answers kCorrupt / kNotReady. A deadline,
  /// checked on every wait round. (Create never waits: a creator locks its file from the first
  /// instant, so a leftover is judged by its locks alone.)
  std::chrono::nanoseconds attach_wait = std::chrono::seconds(1);
};

/// Checks a bus name; returns an empty string when valid, else why not.
std::string validate_bus_name(const std::string& name);
/// Checks an agent name; returns an empty string when valid, else why not.
std::string validate_agent_name(const std::string& name);
/// Checks a whole BusConfig; returns an empty string when valid, else the first problem.
std::string validate_config(const BusConfig& config);

}  // namespace shmbus
