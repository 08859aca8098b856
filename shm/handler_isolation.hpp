// HandlerIsolation: what the dispatcher does when a handler throws or overruns its
// budget: counts it, dead-letters the event, publishes a sys.error event, and
// retires a handler that keeps failing. Owned by the Dispatcher; dispatching thread
// only; noexcept, no allocation once sys.error is registered. Not API.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "shm/agent_table.hpp"
#include "shm/dead_letter_area.hpp"
#include "shm/publisher.hpp"
#include "shm/ring/ring_reader.hpp"
#include "shm/segment.hpp"
#include "shm/shared_topics.hpp"
#include "shm/subscriptions.hpp"
#include "shmbus/handler.hpp"

namespace shmbus::detail {

class HandlerIsolation {
 public:
  HandlerIsolation() = default;
  HandlerIsolation(const HandlerIsolation&) = delete;
  HandlerIsolation& operator=(const HandlerIsolation&) = delete;
  /// Binds to agent `self`; errors are published through `publisher`, handlers retired from
  /// `subs`. Cold; all referenced objects outlive this one.
  void init(Segment& segment, std::uint32_t self, const AgentOptions& options, SharedTopics& topics,
            Publisher& publisher, SubscriptionTable& subs);

  /// Handler `s` threw on event `ev` of ring `ring` (`reason`: what it threw).
  void handler_failed(std::uint32_t ring, const ReadEvent& ev, Subscription& s,
                      const char* reason) noexcept;
  /// Handler `s` took `took_ns`, over the agent's handler budget; reported at most once a second.
  void handler_slow(const ReadEvent& ev, Subscription& s, std::uint64_t took_ns,
                    std::uint64_t now_ns) noexcept;

 private:
  void publish_error(std::uint32_t kind, const ReadEvent& ev, const Subscription& s,
                     const char* message, std::uint64_t now_ns) noexcept;

  Segment* seg_ = nullptr;
  AgentRecord* rec_ = nullptr;
  std::uint32_t self_ = kNoAgent;
  std::string agent_name_;
  std::uint32_t max_handler_failures_ = 0;
  std::int64_t handler_budget_ns_ = 0;
  SharedTopics* topics_ = nullptr;
  Publisher* publisher_ = nullptr;
  SubscriptionTable* subs_ = nullptr;
  std::unique_ptr<DeadLetterArea> dead_letters_;
  TopicId error_topic_ = kInvalidTopic;  // sys.error, registered on the first handler failure
  bool error_topic_tried_ = false;
  std::uint64_t system_events_dropped_ = 0;  // sys.error events that found the ring full
};

}  // namespace shmbus::detail
