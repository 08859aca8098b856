// shmbus itself, through its public API only: the parent creates the bus (embedded mode,
// so it owns and removes the segment), the producer process attaches and publishes each
// message on one topic at NORMAL priority, the consumer process attaches, subscribes and
// receives with poll_wait(1): one event per receive, copied out of the zero-copy view.
// Three entries, one per wait strategy of the consumer: busy-spin, spin-then-yield, futex.
// What is timed in latency mode: publish (claim, write, commit) + the subscriber seeing
// the commit, filtering by topic and running its handler (+ the futex wake when blocking).
#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "channel.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::bench {
namespace {

constexpr const char* kTopic = "bench.msg";

std::uint32_t ring_capacity_for(std::size_t capacity) {
  std::uint32_t cap = 64;
  while (cap < capacity && cap < (1u << 24)) cap <<= 1;
  return cap;
}

std::string bus_name_for(const std::string& prefix) {
  std::string name;
  for (char c : prefix) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    name.push_back(ok ? c : '_');
  }
  if (name.size() > 40) name = name.substr(name.size() - 40);
  return name;
}

template <WaitStrategy kWait>
class ShmbusTransport {
 public:
  explicit ShmbusTransport(const ChannelConfig& config)
      : name_(bus_name_for(config.resource_prefix)), message_bytes_(config.message_bytes) {
    BusConfig cfg;
    cfg.name = name_;
    const std::uint32_t cap = ring_capacity_for(config.capacity);
    cfg.ring_capacity = {cap, cap, cap, cap};
    cfg.history_depth = 0;  // the peers keep no history either
    cfg.max_payload_bytes = static_cast<std::uint32_t>(std::max<std::size_t>(message_bytes_, 8));
    cfg.max_agents = 8;
    cfg.max_topics = 16;
    auto bus = Bus::create(cfg, AgentOptions{.name = "bench-owner"});
    if (!bus) throw std::runtime_error("shmbus: " + bus.message());
    owner_.emplace(std::move(bus.value()));
    auto topic = owner_->register_topic(kTopic, static_cast<std::uint32_t>(message_bytes_));
    if (!topic) throw std::runtime_error("shmbus: " + topic.message());
    topic_ = *topic;
  }

  class Producer {
   public:
    Producer(Bus bus, TopicId topic) : bus_(std::move(bus)), topic_(topic) {}
    void send(std::span<const std::byte> message) {
      // kWait with a long timeout: a full ring waits for the consumer, like every peer.
      const PublishStatus s = bus_.publish(topic_, message, Priority::kNormal);
      if (s != PublishStatus::kOk) {
        throw std::runtime_error("shmbus publish: " + std::string(publish_status_name(s)));
      }
    }

   private:
    Bus bus_;
    TopicId topic_;
  };

  class Consumer {
   public:
    explicit Consumer(Bus bus) : bus_(std::move(bus)) {
      auto sub = bus_.on(kTopic, [this](const EventView& e) {
        ++received_;
        size_ = std::min(e.payload.size(), buffer_.size());
        std::memcpy(buffer_.data(), e.payload.data(), size_);
      });
      if (!sub) throw std::runtime_error("shmbus subscribe: " + sub.message());
    }
    std::size_t receive(std::span<std::byte> buffer) {
      buffer_ = buffer;
      // poll_wait counts every event it consumes, ours or not: the bus's own (a sys.error
      // when a handler overran its budget, e.g. while the host stalled this vCPU) too.
      const std::uint64_t before = received_;
      while (received_ == before) (void)bus_.poll_wait(1, std::chrono::seconds(1));
      return size_;
    }

   private:
    Bus bus_;
    std::span<std::byte> buffer_;
    std::size_t size_ = 0;
    std::uint64_t received_ = 0;  // events our handler got
  };

  Producer make_producer() {
    auto bus = Bus::attach(name_, AgentOptions{.name = "producer",
                                               .full_policy = FullPolicy::kWait,
                                               .publish_timeout = std::chrono::seconds(30)});
    if (!bus) throw std::runtime_error("shmbus attach: " + bus.message());
    return Producer(std::move(bus.value()), topic_);
  }

  Consumer make_consumer() {
    auto bus = Bus::attach(name_, AgentOptions{.name = "consumer", .wait = kWait});
    if (!bus) throw std::runtime_error("shmbus attach: " + bus.message());
    return Consumer(std::move(bus.value()));
  }

  void on_children_attached() {}

 private:
  std::string name_;
  std::size_t message_bytes_;
  std::optional<Bus> owner_;  // owns the segment: removed when the parent drops the channel
  TopicId topic_ = kInvalidTopic;
};

}  // namespace

TransportEntry shmbus_transport_entry() {
  return make_transport_entry<ShmbusTransport<WaitStrategy::kBusySpin>>({
      .name = "shmbus-spin",
      .description = "shmbus ring (multi-producer broadcast), busy-spinning subscriber",
      .wait = "busy-spin",
  });
}

TransportEntry shmbus_yield_transport_entry() {
  return make_transport_entry<ShmbusTransport<WaitStrategy::kSpinYield>>({
      .name = "shmbus-yield",
      .description = "shmbus ring, subscriber spins then sched_yield",
      .wait = "spin-yield",
  });
}

TransportEntry shmbus_block_transport_entry() {
  return make_transport_entry<ShmbusTransport<WaitStrategy::kBlock>>({
      .name = "shmbus-block",
      .description = "shmbus ring, subscriber sleeps on the segment's futex word",
      .wait = "futex",
  });
}

}  // namespace shmbus::bench
