// The bus's own protocol: the sys.* payloads the supervisor and the dispatchers publish (health,
// backpressure, errors, barrier rounds, gaps, agents joining and leaving, heartbeats), their
// enums (with the one name function of health states and of backpressure levels) and kBusWide.
// Used by the core, the supervisor, Bus::on_health / on_backpressure and tools; the trading
// catalogue lists these types too, but this header does not depend on it. Wire conventions as
// in catalog/common.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmbus/enum_range.hpp"
#include "shmbus/fields.hpp"
#include "shmbus/fixed_text.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/topic.hpp"

namespace shmbus::sys {

/// agent_index value meaning "the bus itself" (bus-wide health, supervisor-side events).
inline constexpr std::uint32_t kBusWide = 0xFFFFFFFFu;

// ---- enums (8-bit, 0 = unknown/none, as every wire enum) ----------------------------------------

/// Health of an agent or of the bus, as the supervisor judges it.
/// kDead: the kernel released the agent's liveness lock; its record is being recovered.
enum class HealthState : std::uint8_t { kUnknown = 0, kHealthy, kDegraded, kUnhealthy, kDead };
SHMBUS_ENUM_LAST(HealthState, kDead);
enum class HealthReason : std::uint8_t {
  kUnknown = 0,
  kHeartbeatLate,
  kStalled,        ///< cursor not moving while events wait
  kHandlerErrors,  ///< handler error streak
  kSlowHandler,    ///< handlers over their time budget
  kLatency,        ///< delivery latency over its limit
  kDied,           ///< the kernel released the agent's liveness lock
  kRecovered,
};
SHMBUS_ENUM_LAST(HealthReason, kRecovered);
/// Backpressure level of one ring; here 0 is the normal state.
enum class BackpressureLevel : std::uint8_t { kNormal = 0, kWarning, kHigh, kCritical };
SHMBUS_ENUM_LAST(BackpressureLevel, kCritical);
enum class ErrorKind : std::uint8_t {
  kUnknown = 0,
  kHandlerException,     ///< a handler threw; the event went to the dead-letter area
  kHandlerSlow,          ///< a handler ran past its budget
  kHandlerUnsubscribed,  ///< a handler failed too often in a row and was removed
  kDeadLetter,           ///< dead-letter area overflowed (oldest dropped)
  kInternal,             ///< the bus itself hit an error (Errc in `errc`)
};
SHMBUS_ENUM_LAST(ErrorKind, kInternal);
enum class GapReason : std::uint8_t { kUnknown = 0, kLapped, kUntethered, kPadded };
SHMBUS_ENUM_LAST(GapReason, kPadded);
enum class LeaveReason : std::uint8_t { kUnknown = 0, kDetached, kDied, kEvicted };
SHMBUS_ENUM_LAST(LeaveReason, kEvicted);

/// "healthy", "degraded", "unhealthy", "dead", "unknown": for logs, JSON and the CLI.
constexpr std::string_view health_name(HealthState state) noexcept {
  switch (state) {
    case HealthState::kHealthy:
      return "healthy";
    case HealthState::kDegraded:
      return "degraded";
    case HealthState::kUnhealthy:
      return "unhealthy";
    case HealthState::kDead:
      return "dead";
    case HealthState::kUnknown:
      break;
  }
  return "unknown";
}

/// "normal", "warning", "high", "critical": for logs, JSON and the CLI.
constexpr std::string_view backpressure_level_name(BackpressureLevel level) noexcept {
  switch (level) {
    case BackpressureLevel::kNormal:
      return "normal";
    case BackpressureLevel::kWarning:
      return "warning";
    case BackpressureLevel::kHigh:
      return "high";
    case BackpressureLevel::kCritical:
      return "critical";
  }
  return "normal";
}

/// "handler_exception", "handler_slow", "handler_unsubscribed", "dead_letter", "internal",
/// "unknown": for logs, JSON and the CLI (`shmbus errors`).
constexpr std::string_view error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kHandlerException:
      return "handler_exception";
    case ErrorKind::kHandlerSlow:
      return "handler_slow";
    case ErrorKind::kHandlerUnsubscribed:
      return "handler_unsubscribed";
    case ErrorKind::kDeadLetter:
      return "dead_letter";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kUnknown:
      break;
  }
  return "unknown";
}

// ---- payloads (sys.*), published by the supervisor and the dispatchers --------------------------

/// Health of an agent (or the bus, agent_index == kBusWide) changed.
struct AgentHealthChange {
  static constexpr std::string_view kTopic = "sys.health";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "health of an agent or the bus changed";

