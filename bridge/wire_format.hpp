// The bridge's wire format (docs/bridge.md): events as they travel in NATS messages. Binary
// version 1: one event, a fixed little-endian header, then host, bus and topic names, then the
// payload. Binary version 2 (a batch frame): several events of one topic, the shared fields
// (host, bus, topic) once, then one record per event. Binary version 3 (a durable batch frame):
// version 2 plus the origin bus's incarnation and each event's ring position, the importer's
// per-event de-duplication key (docs/bridge.md). JSON: one event, the fields of version 1,
// the payload in hex, for debugging. Decoding checks every length and count against the message
// before any event is handed out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/priority.hpp"

namespace shmbus::bridge::detail {

inline constexpr std::uint32_t kWireMagic = 0x57425348u;  // "HSBW" little-endian: 'H','S','B','W'
inline constexpr std::uint16_t kWireVersion = 1;          ///< one event per message
inline constexpr std::uint16_t kWireBatchVersion = 2;     ///< a batch frame: N events of one topic
/// A durable batch frame: version 2 with the bus incarnation and per-event ring positions.
inline constexpr std::uint16_t kWireDurableVersion = 3;
inline constexpr std::size_t kWireHeaderBytes = 56;
inline constexpr std::size_t kBatchHeaderBytes = 24;
inline constexpr std::size_t kBatchRecordBytes = 36;    ///< per event, before its payload
inline constexpr std::size_t kDurableRecordBytes = 44;  ///< per event of version 3
inline constexpr std::size_t kMaxBatchEvents = 65535;
inline constexpr std::size_t kMaxName = 255;

/// One event's fields on the wire. Views point into the caller's buffers.
struct WireEvent {
  Priority priority = Priority::kNormal;
  std::uint16_t event_flags = 0;
  std::uint16_t schema_version = 0;      ///< the payload's schema (the topic's)
  std::uint32_t topic_payload_size = 0;  ///< the topic's registered size (0 = variable)
  std::uint32_t producer = 0;
  std::uint32_t producer_epoch = 0;
  std::uint64_t producer_seq = 0;
  std::uint64_t publish_realtime_ns = 0;  ///< CLOCK_REALTIME at the origin's publish
  /// Version 3 only (else has_position is false): the origin bus's incarnation (its creation
  /// time) and the event's position in its priority's ring there, unique for that incarnation.
  bool has_position = false;
  std::uint64_t bus_incarnation = 0;
  std::uint64_t ring_position = 0;
  std::string_view host;
  std::string_view bus;
  std::string_view topic;
  std::span<const std::byte> payload;
};

enum class DecodeStatus : std::uint8_t {
  kOk,
  kBadMagic,    ///< neither the binary magic nor a JSON object
  kBadVersion,  ///< a version this bridge does not know
  kTruncated,   ///< lengths past the end of the message
  kMalformed,   ///< bad priority, bad JSON
};
const char* decode_status_name(DecodeStatus s) noexcept;

/// Bytes encode_binary writes for `e`.
std::size_t binary_size(const WireEvent& e) noexcept;
/// Writes `e` into `out` (at least binary_size(e) bytes); returns the bytes written, 0 when a
/// name is longer than kMaxName or `out` is too small. No allocation.
std::size_t encode_binary(const WireEvent& e, std::span<std::byte> out) noexcept;
/// JSON text of `e` (allocates; debugging format).
std::string encode_json(const WireEvent& e);

/// Decodes a single-event message (binary version 1, a batch frame of one event, or JSON). For
/// JSON, `scratch` holds the decoded names and payload that the views in `out` point into. A
/// batch of more than one event is kMalformed here (read it with WireReader).
DecodeStatus decode(std::span<const std::byte> msg, WireEvent& out, std::string& scratch);

/// Builds one batch frame (version 2) in a buffer of its own, reserved once: appending never
/// allocates. Not thread-safe (the exporter's dispatcher thread owns it).
class BatchEncoder {
 public:
  /// Reserves room for a frame of up to `bytes` (names and records included).
  void reserve(std::size_t bytes);
  /// Starts a frame (drops any unfinished one). False when a name is longer than kMaxName or
  /// the names do not fit in the reserved room.
  bool begin(std::string_view host, std::string_view bus, std::string_view topic,
             std::uint32_t topic_payload_size) noexcept;
  /// Starts a durable frame (version 3) of the bus incarnation `bus_incarnation`: each record
  /// carries its event's ring_position too.
  bool begin_durable(std::string_view host, std::string_view bus, std::string_view topic,
                     std::uint32_t topic_payload_size, std::uint64_t bus_incarnation) noexcept;
  /// Appends `e`'s per-event fields (its names and topic size are the frame's). False when it
  /// does not fit in the reserved room or the frame holds kMaxBatchEvents already.
  bool append(const WireEvent& e) noexcept;
  /// Writes the event count; the frame (valid until the next begin()).
  std::span<const std::byte> finish() noexcept;
  void clear() noexcept { count_ = 0, size_ = 0; }
  std::size_t count() const noexcept { return count_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return count_ == 0; }

 private:
  bool start(std::uint16_t version, std::string_view host, std::string_view bus,
             std::string_view topic, std::uint32_t topic_payload_size,
             std::uint64_t bus_incarnation) noexcept;

  std::vector<std::byte> buf_;
  std::size_t size_ = 0, count_ = 0;
  std::uint16_t version_ = kWireBatchVersion;
};

/// Reads any message (version 1, a batch frame or JSON) as a sequence of events. open() checks
/// the whole message (every record's length, the count against the bytes) before next() hands
/// out the first event, so a bad frame yields no event at all.
class WireReader {
 public:
  /// For JSON, `scratch` holds the decoded names and payload (it must outlive the events).
  DecodeStatus open(std::span<const std::byte> msg, std::string& scratch);
  /// Events in the message (1 for version 1 and JSON).
  std::size_t count() const noexcept { return count_; }
  /// True for a batch frame (version 2 or 3).
  bool batch() const noexcept { return batch_; }
  /// True for a durable batch frame (version 3): its events carry ring positions.
  bool durable() const noexcept { return record_bytes_ == kDurableRecordBytes; }
  /// Bytes of the message that belong to no single event (a batch frame's header and names).
  std::size_t shared_bytes() const noexcept { return shared_; }
  /// The next event, whole: the shared fields and its own. False after the last one.
  /// `wire_bytes` is the event's own share of the message (its record, or the whole message).
  bool next(WireEvent& out, std::size_t& wire_bytes) noexcept;

 private:
  std::span<const std::byte> msg_;
  WireEvent first_;  // a single event, or the shared fields of a batch
  std::size_t count_ = 0, index_ = 0, offset_ = 0, shared_ = 0;
  std::size_t record_bytes_ = kBatchRecordBytes;
  bool batch_ = false;
};

}  // namespace shmbus::bridge::detail
