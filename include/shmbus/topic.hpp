// Topic identifiers and typed topic handles. Topics are hierarchical names
// ("order.filled", "md.quote.ESZ6") registered in the segment and mapped to
// small integer ids; each process caches the mapping.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace shmbus {

using TopicId = std::uint32_t;
inline constexpr TopicId kInvalidTopic = 0xFFFFFFFFu;
/// Longest topic name accepted, in bytes.
inline constexpr std::size_t kMaxTopicName = 95;

/// A topic whose payload is a T (trivially copyable, fixed size).
template <typename T>
struct Topic {
  static_assert(std::is_trivially_copyable_v<T>, "payloads are copied bytewise into shared memory");
  TopicId id = kInvalidTopic;
};

/// `name` as it may be echoed in a message or on a terminal: quoted, control and non-ASCII
/// bytes as \xNN (no escape sequence reaches a terminal), cut after 48 characters with the full
/// length given. Every validation error quotes the name this way.
std::string quote_name(std::string_view name);

/// Checks a topic name: 1..95 chars, dot-separated segments of [A-Za-z0-9_-], none empty.
/// Returns an empty string when valid, else why not.
std::string validate_topic_name(std::string_view name);

/// Checks a subscription pattern: a topic name, "prefix.*" or "*".
std::string validate_topic_pattern(std::string_view pattern);

/// True when `topic` matches `pattern` ("*" matches all; "a.*" matches "a.b" and "a.b.c" but
/// not "a"; otherwise exact).
bool topic_matches(std::string_view pattern, std::string_view topic) noexcept;

/// Schema version of a payload type: T::kSchemaVersion when present, else 1.
template <typename T>
constexpr std::uint16_t schema_version_of() {
  if constexpr (requires { T::kSchemaVersion; }) {
    return static_cast<std::uint16_t>(T::kSchemaVersion);
  } else {
    return 1;
  }
}

}  // namespace shmbus
