// Fuzz target: the topic registry's readers over a segment image: the count, every entry
// (name, payload size, schema), the per-process cache and lookups by name and by id, as a
// dispatcher does for the topic id of every event it reads.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_segment.hpp"
#include "shm/segment.hpp"
#include "shm/topic_registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size);
  auto seg = detail::Segment::open(fs.bus_name(), std::chrono::nanoseconds(0));
  if (!seg) return 0;
  detail::Segment& s = **seg;
  detail::TopicRegistry topics(s);
  const std::uint32_t n = topics.count();
  volatile std::size_t sink = 0;
  // Ids as an event's topic_id field may carry them: in range, at the edges and beyond.
  for (std::uint32_t id = 0; id < s.config().max_topics + 2; ++id) {
    if (const detail::CachedTopic* t = topics.get(static_cast<TopicId>(id))) {
      if (id >= n && id >= topics.cached()) __builtin_trap();  // only registered ids resolve
      sink = sink + t->name.size() + t->payload_size;
    }
  }
  (void)topics.get(kInvalidTopic);
  auto refreshed = topics.refresh();
  if (!refreshed && refreshed.message().empty()) __builtin_trap();
  for (std::string_view name : {"md.quote.ESZ6", "sys.error", "fuzz.a", ""}) {
    auto found = topics.find(name);
    if (found) sink = sink + *found;
  }
  (void)sink;
  return 0;
}
