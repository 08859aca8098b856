// Topic <-> subject: topic `order.filled` of bus B is subject `shmbus.B.order.filled`; topic
// patterns become subject wildcards (`order.*` -> `shmbus.B.order.>`, `*` -> `shmbus.B.>`).
// Each origin bus's durable topics live in the JetStream stream SHMBUS_<bus>.
#pragma once

#include <string>
#include <string_view>

namespace shmbus::bridge::detail {

inline constexpr std::string_view kSubjectRoot = "shmbus";

/// Checks that `bus` can be one subject token (no '.', '*', '>' or blank); empty when it can.
std::string validate_bus_token(std::string_view bus);

/// `shmbus.<bus>.<topic>` into `out` (cleared first; reserve once to avoid allocations).
void subject_of(std::string_view bus, std::string_view topic, std::string& out);

/// Subject wildcard of a topic pattern on one bus, or on every bus when `bus` is "*".
std::string subject_pattern(std::string_view bus, std::string_view topic_pattern);

/// Splits `shmbus.<bus>.<topic>`; false when the subject is not one (root, bus, topic name).
bool topic_of(std::string_view subject, std::string_view& bus, std::string_view& topic) noexcept;

/// The JetStream stream of bus `bus`'s durable topics.
std::string stream_name(std::string_view bus);

}  // namespace shmbus::bridge::detail
