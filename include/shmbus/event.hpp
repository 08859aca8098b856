// What handlers see of an event (a zero-copy view into the ring) and what
// publish reports. Views are valid only during the handler call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "shmbus/priority.hpp"
#include "shmbus/topic.hpp"

namespace shmbus {

/// Slot flag bits carried with each event.
enum EventFlags : std::uint16_t {
  kFlagNone = 0,
  kFlagSystem = 1u << 0,       ///< published by the bus itself (supervisor, dispatcher)
  kFlagReplayed = 1u << 1,     ///< re-published from the dead-letter area or a journal
  kFlagFromHistory = 1u << 2,  ///< delivered from ring history to a late joiner
};

/// Identity of an event: producer agent slot, its incarnation, and its per-producer sequence.
struct EventId {
  std::uint32_t producer = 0;
  std::uint32_t producer_epoch = 0;
  std::uint64_t sequence = 0;
  friend bool operator==(const EventId&, const EventId&) = default;
};

/// A read-only view of one event. Zero-copy for tethered subscribers: the payload
/// points into the ring and is valid only until the handler returns.
struct EventView {
  TopicId topic = kInvalidTopic;
  Priority priority = Priority::kNormal;
  std::uint16_t flags = 0;
  std::uint16_t schema_version = 0;
  EventId id;
  /// CLOCK_MONOTONIC at publish (commit, for claim/commit). Where the kernel's clock runs
  /// on the TSC it is read from the TSC and kept within a few ns of clock_gettime (one
  /// rdtsc instead of a vDSO call on the publish path; see shm/fast_clock.hpp).
  std::uint64_t timestamp_ns = 0;
  std::uint64_t position = 0;  ///< position in its ring
  std::span<const std::byte> payload;
  std::string_view topic_name;  ///< name from the process's registry cache

  /// The payload as a T, or nullptr when the size differs.
  template <typename T>
  const T* as() const noexcept {
    if (payload.size() != sizeof(T)) return nullptr;
    return reinterpret_cast<const T*>(payload.data());
  }
  /// Copies the payload into a T; false when the size differs.
  template <typename T>
  bool copy_to(T& out) const noexcept {
    if (payload.size() != sizeof(T)) return false;
    std::memcpy(&out, payload.data(), sizeof(T));
    return true;
  }
};

/// An owned copy of an event, for use after a handler returns (wait_for, history).
struct OwnedEvent {
  TopicId topic = kInvalidTopic;
  Priority priority = Priority::kNormal;
  std::uint16_t flags = 0;
  std::uint16_t schema_version = 0;
  EventId id;
  std::uint64_t timestamp_ns = 0;
  std::uint64_t position = 0;
  std::string topic_name;
  std::vector<std::byte> payload;

  EventView view() const noexcept {
    EventView v;
    v.topic = topic;
    v.priority = priority;
    v.flags = flags;
    v.schema_version = schema_version;
    v.id = id;
    v.timestamp_ns = timestamp_ns;
    v.position = position;
    v.payload = std::span<const std::byte>(payload.data(), payload.size());
    v.topic_name = topic_name;
    return v;
  }
  static OwnedEvent copy_of(const EventView& v) {
    OwnedEvent e;
    e.topic = v.topic;
    e.priority = v.priority;
    e.flags = v.flags;
    e.schema_version = v.schema_version;
    e.id = v.id;
    e.timestamp_ns = v.timestamp_ns;
    e.position = v.position;
    e.topic_name = std::string(v.topic_name);
    e.payload.assign(v.payload.begin(), v.payload.end());
    return e;
  }
};

/// Outcome of a publish. Only kOk means "will be delivered"; every other value
/// means the event was not published and says why. Full, shed and rate-limited
/// are outcomes, not errors.
enum class [[nodiscard]] PublishStatus : std::uint8_t{
    kOk = 0,
    kFull,          ///< ring full and the policy said return at once
    kTimeout,       ///< ring stayed full for the whole publish timeout
    kShed,          ///< backpressure CRITICAL: LOW/NORMAL events are shed
    kRateLimited,   ///< over this agent's publish rate, or LOW at backpressure HIGH
    kTooLarge,      ///< payload larger than the segment's max_payload_bytes
    kUnknownTopic,  ///< topic id not registered in this segment
    kAborted,  ///< the supervisor closed this claim (publisher stalled past the unblock timeout)
    kClosed,   ///< the bus handle is detached or the segment is gone
    kBadSize,  ///< payload size differs from the topic's registered payload type
};

std::string_view publish_status_name(PublishStatus s) noexcept;

/// Outcome of a batch publish (Bus::publish_batch): the first `published` events went out
/// (each will be delivered); `status` is kOk when all did, else what stopped the next one.
struct [[nodiscard]] PublishBatchResult {
  std::size_t published = 0;
  PublishStatus status = PublishStatus::kOk;
};

}  // namespace shmbus
