// The bridge's wire format (docs/bridge.md): one event as it travels in a NATS message. Binary:
// a fixed little-endian header, then host, bus and topic names, then the payload. JSON: the same
// fields, the payload in hex, for debugging. Decoding checks every length against the message.
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
inline constexpr std::uint16_t kWireVersion = 1;
inline constexpr std::size_t kWireHeaderBytes = 56;
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

/// Decodes a binary or JSON message. For JSON, `scratch` holds the decoded names and payload
/// that the views in `out` point into.
DecodeStatus decode(std::span<const std::byte> msg, WireEvent& out, std::string& scratch);

}  // namespace shmbus::bridge::detail
