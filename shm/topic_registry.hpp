// The topic registry: names to small ids in the segment, and the per-process
// cache that keeps lookups off shared memory. Registration is rare and takes the
// control mutex; the entry is written before the count that publishes it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/result.hpp"
#include "shmbus/topic.hpp"

namespace shmbus::detail {

std::uint32_t fnv1a(std::string_view s) noexcept;

struct CachedTopic {
  std::string name;
  std::uint32_t payload_size = 0;
  std::uint16_t schema_version = 0;
};

/// Process-local view of the registry. Not thread-safe for refresh; SharedTopics serialises.
class TopicRegistry {
 public:
  explicit TopicRegistry(Segment& segment) : seg_(segment) {}

  /// Registers or finds `name`. Conflicting size or schema is kInvalidArgument.
  Result<TopicId> register_topic(std::string_view name, std::uint32_t payload_size,
                                 std::uint16_t schema_version);
  /// Finds a registered topic (kNotFound when absent).
  Result<TopicId> find(std::string_view name);

  /// Cached entry for `id`, refreshing the cache from the segment when `id` is new.
  /// nullptr when `id` is not registered (or its entry fails validation).
  const CachedTopic* get(TopicId id) noexcept {
    if (id < cache_.size()) return &cache_[id];
    return refresh_get(id);
  }
  /// Number of topics registered in the segment (acquire).
  std::uint32_t count() const noexcept;
  /// Reloads every newly registered entry into the cache; kCorrupt on a bad entry.
  Result<void> refresh();
  std::size_t cached() const noexcept { return cache_.size(); }

 private:
  const CachedTopic* refresh_get(TopicId id) noexcept;
  Result<CachedTopic> load_entry(std::uint32_t i) const;

  Segment& seg_;
  std::vector<CachedTopic> cache_;
  std::unordered_map<std::string, TopicId> by_name_;
};

}  // namespace shmbus::detail