  std::uint64_t change_mono_ns{};    ///< CLOCK_MONOTONIC ns
  std::uint64_t heartbeat_age_ns{};  ///< age of the agent's last heartbeat at the change
  std::uint32_t agent_index{};       ///< agent table slot, kBusWide for the bus
  std::uint32_t agent_epoch{};       ///< incarnation of that slot
  char agent[kNameLen]{};
  char text[kTextLen]{};
  HealthState old_state{};
  HealthState new_state{};
  HealthReason reason{};
  std::uint8_t reserved[5]{};

  SHMBUS_FIELDS(AgentHealthChange, change_mono_ns, heartbeat_age_ns, agent_index, agent_epoch,
                agent, text, old_state, new_state, reason, reserved);
};
SHMBUS_PAYLOAD_PIN(AgentHealthChange, 128);

/// Backpressure level of one ring changed.
struct BackpressureChange {
  static constexpr std::string_view kTopic = "sys.backpressure";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "backpressure level of a ring changed";

  std::uint64_t change_mono_ns{};  ///< CLOCK_MONOTONIC ns
  std::uint64_t fill_slots{};      ///< events between the tail and the slowest tethered cursor
  std::uint32_t capacity{};        ///< slots in the ring
  std::uint32_t fill_ppm{};        ///< fill_slots / capacity × 1e6
  Priority ring{};                 ///< the ring, named by its priority
  BackpressureLevel old_level{};
  BackpressureLevel new_level{};
  std::uint8_t reserved[5]{};

  SHMBUS_FIELDS(BackpressureChange, change_mono_ns, fill_slots, capacity, fill_ppm, ring, old_level,
                new_level, reserved);
};
SHMBUS_PAYLOAD_PIN(BackpressureChange, 32);

/// A handler failed, ran slow, was removed, or the bus hit an error. Never published about
/// itself (a failing sys.error handler does not raise another sys.error).
struct ErrorEvent {
  static constexpr std::string_view kTopic = "sys.error";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "handler failure or bus error";

  std::uint64_t error_mono_ns{};   ///< CLOCK_MONOTONIC ns
  std::uint64_t event_sequence{};  ///< producer sequence of the event being handled, 0 none
  std::uint64_t count{};           ///< occurrences of this error at this agent so far
  std::uint32_t agent_index{};     ///< agent where it happened, kBusWide for the supervisor
  TopicId topic{};                 ///< topic of the event being handled, kInvalidTopic none
  ErrorKind kind{};
  Errc errc{};  ///< for kInternal, else Errc::kOk
  std::uint8_t reserved[6]{};
  char agent[kNameLen]{};
  char handler[kNameLen]{};  ///< HandlerOptions::name
  char message[80]{};        ///< what() of the exception, or the error message, truncated

  SHMBUS_FIELDS(ErrorEvent, error_mono_ns, event_sequence, count, agent_index, topic, kind, errc,
                reserved, agent, handler, message);
};
SHMBUS_PAYLOAD_PIN(ErrorEvent, 184);

/// Participants of barriers are numbered 0..63 in masks (bit i = participant i).
/// A barrier round completed: every participant arrived.
struct BarrierCompleted {
  static constexpr std::string_view kTopic = "sys.barrier.completed";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "barrier round completed (all arrived)";

  std::uint64_t generation{};        ///< round that completed
  std::uint64_t arrived_mask{};      ///< bit i = participant i arrived
  std::uint64_t elapsed_ns{};        ///< from the round's first arrival to completion
  std::uint64_t complete_mono_ns{};  ///< CLOCK_MONOTONIC ns
  char barrier[kNameLen]{};
  std::uint32_t arrived{};       ///< participants that arrived
  std::uint32_t participants{};  ///< participants of the round

  SHMBUS_FIELDS(BarrierCompleted, generation, arrived_mask, elapsed_ns, complete_mono_ns, barrier,
                arrived, participants);
};
SHMBUS_PAYLOAD_PIN(BarrierCompleted, 72);

/// A barrier round reached its deadline with participants missing; the waiter got the partial set.
struct BarrierTimeout {
  static constexpr std::string_view kTopic = "sys.barrier.timeout";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "barrier round timed out with some missing";

  std::uint64_t generation{};        ///< round that timed out
  std::uint64_t arrived_mask{};      ///< bit i = participant i arrived
  std::uint64_t missing_mask{};      ///< bit i = participant i did not
  std::uint64_t timeout_ns{};        ///< the barrier's timeout
  std::uint64_t deadline_mono_ns{};  ///< CLOCK_MONOTONIC ns of the deadline
  char barrier[kNameLen]{};
  std::uint32_t arrived{};
  std::uint32_t participants{};

