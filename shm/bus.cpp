// The public Bus handle: forwards to BusImpl's Publisher and Dispatcher. Nothing here may
// throw across the API.
#include "shmbus/bus.hpp"

#include "shm/bus_impl.hpp"
#include "shm/clock.hpp"
#include "shm/history.hpp"

namespace shmbus {

using detail::BusImpl;
using detail::Segment;

Claim::Claim(Claim&& other) noexcept {
  *this = std::move(other);
}

Claim& Claim::operator=(Claim&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr && data_ != nullptr) owner_->cancel(*this);
    owner_ = other.owner_;
    data_ = other.data_;
    size_ = other.size_;
    ring_ = other.ring_;
    position_ = other.position_;
    expected_seq_ = other.expected_seq_;
    status_ = other.status_;
    other.data_ = nullptr;
    other.owner_ = nullptr;
  }
  return *this;
}

Claim::~Claim() {
  if (owner_ != nullptr && data_ != nullptr) owner_->cancel(*this);
}

Bus::Bus(std::unique_ptr<BusImpl> impl) : impl_(std::move(impl)) {}
Bus::Bus(Bus&&) noexcept = default;
Bus& Bus::operator=(Bus&&) noexcept = default;
Bus::~Bus() = default;

Result<Bus> Bus::create(const BusConfig& config, const AgentOptions& options) {
  try {
    if (auto e = validate_agent_name(options.name); !e.empty()) {
      return make_error(Errc::kInvalidArgument, e);
    }
    auto seg = Segment::create(config, options.attach_wait);
    if (!seg) return seg.error();
    auto impl = BusImpl::make(std::move(seg.value()), options, /*owns_segment=*/true);
    if (!impl) {
      (void)Segment::remove(config.name, true);
      return impl.error();
    }
    return Bus(std::move(impl.value()));
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("create bus: ") + e.what());
  }
}

Result<Bus> Bus::attach(std::string_view bus_name, const AgentOptions& options) {
  try {
    auto seg = Segment::open(bus_name, options.attach_wait);
    if (!seg) return seg.error();
    auto impl = BusImpl::make(std::move(seg.value()), options, /*owns_segment=*/false);
    if (!impl) return impl.error();
    return Bus(std::move(impl.value()));
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("attach bus: ") + e.what());
  }
}

Result<void> Bus::remove(std::string_view bus_name, bool force) {
  try {
    return Segment::remove(bus_name, force);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("remove bus: ") + e.what());
  }
}

Result<TopicId> Bus::register_topic(std::string_view name, std::uint32_t payload_size,
                                    std::uint16_t schema_version) {
  try {
    return impl_->register_topic(name, payload_size, schema_version);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, e.what());
  }
}

Result<TopicId> Bus::find_topic(std::string_view name) {
  try {
    return impl_->find_topic(name);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, e.what());
  }
}

std::string_view Bus::topic_name(TopicId id) {
  return impl_->topic_name(id);
}

PublishStatus Bus::publish(TopicId topic, std::span<const std::byte> payload,
                           Priority priority) noexcept {
  if (!impl_) return PublishStatus::kClosed;
  return impl_->publisher().publish(topic, payload.data(), payload.size(), priority);
}

PublishStatus Bus::try_publish(TopicId topic, const void* data, std::size_t size,
                               Priority priority) noexcept {
  if (!impl_) return PublishStatus::kClosed;
  return impl_->publisher().publish(topic, data, size, priority, 0, /*may_wait=*/false);
}

PublishBatchResult Bus::publish_batch(TopicId topic, const void* data, std::size_t item_size,
                                      std::size_t count, Priority priority) noexcept {
  if (!impl_) return {0, PublishStatus::kClosed};
  return impl_->publisher().publish_batch(topic, data, item_size, count, priority);
}

PublishBatchResult Bus::try_publish_batch(TopicId topic, const void* data, std::size_t item_size,
                                          std::size_t count, Priority priority) noexcept {
  if (!impl_) return {0, PublishStatus::kClosed};
  return impl_->publisher().publish_batch(topic, data, item_size, count, priority,
                                          /*may_wait=*/false);
}

Claim Bus::claim(TopicId topic, std::uint32_t size, Priority priority) noexcept {
  Claim c;
  if (impl_) impl_->publisher().claim(c, topic, size, priority);
  return c;
}

