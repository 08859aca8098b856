// Read-only inspection of a live bus from any process, without registering as an agent: a
// plain copy of rings, agents, topics, counters and barriers. Used by the `shmbus` CLI
// (status, agents, top) and by tests; every value read from the segment is range-checked.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/barrier_types.hpp"
#include "shmbus/config.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/sys_events.hpp"
#include "shmbus/topic.hpp"

namespace shmbus {

/// One priority ring.
struct RingSnapshot {
  Priority priority = Priority::kCritical;
  std::uint32_t capacity = 0;  ///< slots
  std::uint64_t tail = 0;      ///< next position to be claimed
  /// Slowest tethered reader cursor; equals `tail` when no tethered reader holds the ring.
  std::uint64_t slowest = 0;
  bool has_tethered = false;  ///< some active, tethered reader exists
  std::uint64_t fill = 0;     ///< tail - slowest
  double fill_pct = 0;        ///< fill / capacity × 100
  sys::BackpressureLevel level = sys::BackpressureLevel::kNormal;
  std::uint64_t padded = 0;       ///< slots padded by the supervisor
  std::uint64_t quarantined = 0;  ///< stuck claims quarantined
};

/// One active agent record.
struct AgentSnapshot {
  std::uint32_t index = 0;
  std::uint32_t epoch = 0;
  std::uint32_t pid = 0;  ///< diagnostics only
  std::string name;
  bool alive = false;  ///< its liveness lock is held (the process is running)
  sys::HealthState health = sys::HealthState::kUnknown;
  std::uint64_t heartbeat_age_ns = 0;
  std::uint64_t handler_errors = 0;
  std::uint32_t handler_error_streak = 0;
  /// Worst delivery latency since the supervisor last read (and reset) it; 0 when none.
  std::uint64_t max_delivery_latency_ns = 0;
  std::uint64_t rate_limit_per_s = 0;
  std::uint8_t reading_mask = 0;   ///< bit r: reads ring r (has subscribed)
  std::uint8_t tethered_mask = 0;  ///< bit r: producers wait for it on ring r
  std::array<std::uint64_t, kPriorityCount> cursor{};
  std::array<std::uint64_t, kPriorityCount> lag{};  ///< tail - cursor, rings it reads
  std::array<std::uint64_t, kPriorityCount> published{};
  std::array<std::uint64_t, kPriorityCount> delivered{};
  std::array<std::uint64_t, kPriorityCount> consumed{};
  std::array<std::uint64_t, kPriorityCount> shed{};
  std::array<std::uint64_t, kPriorityCount> full{};
  std::array<std::uint64_t, kPriorityCount> rate_limited{};
  std::array<std::uint64_t, kPriorityCount> aborted{};
  std::array<std::uint64_t, kPriorityCount> missed{};
  std::string last_error;

  static std::uint64_t total(const std::array<std::uint64_t, kPriorityCount>& v) noexcept {
    std::uint64_t s = 0;
    for (std::uint64_t x : v) s += x;
    return s;
  }
};

/// One registered topic.
struct TopicSnapshot {
  TopicId id = kInvalidTopic;
  std::string name;
  std::uint32_t payload_size = 0;  ///< 0 = variable size
  std::uint16_t schema_version = 0;
  std::uint64_t published = 0;  ///< events published on it, summed over agent records
};

struct BusSnapshot {
  std::string bus_name;
  BusConfig config;  ///< the geometry stored in the segment
  std::uint64_t segment_bytes = 0;
  std::uint64_t creation_time_ns = 0;  ///< CLOCK_REALTIME
  sys::HealthState bus_health = sys::HealthState::kUnknown;
  std::uint32_t supervisor_pid = 0;
  bool supervisor_alive = false;
  std::uint64_t supervisor_heartbeat_age_ns = 0;  ///< 0 when no supervisor ever ran
  std::uint64_t supervisor_epoch = 0;
  std::array<RingSnapshot, kPriorityCount> rings{};
  std::vector<AgentSnapshot> agents;  ///< active records, by index
  /// Indexes of agent records whose state word is no valid state (damaged memory): neither
  /// counted as agents nor read further. `shmbus status` reports them and exits non-zero.
  std::vector<std::uint32_t> corrupt_agent_records;
  std::vector<TopicSnapshot> topics;  ///< by id
  std::uint64_t claims_padded = 0;
  std::uint64_t agents_recovered = 0;
  std::uint64_t agents_untethered = 0;
  std::vector<BarrierStatus> barriers;
  std::string barriers_error;       ///< why `barriers` is empty when listing failed
  std::uint64_t taken_mono_ns = 0;  ///< CLOCK_MONOTONIC when the snapshot was taken
};

/// Maps the segment of `bus_name` and copies its state. Does not register an agent and writes
/// nothing. Not atomic across fields (agents keep running while it reads). Errors: kNotFound
/// (no such bus), kVersionMismatch, kCorrupt, kNotReady, kPermission, kSystem.
Result<BusSnapshot> inspect_bus(std::string_view bus_name);

/// One sys.error event kept in the segment's error log (BusConfig::error_log_capacity entries,
/// oldest overwritten), readable by any process, also one that attached after it happened.
struct ErrorRecord {
  std::uint64_t index = 0;           ///< position in the log: 0 is the first error ever logged
  std::uint64_t time_ns = 0;         ///< CLOCK_REALTIME when logged
  std::uint64_t error_mono_ns = 0;   ///< CLOCK_MONOTONIC, as in the sys.error event
  std::uint64_t event_sequence = 0;  ///< producer sequence of the event handled, 0 none
  std::uint64_t count = 0;           ///< occurrences of this kind at this agent so far
  std::uint32_t agent_index = 0;     ///< sys::kBusWide for the bus itself
  TopicId topic = kInvalidTopic;     ///< topic of the event handled
  sys::ErrorKind kind = sys::ErrorKind::kUnknown;
  Errc errc = Errc::kOk;
  std::string agent;  ///< agent name
  std::string handler;
  std::string message;
};

/// The newest `limit` entries of the error log (0: every entry kept), oldest first. Reads
/// only; entries being written or torn are left out. Errors as inspect_bus.
Result<std::vector<ErrorRecord>> recent_errors(std::string_view bus_name, std::size_t limit = 0);

// Names of health states and backpressure levels: sys::health_name and
// sys::backpressure_level_name (sys_events.hpp).

}  // namespace shmbus
