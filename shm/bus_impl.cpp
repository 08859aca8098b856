// BusImpl: attaching an agent to a segment (registering its record, clearing its topic
// counters) and binding the Publisher and the Dispatcher to it; detaching.
#include "shm/bus_impl.hpp"

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
  impl->topics_ = std::make_unique<SharedTopics>(*impl->seg_);
  impl->publisher_.init(*impl->seg_, impl->self_, options, *impl->topics_, impl->last_recover_ns_);
  impl->dispatcher_.init(*impl->seg_, impl->self_, options, *impl->topics_, impl->publisher_,
                         impl->last_recover_ns_);
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
  return impl;
}

BusImpl::~BusImpl() {
  if (seg_ == nullptr) return;
  unregister_agent(*seg_, self_);
  if (owns_segment_) seg_->unlink_own();
}

std::string_view BusImpl::topic_name(TopicId id) {
  if (const CachedTopic* t = dispatcher_.topic(id)) return t->name;
  return {};
}

}  // namespace shmbus::detail
