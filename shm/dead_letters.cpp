// list_dead_letters / replay_dead_letters (shmbus/dead_letters.hpp) over DeadLetterArea.
#include "shmbus/dead_letters.hpp"

#include <exception>

#include "shm/bus_access.hpp"
#include "shm/dead_letter_area.hpp"
#include "shm/topic_registry.hpp"

namespace shmbus {

namespace {

using detail::DeadLetterArea;
using detail::Segment;

std::vector<DeadLetter> collect(Segment& seg) {
  DeadLetterArea area(seg);
  detail::TopicRegistry topics(seg);
  std::vector<DeadLetter> out;
  for (auto& c : area.read()) {
    DeadLetter d;
    d.index = c.index;
    d.topic = c.topic_id;
    if (const detail::CachedTopic* t = topics.get(c.topic_id)) d.topic_name = t->name;
    d.priority = c.priority < kPriorityCount ? static_cast<Priority>(c.priority) : Priority::kLow;
    d.flags = c.flags;
    d.schema_version = c.schema_version;
    d.id = EventId{c.producer, c.producer_epoch, c.producer_seq};
    d.timestamp_ns = c.timestamp_ns;
    d.failed_ns = c.failed_ns;
    d.failing_agent = c.failing_agent;
    d.handler = std::move(c.handler);
    d.reason = std::move(c.reason);
    d.payload = std::move(c.payload);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

Result<std::vector<DeadLetter>> list_dead_letters(std::string_view bus_name) {
  try {
    auto seg = Segment::open(bus_name);
    if (!seg) return seg.error();
    return collect(**seg);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("list dead letters: ") + e.what());
  }
}

Result<std::vector<DeadLetter>> list_dead_letters(Bus& bus) {
  try {
    return collect(detail::BusAccess::impl(bus).segment());
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("list dead letters: ") + e.what());
  }
}

Result<DeadLetterTotals> dead_letter_totals(std::string_view bus_name) {
  try {
    auto seg = Segment::open(bus_name);
    if (!seg) return seg.error();
    DeadLetterArea area(**seg);
    return DeadLetterTotals{area.written(), area.dropped(), area.capacity()};
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("dead letter totals: ") + e.what());
  }
}

Result<std::size_t> replay_dead_letters(Bus& bus, const DeadLetterFilter& filter) {
  if (auto e = validate_topic_pattern(filter.pattern); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  try {
    std::size_t published = 0;
    for (const DeadLetter& d : collect(detail::BusAccess::impl(bus).segment())) {
      if (d.index < filter.min_index) continue;
      if (!topic_matches(filter.pattern, d.topic_name)) continue;
      if (!filter.handler.empty() && filter.handler != d.handler) continue;
      if (filter.predicate && !filter.predicate(d)) continue;
      const PublishStatus s = detail::BusAccess::impl(bus).publisher().publish(
          d.topic, d.payload.data(), d.payload.size(), d.priority,
          static_cast<std::uint16_t>(d.flags | kFlagReplayed));
      if (s != PublishStatus::kOk) {
        return make_error(Errc::kCapacityExceeded,
                          "replay of dead letter " + std::to_string(d.index) + " (" + d.topic_name +
                              "): " + std::string(publish_status_name(s)) + " after " +
                              std::to_string(published) + " published");
      }
      ++published;
    }
    return published;
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("replay dead letters: ") + e.what());
  }
}

}  // namespace shmbus
