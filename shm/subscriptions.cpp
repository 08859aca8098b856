#include "shm/subscriptions.hpp"

#include <utility>

namespace shmbus::detail {

SubscriptionId SubscriptionTable::add(std::string pattern, Handler handler, std::string name,
                                      bool once) {
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(subs_.size());
    subs_.emplace_back();
  }
  Subscription& s = subs_[index];
  s = Subscription{};
  s.id = next_id_++;
  s.pattern = std::move(pattern);
  s.name = name.empty() ? s.pattern : std::move(name);
  s.handler = std::move(handler);
  s.once = once;
  s.active = true;
  ++generation_;
  return s.id;
}

bool SubscriptionTable::remove(SubscriptionId id) {
  for (std::uint32_t i = 0; i < subs_.size(); ++i) {
    Subscription& s = subs_[i];
    if (s.active && s.id == id) {
      s.active = false;
      ++generation_;
      if (depth_ > 0) {
        retired_.push_back(i);  // its handler may be running right now
      } else {
        s.handler = nullptr;
        free_.push_back(i);
      }
      return true;
    }
  }
  return false;
}

void SubscriptionTable::end_dispatch() {
  if (--depth_ > 0) return;
  for (std::uint32_t i : retired_) {
    subs_[i].handler = nullptr;
    free_.push_back(i);
  }
  retired_.clear();
}

const std::vector<std::uint32_t>& SubscriptionTable::match(std::uint32_t topic,
                                                           std::string_view topic_name) {
  TopicMatch& m = by_topic_[topic];
  if (m.generation != generation_) {
    m.handlers.clear();
    for (std::uint32_t i = 0; i < subs_.size(); ++i) {
      if (subs_[i].active && topic_matches(subs_[i].pattern, topic_name)) m.handlers.push_back(i);
    }
    m.generation = generation_;
  }
  return m.handlers;
}

}  // namespace shmbus::detail
