#include "shm/topic_registry.hpp"

#include <cstring>

#include "shm/control_mutex.hpp"
#include "shmbus/fixed_text.hpp"

namespace shmbus::detail {

std::uint32_t fnv1a(std::string_view s) noexcept {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

std::uint32_t TopicRegistry::count() const noexcept {
  std::uint32_t n = seg_.header().topic_count.load(std::memory_order_acquire);
  return n <= seg_.config().max_topics ? n : seg_.config().max_topics;
}

Result<CachedTopic> TopicRegistry::load_entry(std::uint32_t i) const {
  const TopicEntry& e = seg_.topic(i);
  CachedTopic t;
  t.name = symbol_view(e.name);
  t.payload_size = e.payload_size;
  t.schema_version = e.schema_version;
  if (!validate_topic_name(t.name).empty() || t.payload_size > seg_.config().max_payload_bytes ||
      e.name_hash != fnv1a(t.name)) {
    return make_error(Errc::kCorrupt, "bus " + seg_.bus_name() + ": topic entry " +
                                          std::to_string(i) + " is corrupt");
  }
  return t;
}

Result<void> TopicRegistry::refresh() {
  const std::uint32_t n = count();
  // Topics are never removed: a count below what we cached is damage, and registering at that
  // index would hand out an id this process already knows under another name.
  if (n < cache_.size()) {
    return make_error(Errc::kCorrupt, "bus " + seg_.bus_name() + ": topic count went down from " +
                                          std::to_string(cache_.size()) + " to " +
                                          std::to_string(n));
  }
  while (cache_.size() < n) {
    auto t = load_entry(static_cast<std::uint32_t>(cache_.size()));
    if (!t) return t.error();
    by_name_.emplace(t->name, static_cast<TopicId>(cache_.size()));
    cache_.push_back(std::move(t.value()));
  }
  return {};
}

const CachedTopic* TopicRegistry::refresh_get(TopicId id) noexcept {
  try {
    if (id >= count()) return nullptr;
    if (!refresh()) return nullptr;
    return id < cache_.size() ? &cache_[id] : nullptr;
  } catch (...) {  // allocation failure: treat as unknown
    return nullptr;
  }
}

Result<TopicId> TopicRegistry::find(std::string_view name) {
  if (auto it = by_name_.find(std::string(name)); it != by_name_.end()) return it->second;
  if (auto r = refresh(); !r) return r.error();
  if (auto it = by_name_.find(std::string(name)); it != by_name_.end()) return it->second;
  return make_error(Errc::kNotFound,
                    "bus " + seg_.bus_name() + ": unknown topic '" + std::string(name) + "'");
}

Result<TopicId> TopicRegistry::register_topic(std::string_view name, std::uint32_t payload_size,
                                              std::uint16_t schema_version) {
  if (auto e = validate_topic_name(name); !e.empty()) return make_error(Errc::kInvalidArgument, e);
  if (payload_size > seg_.config().max_payload_bytes) {
    return make_error(Errc::kTooLarge, "topic '" + std::string(name) + "' payload of " +
                                           std::to_string(payload_size) +
                                           " bytes exceeds the bus's max_payload_bytes " +
                                           std::to_string(seg_.config().max_payload_bytes));
  }
  auto check = [&](TopicId id) -> Result<TopicId> {
    const CachedTopic& t = cache_[id];
    if (t.payload_size != payload_size ||
        (schema_version != 0 && t.schema_version != schema_version)) {
      return make_error(Errc::kInvalidArgument,
                        "topic '" + std::string(name) + "' is registered with payload " +
                            std::to_string(t.payload_size) + " bytes, schema " +
                            std::to_string(t.schema_version) + "; asked for " +
                            std::to_string(payload_size) + " bytes, schema " +
                            std::to_string(schema_version));
    }
    return id;
  };
  if (auto found = find(name); found)
    return check(*found);
  else if (found.code() != Errc::kNotFound)
    return found.error();

  SegmentHeader& h = seg_.header();
  ControlLock lock(&h.control_mutex);
  if (!lock.ok()) return make_error(lock.error_code(), "bus " + seg_.bus_name() + ": " + lock.error());
  if (auto r = refresh(); !r) return r.error();  // someone may have registered it meanwhile
  if (auto it = by_name_.find(std::string(name)); it != by_name_.end()) return check(it->second);
  const std::uint32_t n = h.topic_count.load(std::memory_order_relaxed);
  if (n >= seg_.config().max_topics) {
    return make_error(Errc::kCapacityExceeded,
                      "bus " + seg_.bus_name() + ": topic registry full (" +
                          std::to_string(seg_.config().max_topics) +
                          " topics, max_topics); cannot add '" + std::string(name) + "'");
  }
  TopicEntry& e = seg_.topic(n);
  std::memset(e.name, 0, sizeof(e.name));
  std::memcpy(e.name, name.data(), name.size());
  e.payload_size = payload_size;
  e.schema_version = schema_version == 0 ? 1 : schema_version;
  e.flags = 0;
  e.name_hash = fnv1a(name);
  std::memset(e.reserved1, 0, sizeof e.reserved1);  // reserved words stay zero
  // The count is the commit point: a registrant that dies before this store left nothing.
  h.topic_count.store(n + 1, std::memory_order_release);
  if (auto r = refresh(); !r) return r.error();
  return static_cast<TopicId>(n);
}

}  // namespace shmbus::detail
