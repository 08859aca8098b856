// BusImpl: attaching an agent to a segment, and the process's topic cache. Publishing,
// dispatch, handler isolation and waiting live in bus_publish.cpp, bus_dispatch.cpp,
// bus_isolation.cpp and bus_wait.cpp.
#include "shm/bus_impl.hpp"

#include <cstring>
#include <exception>
#include <optional>

#include "shm/clock.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

Result<std::unique_ptr<BusImpl>> BusImpl::make(std::unique_ptr<Segment> segment,
                                               const AgentOptions& options, bool owns_segment) {
  if (auto e = validate_agent_name(options.name); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  if (options.dispatch_batch == 0) {
    return make_error(Errc::kInvalidArgument, "dispatch_batch must be at least 1");
  }
  auto index = register_agent(*segment, options.name);
  if (!index) return index.error();
  auto impl = std::unique_ptr<BusImpl>(new BusImpl());
  impl->seg_ = std::move(segment);
  impl->self_ = *index;
  impl->rec_ = &impl->seg_->agent(impl->self_);
  impl->owns_segment_ = owns_segment;
  impl->options_ = options;
  impl->config_ = impl->seg_->bus_config();
  const std::uint32_t max_topics = impl->config_.max_topics;
  impl->topics_ = std::make_unique<TopicRegistry>(*impl->seg_);
  impl->topic_sizes_ = std::make_unique<std::atomic<std::uint64_t>[]>(max_topics);
  for (std::uint32_t i = 0; i < max_topics; ++i) impl->topic_sizes_[i].store(0);
  impl->dispatch_topics_.reserve(max_topics);
  impl->subs_ = std::make_unique<SubscriptionTable>(max_topics);
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    impl->writers_[r].init(impl->seg_.get(), r, impl->self_);
    impl->readers_[r] = RingReader(impl->seg_.get(), r, impl->self_);
  }
  impl->dead_letters_ = std::make_unique<DeadLetterArea>(*impl->seg_);
  // This agent's row of the topic-stats region starts from zero (a previous holder of the
  // record may have left counts). Cold: max_topics lines.
  for (std::uint32_t t = 0; t < max_topics; ++t) {
    TopicAgentCounters& tc = impl->seg_->topic_counters(impl->self_, t);
    for (auto* c :
         {&tc.published, &tc.delivered, &tc.failed, &tc.dead_lettered, &tc.dropped, &tc.shed}) {
      c->store(0, std::memory_order_relaxed);
    }
    tc.handlers.store(0, std::memory_order_relaxed);
  }
  impl->last_heartbeat_ns_ = monotonic_ns();
  return impl;
}

BusImpl::~BusImpl() {
  if (seg_ == nullptr) return;
  unregister_agent(*seg_, self_);
  if (owns_segment_) {
    const std::string name = seg_->bus_name();
    seg_.reset();
    (void)Segment::remove(name, /*force=*/true);
  }
}

// ---- topics ---------------------------------------------------------------------------------

Result<TopicId> BusImpl::register_topic(std::string_view name, std::uint32_t payload_size,
                                        std::uint16_t schema_version) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  return topics_->register_topic(name, payload_size, schema_version);
}

Result<TopicId> BusImpl::find_topic(std::string_view name) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  return topics_->find(name);
}

std::string_view BusImpl::topic_name(TopicId id) {
  if (const CachedTopic* t = dispatch_topic(id)) return t->name;
  return {};
}

std::uint64_t BusImpl::topic_info(TopicId topic) noexcept {
  if (topic >= config_.max_topics) return 0;
  std::uint64_t v = topic_sizes_[topic].load(std::memory_order_relaxed);
  if (v != 0) return v;
  // First publish on a topic this process has not seen: look it up (cold, once per topic).
  try {
    std::lock_guard<std::mutex> lock(topics_mu_);
    if (const CachedTopic* t = topics_->get(topic)) {
      v = (std::uint64_t{t->schema_version} << 32) | (std::uint64_t{t->payload_size} + 1);
      topic_sizes_[topic].store(v, std::memory_order_relaxed);
    }
  } catch (...) {
    return 0;
  }
  return v;
}

const CachedTopic* BusImpl::dispatch_topic(TopicId id) noexcept {
  if (id < dispatch_topics_.size()) return &dispatch_topics_[id];
  if (id >= config_.max_topics) return nullptr;
  try {
    std::lock_guard<std::mutex> lock(topics_mu_);
    if (topics_->get(id) == nullptr) return nullptr;
    while (dispatch_topics_.size() <= id) {
      const CachedTopic* t = topics_->get(static_cast<TopicId>(dispatch_topics_.size()));
      if (t == nullptr) return nullptr;
      dispatch_topics_.push_back(*t);
    }
  } catch (...) {
    return nullptr;
  }
  return &dispatch_topics_[id];
}

}  // namespace shmbus::detail
