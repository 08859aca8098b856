// `shmbus publish`: turns JSON into a payload (catalogue struct fields, or raw bytes for other
// topics), attaches as agent "pub-<pid>", publishes once and detaches.
#include <unistd.h>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "payload_json.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/catalog.hpp"

namespace shmbus::cli {

int run_publish(const PublishOptions& options) {
  if (auto e = validate_topic_name(options.topic); !e.empty()) {
    std::fprintf(stderr, "shmbus: bad topic: %s\n", e.c_str());  // e quotes it, escaped
    return kExitBadTopic;
  }
  Priority priority = Priority::kNormal;
  if (!parse_priority(options.priority, priority)) {
    std::fprintf(stderr, "shmbus: unknown priority %s (critical, high, normal, low)\n",
                 quote_name(options.priority).c_str());
    return kExitUsage;
  }
  const nlohmann::json json = nlohmann::json::parse(options.json, nullptr, false);
  if (json.is_discarded()) {
    std::fprintf(stderr, "shmbus: --json is not valid JSON: %s\n",
                 quote_name(options.json).c_str());
    return kExitBadJson;
  }
  auto payload = encode_payload(options.topic, json);
  if (!payload) {
    std::fprintf(stderr, "shmbus: %s\n", payload.message().c_str());
    return kExitBadJson;
  }

  AgentOptions agent;
  agent.name = "pub-" + std::to_string(::getpid());
  agent.wait = WaitStrategy::kBlock;
  auto bus = Bus::attach(options.bus, agent);
  if (!bus) return report_error(bus.error());

  // An existing topic keeps its registration; a new one gets the catalogue type's size.
  auto id = bus->find_topic(options.topic);
  if (!id) {
    const catalog::CatalogEntry* entry = catalog::find_catalog_entry(options.topic);
    id = entry ? bus->register_topic(options.topic, entry->payload_size, entry->schema_version)
               : bus->register_topic(options.topic, 0, 0);
    if (!id) {
      std::fprintf(stderr, "shmbus: topic %s: %s\n", options.topic.c_str(), id.message().c_str());
      return id.code() == Errc::kInvalidArgument ? kExitBadTopic : kExitError;
    }
  }
  const PublishStatus st = bus->publish(*id, std::span<const std::byte>(*payload), priority);
  if (st == PublishStatus::kBadSize) {
    std::fprintf(stderr, "shmbus: topic %s is registered with another payload size than %zu\n",
                 options.topic.c_str(), payload->size());
    return kExitBadTopic;
  }
  if (st == PublishStatus::kTooLarge) {
    std::fprintf(stderr,
                 "shmbus: publish on %s: too_large: %zu bytes exceed the bus's max_payload_bytes "
                 "%u\n",
                 options.topic.c_str(), payload->size(), bus->config().max_payload_bytes);
    return kExitError;
  }
  if (st != PublishStatus::kOk) {
    std::fprintf(stderr, "shmbus: publish on %s: %s\n", options.topic.c_str(),
                 std::string(publish_status_name(st)).c_str());
    return kExitError;
  }
  std::printf("published %s (%zu bytes, %s)\n", options.topic.c_str(), payload->size(),
              std::string(priority_name(priority)).c_str());
  return kExitOk;
}

}  // namespace shmbus::cli
