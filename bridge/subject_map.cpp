// Topic <-> NATS subject mapping.
#include "bridge/subject_map.hpp"

#include "shmbus/topic.hpp"

namespace shmbus::bridge::detail {

std::string validate_bus_token(std::string_view bus) {
  if (bus.empty()) return "empty";
  for (char c : bus) {
    if (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t') {
      return "contains '" + std::string(1, c) + "', which cannot be part of one NATS subject token";
    }
  }
  return {};
}

void subject_of(std::string_view bus, std::string_view topic, std::string& out) {
  out.clear();
  out.append(kSubjectRoot).append(".").append(bus).append(".").append(topic);
}

std::string subject_pattern(std::string_view bus, std::string_view topic_pattern) {
  std::string s(kSubjectRoot);
  s.append(".").append(bus).append(".");
  if (topic_pattern == "*") return s + ">";
  if (topic_pattern.size() >= 2 && topic_pattern.substr(topic_pattern.size() - 2) == ".*") {
    return s.append(topic_pattern.substr(0, topic_pattern.size() - 1)).append(">");
  }
  return s.append(topic_pattern);
}

bool topic_of(std::string_view subject, std::string_view& bus, std::string_view& topic) noexcept {
  if (subject.size() <= kSubjectRoot.size() + 1 ||
      subject.substr(0, kSubjectRoot.size()) != kSubjectRoot ||
      subject[kSubjectRoot.size()] != '.') {
    return false;
  }
  const std::string_view rest = subject.substr(kSubjectRoot.size() + 1);
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  bus = rest.substr(0, dot);
  topic = rest.substr(dot + 1);
  // validate_topic_name allocates only for its error text; valid names return an empty string.
  return validate_topic_name(topic).empty();
}

std::string stream_name(std::string_view bus) {
  std::string s = "SHMBUS_";
  for (char c : bus) s.push_back(c == '.' ? '_' : c);
  return s;
}

}  // namespace shmbus::bridge::detail
