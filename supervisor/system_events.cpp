#include "supervisor/system_events.hpp"

#include "shm/agent_table.hpp"
#include "shm/bus_access.hpp"

namespace shmbus::detail {

namespace {
template <typename T>
Result<TopicId> register_sys(Bus& bus) {
  return bus.register_topic(T::kTopic, sizeof(T), T::kSchemaVersion);
}
}  // namespace

SystemEvents::SystemEvents() = default;
SystemEvents::~SystemEvents() {
  close();
}

Result<void> SystemEvents::open(const std::string& bus_name, const std::string& agent_name) {
  AgentOptions options;
  options.name = agent_name;
  options.full_policy = FullPolicy::kReturn;  // the supervisor never waits on a full ring
  options.wait = WaitStrategy::kBlock;
  auto bus = Bus::attach(bus_name, options);
  if (!bus) return bus.error();
  auto b = std::make_unique<Bus>(std::move(bus.value()));
  auto h = register_sys<sys::AgentHealthChange>(*b);
  if (!h) return h.error();
  auto bp = register_sys<sys::BackpressureChange>(*b);
  if (!bp) return bp.error();
  auto g = register_sys<sys::GapNotice>(*b);
  if (!g) return g.error();
  auto j = register_sys<sys::AgentJoined>(*b);
  if (!j) return j.error();
  auto l = register_sys<sys::AgentLeft>(*b);
  if (!l) return l.error();
  auto bc = register_sys<sys::BarrierCompleted>(*b);
  if (!bc) return bc.error();
  auto bt = register_sys<sys::BarrierTimeout>(*b);
  if (!bt) return bt.error();
  health_ = *h;
  backpressure_ = *bp;
  gap_ = *g;
  joined_ = *j;
  left_ = *l;
  barrier_completed_ = *bc;
  barrier_timeout_ = *bt;
  bus_ = std::move(b);
  return {};
}

void SystemEvents::neuter() noexcept {
  if (bus_) BusAccess::impl(*bus_).segment().neuter();
}

void SystemEvents::close() {
  bus_.reset();
}

std::uint32_t SystemEvents::agent_index() const noexcept {
  return bus_ ? bus_->agent_index() : kNoAgent;
}

void SystemEvents::heartbeat() noexcept {
  if (bus_) bus_->heartbeat();
}

bool SystemEvents::send(TopicId topic, const void* data, std::size_t size) noexcept {
  if (!bus_ || topic == kInvalidTopic) return false;
  const PublishStatus s = BusAccess::impl(*bus_).publisher().publish(
      topic, data, size, Priority::kCritical, kFlagSystem);
  if (s == PublishStatus::kOk) {
    ++published_;
    return true;
  }
  ++dropped_;
  return false;
}

}  // namespace shmbus::detail