PublishStatus Bus::commit(Claim& claim) noexcept {
  if (!impl_) return PublishStatus::kClosed;
  return impl_->publisher().commit(claim);
}

void Bus::cancel(Claim& claim) noexcept {
  if (impl_) impl_->publisher().cancel(claim);
}

Result<SubscriptionId> Bus::on(std::string_view pattern, Handler handler, HandlerOptions options) {
  try {
    return impl_->dispatcher().subscribe(pattern, std::move(handler), std::move(options), false);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, e.what());
  }
}

Result<SubscriptionId> Bus::once(std::string_view pattern, Handler handler,
                                 HandlerOptions options) {
  try {
    return impl_->dispatcher().subscribe(pattern, std::move(handler), std::move(options), true);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, e.what());
  }
}

Result<SubscriptionId> Bus::on_any(Handler handler, HandlerOptions options) {
  return on("*", std::move(handler), std::move(options));
}

Result<void> Bus::off(SubscriptionId id) {
  return impl_->dispatcher().unsubscribe(id);
}

Result<OwnedEvent> Bus::wait_for(std::string_view pattern, std::chrono::nanoseconds timeout,
                                 std::function<bool(const EventView&)> predicate) {
  try {
    return impl_->dispatcher().wait_for(pattern, timeout, std::move(predicate));
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, e.what());
  }
}

std::size_t Bus::poll(std::size_t max_events) noexcept {
  return impl_->dispatcher().poll(max_events);
}

std::size_t Bus::poll_wait(std::size_t max_events, std::chrono::nanoseconds timeout) noexcept {
  return impl_->dispatcher().poll_wait(
      max_events, timeout.count() < 0 ? 0 : static_cast<std::uint64_t>(timeout.count()));
}

void Bus::run() {
  impl_->dispatcher().run(~0ull);
}

void Bus::run_for(std::chrono::nanoseconds duration) {
  impl_->dispatcher().run(detail::monotonic_ns() + static_cast<std::uint64_t>(duration.count()));
}

void Bus::stop() noexcept {
  if (impl_) impl_->dispatcher().stop();
}

const std::string& Bus::bus_name() const noexcept {
  return impl_->segment().bus_name();
}
const std::string& Bus::agent_name() const noexcept {
  return impl_->agent_name();
}
std::uint32_t Bus::agent_index() const noexcept {
  return impl_->agent_index();
}
const BusConfig& Bus::config() const noexcept {
  return impl_->config();
}
std::uint64_t Bus::events_missed() const noexcept {
  return impl_->dispatcher().events_missed();
}
Result<std::vector<OwnedEvent>> Bus::history(std::string_view pattern, std::size_t limit) {
  try {
    detail::TopicRegistry topics(impl_->segment());
    return detail::read_history(impl_->segment(), topics, pattern, limit);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("history: ") + e.what());
  }
}
void Bus::on_gap(std::function<void(Priority, std::uint64_t)> handler) {
  impl_->dispatcher().set_gap_handler(std::move(handler));
}

// The supervisor publishes these with kFlagSystem; anything else on the topic is ignored.
Result<SubscriptionId> Bus::on_backpressure(
    std::function<void(Priority, sys::BackpressureLevel)> handler) {
  if (!handler) return make_error(Errc::kInvalidArgument, "on_backpressure: handler is empty");
  return on(
      sys::BackpressureChange::kTopic,
      [h = std::move(handler)](const EventView& v) {
        sys::BackpressureChange e;
        if ((v.flags & kFlagSystem) == 0 || !v.copy_to(e)) return;
        h(e.ring, e.new_level);
      },
      HandlerOptions{"on_backpressure"});
}

Result<SubscriptionId> Bus::on_health(std::function<void(const sys::AgentHealthChange&)> handler) {
  if (!handler) return make_error(Errc::kInvalidArgument, "on_health: handler is empty");
  return on(
      sys::AgentHealthChange::kTopic,
      [h = std::move(handler)](const EventView& v) {
        sys::AgentHealthChange e;
        if ((v.flags & kFlagSystem) == 0 || !v.copy_to(e)) return;
        h(e);
      },
      HandlerOptions{"on_health"});
}

void Bus::heartbeat() noexcept {
  impl_->dispatcher().heartbeat();
}

}  // namespace shmbus
