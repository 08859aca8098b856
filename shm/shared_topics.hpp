// SharedTopics: the process's one TopicRegistry behind a mutex. BusImpl owns it;
// the publishing threads (first publish on a topic), the dispatcher (its own copy
// of the names) and handler isolation (registering sys.error) go through it. Cold
// path only: publish and dispatch keep caches of their own. Not API.
#pragma once

#include <cstdint>
#include <mutex>
#include <string_view>

#include "shm/segment.hpp"
#include "shm/topic_registry.hpp"
#include "shmbus/result.hpp"
#include "shmbus/topic.hpp"

namespace shmbus::detail {

class SharedTopics {
 public:
  explicit SharedTopics(Segment& segment) : registry_(segment) {}
  SharedTopics(const SharedTopics&) = delete;
  SharedTopics& operator=(const SharedTopics&) = delete;

  Result<TopicId> register_topic(std::string_view name, std::uint32_t payload_size,
                                 std::uint16_t schema_version) {
    std::lock_guard<std::mutex> lock(mu_);
    return registry_.register_topic(name, payload_size, schema_version);
  }
  Result<TopicId> find(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu_);
    return registry_.find(name);
  }
  /// Runs `f(registry)` under the lock (the registry's cache refresh is not thread-safe).
  template <typename F>
  decltype(auto) locked(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    return f(registry_);
  }

 private:
  std::mutex mu_;
  TopicRegistry registry_;
};

}  // namespace shmbus::detail
