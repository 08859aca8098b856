// BenchBus: the bus one run measures, used through shmbus's public API only. The
// parent creates it in embedded mode before it forks, so the parent owns the
// segment and removes it when the run is over, whatever became of the children;
// it also registers the run's topics. Every child attaches by name as an agent of
// its own (attach_publisher / attach_subscriber).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "shmbus/bus.hpp"

namespace shmbus::bench::scaling {

inline constexpr std::string_view kDataTopic = "bench.data";          // fan-out, producers
inline constexpr std::string_view kLowTopic = "bench.low";            // priority: the flood
inline constexpr std::string_view kCriticalTopic = "bench.critical";  // priority: paced stream

struct BusGeometry {
  std::size_t payload_bytes = 64;      ///< every event of the run has exactly this size
  std::uint32_t ring_capacity = 4096;  ///< slots per ring, every priority
  std::uint32_t children = 2;          ///< agents that will attach
};

class BenchBus {
 public:
  /// Creates bus `name` (history_depth 0) and its topics. Throws std::runtime_error with
  /// shmbus's message when it cannot.
  BenchBus(std::string name, const BusGeometry& geometry);

  const std::string& name() const noexcept { return name_; }
  TopicId data_topic() const noexcept { return data_; }
  TopicId low_topic() const noexcept { return low_; }
  TopicId critical_topic() const noexcept { return critical_; }

 private:
  std::string name_;
  std::optional<Bus> owner_;  // owns the segment: removed when this object goes
  TopicId data_ = kInvalidTopic;
  TopicId low_ = kInvalidTopic;
  TopicId critical_ = kInvalidTopic;
};

/// In a child: attaches as a publisher whose publish waits while a ring is full
/// (FullPolicy::kWait, 30 s: the parent's watchdog ends a stalled run long before).
Bus attach_publisher(const std::string& bus_name, const std::string& agent_name);

/// In a child: attaches as a subscriber that waits for events with `wait`.
Bus attach_subscriber(const std::string& bus_name, const std::string& agent_name,
                      WaitStrategy wait);

[[noreturn]] void throw_publish_failure(PublishStatus status, Priority priority);

/// Publishes; throws std::runtime_error naming the status unless it is kOk. Inline: it is
/// on the timed path of every producer.
inline void publish_or_throw(Bus& bus, TopicId topic, std::span<const std::byte> payload,
                             Priority priority) {
  const PublishStatus status = bus.publish(topic, payload, priority);
  if (status != PublishStatus::kOk) [[unlikely]]
    throw_publish_failure(status, priority);
}

}  // namespace shmbus::bench::scaling
