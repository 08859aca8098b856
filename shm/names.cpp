// Validation of user-given names and configuration, and topic pattern matching.
#include <string>
#include <string_view>

#include "shmbus/config.hpp"
#include "shmbus/event.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/topic.hpp"

namespace shmbus {

namespace {
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

std::string validate_simple_name(const std::string& what, std::string_view name,
                                 std::size_t max_len) {
  if (name.empty()) return what + " name is empty";
  if (name.size() > max_len) {
    return what + " name " + quote_name(name) + " is " + std::to_string(name.size()) +
           " characters; at most " + std::to_string(max_len);
  }
  for (char c : name) {
    if (!is_name_char(c) && c != '.') {
      return what + " name " + quote_name(name) + " has a bad character (allowed: A-Z a-z 0-9 _ - .)";
    }
  }
  return {};
}

bool is_pow2(std::uint32_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}
}  // namespace

// A user-given name as it may be echoed in a message: control and non-ASCII bytes as \xNN
// (escape sequences never reach a terminal), and at most 48 characters of it.
std::string quote_name(std::string_view name) {
  constexpr std::size_t kShown = 48;
  std::string out = "'";
  for (std::size_t i = 0; i < name.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c >= 0x7F || c == '\'' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += name.size() > kShown ? "...' (" + std::to_string(name.size()) + " bytes)" : "'";
  return out;
}

std::string validate_bus_name(const std::string& name) {
  return validate_simple_name("bus", name, 40);
}

std::string validate_agent_name(const std::string& name) {
  return validate_simple_name("agent", name, 31);
}

std::string validate_topic_name(std::string_view name) {
  if (name.empty()) return "topic name is empty";
  if (name.size() > kMaxTopicName) {
    return "topic name " + quote_name(name) + " is " + std::to_string(name.size()) +
           " characters; at most " + std::to_string(kMaxTopicName);
  }
  bool segment_empty = true;
  for (char c : name) {
    if (c == '.') {
      if (segment_empty) return "topic name " + quote_name(name) + " has an empty segment";
      segment_empty = true;
    } else if (is_name_char(c)) {
      segment_empty = false;
    } else {
      return "topic name " + quote_name(name) +
             " has a bad character (allowed: A-Z a-z 0-9 _ - and '.' between segments)";
    }
  }
  if (segment_empty) return "topic name " + quote_name(name) + " ends with '.'";
  return {};
}

std::string validate_topic_pattern(std::string_view pattern) {
  if (pattern == "*") return {};
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
    return validate_topic_name(pattern.substr(0, pattern.size() - 2));
  }
  return validate_topic_name(pattern);
}

bool topic_matches(std::string_view pattern, std::string_view topic) noexcept {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '.'
    return topic.size() > prefix.size() && topic.substr(0, prefix.size()) == prefix;
  }
  return pattern == topic;
}

std::string validate_config(const BusConfig& c) {
  if (auto e = validate_bus_name(c.name); !e.empty()) return e;
  for (std::uint32_t p = 0; p < kPriorityCount; ++p) {
    std::uint32_t cap = c.ring_capacity[p];
    if (!is_pow2(cap) || cap < 64 || cap > (1u << 24)) {
      return "ring_capacity[" + std::string(priority_name(static_cast<Priority>(p))) +
             "] = " + std::to_string(cap) + ": must be a power of two in [64, 16777216]";
    }
    if (c.history_depth > cap / 2) {
      return "history_depth " + std::to_string(c.history_depth) + " exceeds half of ring " +
             std::string(priority_name(static_cast<Priority>(p))) + " (" + std::to_string(cap) +
             ")";
    }
  }
  if (c.max_payload_bytes < 8 || c.max_payload_bytes > 65536) {
    return "max_payload_bytes " + std::to_string(c.max_payload_bytes) + " not in [8, 65536]";
  }
  if (c.max_agents < 1 || c.max_agents > 1024) {
    return "max_agents " + std::to_string(c.max_agents) + " not in [1, 1024]";
  }
  if (c.max_topics < 16 || c.max_topics > 65536) {
    return "max_topics " + std::to_string(c.max_topics) + " not in [16, 65536]";
  }
  if (c.max_barriers > 1024) return "max_barriers " + std::to_string(c.max_barriers) + " > 1024";
  if (c.max_barrier_participants < 1 || c.max_barrier_participants > 256) {
    return "max_barrier_participants " + std::to_string(c.max_barrier_participants) +
           " not in [1, 256]";
  }
  if (c.barrier_signal_bytes < 8 || c.barrier_signal_bytes > 4096) {
    return "barrier_signal_bytes " + std::to_string(c.barrier_signal_bytes) + " not in [8, 4096]";
  }
  if (c.dead_letter_capacity > 65536) return "dead_letter_capacity > 65536";
  if (c.error_log_capacity < 1 || c.error_log_capacity > 65536) {
    return "error_log_capacity not in [1, 65536]";
  }
  if ((c.permissions & ~0777u) != 0) return "permissions must be a file mode within 0777";
  return {};
}

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::kOk:
      return "ok";
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kAlreadyExists:
      return "already_exists";
    case Errc::kVersionMismatch:
      return "version_mismatch";
    case Errc::kCorrupt:
      return "corrupt";
    case Errc::kCapacityExceeded:
      return "capacity_exceeded";
    case Errc::kTooLarge:
      return "too_large";
    case Errc::kNotReady:
      return "not_ready";
    case Errc::kPermission:
      return "permission";
    case Errc::kSystem:
      return "system";
    case Errc::kBusy:
      return "busy";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kState:
      return "state";
  }
  return "unknown";
}

std::string_view publish_status_name(PublishStatus s) noexcept {
  switch (s) {
    case PublishStatus::kOk:
      return "ok";
    case PublishStatus::kFull:
      return "full";
    case PublishStatus::kTimeout:
      return "timeout";
    case PublishStatus::kShed:
      return "shed";
    case PublishStatus::kRateLimited:
      return "rate_limited";
    case PublishStatus::kTooLarge:
      return "too_large";
    case PublishStatus::kUnknownTopic:
      return "unknown_topic";
    case PublishStatus::kAborted:
      return "aborted";
    case PublishStatus::kClosed:
      return "closed";
    case PublishStatus::kBadSize:
      return "bad_size";
  }
  return "unknown";
}

bool parse_priority(std::string_view text, Priority& out) noexcept {
  auto eq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != b[i]) return false;
    }
    return true;
  };
  if (eq(text, "critical"))
    out = Priority::kCritical;
  else if (eq(text, "high"))
    out = Priority::kHigh;
  else if (eq(text, "normal"))
    out = Priority::kNormal;
  else if (eq(text, "low"))
    out = Priority::kLow;
  else
    return false;
  return true;
}

}  // namespace shmbus
