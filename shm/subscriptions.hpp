// The process-local subscription table: handlers with their patterns, and a
// per-topic cache of which handlers match, rebuilt only when subscriptions
// change or a new topic appears (so dispatch allocates nothing in steady state).
// Used by the Dispatcher on its dispatching thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/handler.hpp"

namespace shmbus::detail {

struct Subscription {
  SubscriptionId id = 0;
  std::string pattern;
  std::string name;
  Handler handler;
  bool once = false;
  bool active = false;
  std::uint32_t error_streak = 0;
  std::uint64_t errors = 0;
  std::uint64_t calls = 0;
  std::uint64_t slow = 0;                 // calls over AgentOptions::handler_budget
  std::uint64_t last_slow_report_ns = 0;  // sys.error kHandlerSlow at most once per second
};

class SubscriptionTable {
 public:
  explicit SubscriptionTable(std::uint32_t max_topics) : by_topic_(max_topics) {}

  SubscriptionId add(std::string pattern, Handler handler, std::string name, bool once);
  /// Deactivates; the entry is reused only once no dispatch is in progress.
  bool remove(SubscriptionId id);
  /// Indices (into at()) of active handlers whose pattern matches this topic.
  const std::vector<std::uint32_t>& match(std::uint32_t topic, std::string_view topic_name);
  Subscription& at(std::uint32_t index) { return subs_[index]; }

  /// Dispatch brackets: entries removed inside a handler are recycled at the outermost end.
  void begin_dispatch() noexcept { ++depth_; }
  void end_dispatch();

 private:
  struct TopicMatch {
    std::uint64_t generation = 0;  // 0 = never built
    std::vector<std::uint32_t> handlers;
  };
  std::deque<Subscription> subs_;  // stable addresses: handlers may subscribe while running
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> retired_;
  std::vector<TopicMatch> by_topic_;
  std::uint64_t generation_ = 1;
  SubscriptionId next_id_ = 1;
  int depth_ = 0;
};

}  // namespace shmbus::detail
