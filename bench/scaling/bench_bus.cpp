// BenchBus: creation in the parent, attachment in the children.
#include "bench_bus.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

namespace shmbus::bench::scaling {

BenchBus::BenchBus(std::string name, const BusGeometry& geometry) : name_(std::move(name)) {
  BusConfig config;
  config.name = name_;
  config.ring_capacity = {geometry.ring_capacity, geometry.ring_capacity, geometry.ring_capacity,
                          geometry.ring_capacity};
  // No history: producers wait for the slowest subscriber only, as every peer in
  // shmbus-ipc-bench does; a reserve behind it would change what "full" means.
  config.history_depth = 0;
  config.max_payload_bytes = static_cast<std::uint32_t>(geometry.payload_bytes);
  config.max_agents = geometry.children + 2;  // + the parent's owner handle, + one spare
  config.max_topics = 16;
  auto bus = Bus::create(config, AgentOptions{.name = "bench-owner"});
  if (!bus) throw std::runtime_error("shmbus create " + name_ + ": " + bus.message());
  owner_.emplace(std::move(bus.value()));

  const auto size = static_cast<std::uint32_t>(geometry.payload_bytes);
  auto register_one = [&](std::string_view topic) {
    auto id = owner_->register_topic(topic, size);
    if (!id) throw std::runtime_error("shmbus register_topic: " + id.message());
    return *id;
  };
  data_ = register_one(kDataTopic);
  low_ = register_one(kLowTopic);
  critical_ = register_one(kCriticalTopic);
}

Bus attach_publisher(const std::string& bus_name, const std::string& agent_name) {
  auto bus = Bus::attach(bus_name, AgentOptions{.name = agent_name,
                                                .full_policy = FullPolicy::kWait,
                                                .publish_timeout = std::chrono::seconds(30)});
  if (!bus) throw std::runtime_error("shmbus attach " + agent_name + ": " + bus.message());
  return std::move(bus.value());
}

Bus attach_subscriber(const std::string& bus_name, const std::string& agent_name,
                      WaitStrategy wait) {
  auto bus = Bus::attach(bus_name, AgentOptions{.name = agent_name, .wait = wait});
  if (!bus) throw std::runtime_error("shmbus attach " + agent_name + ": " + bus.message());
  return std::move(bus.value());
}

void throw_publish_failure(PublishStatus status, Priority priority) {
  throw std::runtime_error("shmbus publish (" + std::string(priority_name(priority)) +
                           "): " + std::string(publish_status_name(status)));
}

}  // namespace shmbus::bench::scaling
