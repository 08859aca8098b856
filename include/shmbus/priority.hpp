// Event priorities. Each has its own ring; subscribers drain them in this order.
#pragma once

#include <cstdint>
#include <string_view>

#include "shmbus/enum_range.hpp"

namespace shmbus {

enum class Priority : std::uint8_t { kCritical = 0, kHigh = 1, kNormal = 2, kLow = 3 };
SHMBUS_ENUM_LAST(Priority, kLow);

inline constexpr std::uint32_t kPriorityCount = 4;

constexpr std::uint32_t index_of(Priority p) noexcept {
  return static_cast<std::uint32_t>(p);
}

constexpr std::string_view priority_name(Priority p) noexcept {
  switch (p) {
    case Priority::kCritical:
      return "CRITICAL";
    case Priority::kHigh:
      return "HIGH";
    case Priority::kNormal:
      return "NORMAL";
    case Priority::kLow:
      return "LOW";
  }
  return "?";
}

/// Parses "critical"/"CRITICAL"/"high"/...; returns false when the text names no priority.
bool parse_priority(std::string_view text, Priority& out) noexcept;

}  // namespace shmbus