  SHMBUS_FIELDS(BarrierTimeout, generation, arrived_mask, missing_mask, timeout_ns,
                deadline_mono_ns, barrier, arrived, participants);
};
SHMBUS_PAYLOAD_PIN(BarrierTimeout, 80);

/// A subscriber missed events (lapped while untethered, or its events were padded away).
struct GapNotice {
  static constexpr std::string_view kTopic = "sys.gap";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "a subscriber missed events";

  std::uint64_t first_missed_position{};  ///< ring position of the first missed event
  std::uint64_t missed{};                 ///< events missed
  std::uint64_t detect_mono_ns{};         ///< CLOCK_MONOTONIC ns
  std::uint32_t agent_index{};            ///< the subscriber
  Priority ring{};                        ///< the ring, named by its priority
  GapReason reason{};
  std::uint8_t reserved[2]{};
  char agent[kNameLen]{};

  SHMBUS_FIELDS(GapNotice, first_missed_position, missed, detect_mono_ns, agent_index, ring, reason,
                reserved, agent);
};
SHMBUS_PAYLOAD_PIN(GapNotice, 64);

/// An agent attached to the bus.
struct AgentJoined {
  static constexpr std::string_view kTopic = "sys.agent.joined";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "an agent attached";

  std::uint64_t join_mono_ns{};  ///< CLOCK_MONOTONIC ns
  std::int32_t pid{};            ///< diagnostics only: ambiguous across PID namespaces
  std::uint32_t agent_index{};
  std::uint32_t agent_epoch{};  ///< incarnation of the slot
  std::uint8_t reserved[4]{};
  std::uint64_t process_start_ticks{};  ///< /proc/<pid>/stat starttime, clock ticks; diagnostics
  char agent[kNameLen]{};

  SHMBUS_FIELDS(AgentJoined, join_mono_ns, pid, agent_index, agent_epoch, reserved,
                process_start_ticks, agent);
};
SHMBUS_PAYLOAD_PIN(AgentJoined, 64);

/// An agent detached, died, or was evicted; its record is free again.
struct AgentLeft {
  static constexpr std::string_view kTopic = "sys.agent.left";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "an agent detached, died or was evicted";

  std::uint64_t leave_mono_ns{};     ///< CLOCK_MONOTONIC ns
  std::uint64_t events_published{};  ///< over the agent's life
  std::uint64_t events_consumed{};   ///< over the agent's life
  std::int32_t pid{};                ///< diagnostics only
  std::uint32_t agent_index{};
  std::uint32_t agent_epoch{};
  LeaveReason reason{};
  std::uint8_t reserved[3]{};
  char agent[kNameLen]{};

  SHMBUS_FIELDS(AgentLeft, leave_mono_ns, events_published, events_consumed, pid, agent_index,
                agent_epoch, reason, reserved, agent);
};
SHMBUS_PAYLOAD_PIN(AgentLeft, 72);

/// Periodic liveness and progress of an agent, for tools that watch the bus from outside.
/// (Liveness itself is judged from the agent record, not from these events.)
struct Heartbeat {
  static constexpr std::string_view kTopic = "sys.heartbeat";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "periodic liveness and progress of an agent";

  std::uint64_t beat_mono_ns{};      ///< CLOCK_MONOTONIC ns
  std::uint64_t beat_time_ns{};      ///< CLOCK_REALTIME ns, for clock-skew checks across hosts
  std::uint64_t seq{};               ///< heartbeats sent by this agent, from 1
  std::uint64_t events_published{};  ///< since attach
  std::uint64_t events_consumed{};   ///< since attach
  std::uint32_t agent_index{};
  std::uint32_t agent_epoch{};
  char agent[kNameLen]{};
  HealthState state{};  ///< the agent's own view of itself
  std::uint8_t reserved[7]{};

  SHMBUS_FIELDS(Heartbeat, beat_mono_ns, beat_time_ns, seq, events_published, events_consumed,
                agent_index, agent_epoch, agent, state, reserved);
};
SHMBUS_PAYLOAD_PIN(Heartbeat, 88);

/// The largest sys.* payload: a bus whose max_payload_bytes is smaller cannot carry the system
/// events (a supervisor refuses such a config rather than run without them).
inline constexpr std::uint32_t kLargestPayloadBytes = static_cast<std::uint32_t>(
    std::max({sizeof(AgentHealthChange), sizeof(BackpressureChange), sizeof(ErrorEvent),
              sizeof(BarrierCompleted), sizeof(BarrierTimeout), sizeof(GapNotice),
              sizeof(AgentJoined), sizeof(AgentLeft), sizeof(Heartbeat)}));

}  // namespace shmbus::sys
