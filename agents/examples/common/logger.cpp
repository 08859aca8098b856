// logger: subscribes to every event and prints, once per second, the totals per topic group
// (the first segment of the topic name) and the rate since the last line.
#include <map>
#include <string>

#include <spdlog/spdlog.h>

#include "examples.hpp"

namespace shmbus::examples {

int run_logger(Bus& bus) {
  // Counted by topic id (no allocation per event); names resolved once per id.
  std::vector<std::uint64_t> by_topic;
  std::vector<std::string> names;
  std::uint64_t total = 0;
  auto sub = bus.on_any([&](const EventView& e) {
    ++total;
    if (e.topic >= 1u << 20) return;  // ids are small; ignore nonsense
    if (e.topic >= by_topic.size()) {
      by_topic.resize(e.topic + 1, 0);
      names.resize(e.topic + 1);
    }
    if (by_topic[e.topic]++ == 0) names[e.topic] = std::string(e.topic_name);
  });
  if (!sub) {
    spdlog::error("subscribe: {}", sub.message());
    return 1;
  }
  std::uint64_t last_total = 0;
  while (!stop_requested()) {
    bus.run_for(std::chrono::seconds(1));
    std::map<std::string, std::uint64_t> groups;
    for (std::size_t i = 0; i < by_topic.size(); ++i) {
      if (by_topic[i] == 0) continue;
      groups[names[i].substr(0, names[i].find('.'))] += by_topic[i];
    }
    std::string line;
    for (const auto& [group, n] : groups) line += " " + group + "=" + std::to_string(n);
    spdlog::info("{} events (+{}):{}", total, total - last_total, line);
    last_total = total;
  }
  return 0;
}

}  // namespace shmbus::examples
