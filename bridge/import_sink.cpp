// ImportSink: NATS message -> local publish, with every check that bad input needs.
#include "bridge/import_sink.hpp"

#include <spdlog/spdlog.h>

#include "bridge/subject_map.hpp"
#include "shm/clock.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::bridge::detail {

ImportSink::ImportSink(const BridgeOptions& options, Counters& counters, Bus& bus)
    : options_(options), c_(counters), bus_(bus), max_payload_(bus.config().max_payload_bytes) {
  scratch_.reserve(1024);
}

ImportOutcome ImportSink::reject(std::atomic<std::uint64_t>& counter, std::string_view subject,
                                 std::string_view why) noexcept {
  Counters::inc(counter);
  c_.in.add(c_.in.rejected);
  try {
    std::string text = "import from " + quote_name(subject) + " rejected: " + std::string(why);
    // The first few, then one in a thousand: bad input must not flood the log.
    if (rejects_logged_ < 10 || rejects_logged_ % 1000 == 0) spdlog::error("bridge: {}", text);
    ++rejects_logged_;
    c_.set_error(text);
  } catch (...) {
  }
  return ImportOutcome::kRejected;
}

bool ImportSink::imported(std::string_view bus, std::string_view topic) const noexcept {
  if (!options_.from_buses.empty()) {
    bool found = false;
    for (const auto& b : options_.from_buses) found = found || b == bus;
    if (!found) return false;
  }
  for (const auto& p : options_.imports) {
    if (topic_matches(p, topic)) return true;
  }
  return false;
}

bool ImportSink::durable_from_stream(std::string_view bus, std::string_view topic) const noexcept {
  bool from_stream = false;
  for (const auto& b : options_.from_buses) from_stream = from_stream || b == bus;
  if (!from_stream) return false;
  for (const auto& p : options_.durable) {
    if (topic_matches(p, topic)) return true;
  }
  return false;
}

namespace {
// Events a message carries, for the loop counter (a looped message is not decoded further).
std::size_t events_in(std::span<const std::byte> data, std::string& scratch) noexcept {
  if (data.empty() || data[0] == std::byte{'{'}) return 1;
  WireReader r;
  try {
    if (r.open(data, scratch) == DecodeStatus::kOk) return r.count();
  } catch (...) {
  }
  return 1;
}
}  // namespace

ImportOutcome ImportSink::deliver(std::string_view subject, std::span<const std::byte> data,
                                  bool durable_path, bool& claimed) noexcept {
  claimed = false;
  PreparedMessage m;
  const ImportOutcome ready = prepare(subject, data, durable_path, m);
  if (ready != ImportOutcome::kPublished) return ready;
  // Each event of a batch in turn, in the frame's order (the exporter's order): one that the
  // bus cannot take is counted and the next one goes on, as separate messages would.
  ImportOutcome outcome = ImportOutcome::kPublished;
  WireEvent w;
  std::size_t wire_bytes = 0;
  while (m.reader.next(w, wire_bytes)) {
    bool took = false;
    outcome = publish_event(subject, m, w, wire_bytes, durable_path, took);
    claimed = claimed || took;
  }
  return outcome;
}

ImportOutcome ImportSink::prepare(std::string_view subject, std::span<const std::byte> data,
                                  bool durable_path, PreparedMessage& out) noexcept {
  std::string_view sbus, stopic;
  if (!topic_of(subject, sbus, stopic)) {
    return reject(c_.reject_subject, subject,
                  "the subject maps to no topic (want shmbus.<bus>.<topic>)");
  }
  if (sbus == options_.bus) {
    Counters::inc(c_.loops_dropped, events_in(data, scratch_));  // our own export coming back
    return ImportOutcome::kSkipped;
  }
  if (!imported(sbus, stopic)) return ImportOutcome::kSkipped;
  if (!durable_path && durable_from_stream(sbus, stopic)) return ImportOutcome::kSkipped;
  WireReader& r = out.reader;
  DecodeStatus ds = DecodeStatus::kMalformed;
  try {
    ds = r.open(data, scratch_);
  } catch (...) {
  }
  if (ds == DecodeStatus::kBadVersion || ds == DecodeStatus::kBadMagic) {
    return reject(c_.reject_version, subject, decode_status_name(ds));
  }
  if (ds != DecodeStatus::kOk) return reject(c_.reject_other, subject, decode_status_name(ds));
  // A stream message's events are de-duplicated by their ring positions: a core batch frame
  // (version 2) has none.
  if (durable_path && r.batch() && !r.durable()) {
    return reject(c_.reject_other, subject,
                  "a core batch frame (version 2) in a stream (durable frames are version 3)");
  }
  WireEvent w;
  std::size_t wire_bytes = 0;
  WireReader first = r;  // a copy: `r` stays before the first event
  first.next(w, wire_bytes);
  if (w.bus == options_.bus) {
    Counters::inc(c_.loops_dropped, r.count());
    return ImportOutcome::kSkipped;
  }
  if (w.bus != sbus || w.topic != stopic) {
    return reject(c_.reject_other, subject,
                  "origin bus or topic in the message differs from the subject");
  }
  // A lone event too large is refused before its topic is registered (a batch's events are
  // checked one by one when published).
  if (r.count() == 1 && w.payload.size() > max_payload_) {
    bool unused = false;
    return publish(subject, kInvalidTopic, w, wire_bytes, durable_path, unused);
  }
  if (auto it = topics_.find(stopic); it != topics_.end()) {
    out.topic = it->second;
  } else {
    auto found = bus_.find_topic(stopic);
    if (!found) found = bus_.register_topic(stopic, w.topic_payload_size, w.schema_version);
    if (!found)
      return reject(c_.reject_other, subject, "topic refused by the bus: " + found.message());
    out.topic = *found;
    topics_.emplace(std::string(stopic), out.topic);
  }
  out.shared_bytes = r.shared_bytes();
  return ImportOutcome::kPublished;
}

ImportOutcome ImportSink::publish_event(std::string_view subject, PreparedMessage& m,
                                        const WireEvent& w, std::size_t wire_bytes,
                                        bool durable_path, bool& claimed) noexcept {
  claimed = false;
  const ImportOutcome outcome =
      publish(subject, m.topic, w, wire_bytes + m.shared_bytes, durable_path, claimed);
  if (outcome == ImportOutcome::kPublished) m.shared_bytes = 0;  // the frame's header, once
  return outcome;
}

ImportOutcome ImportSink::publish(std::string_view subject, TopicId id, const WireEvent& w,
                                  std::size_t wire_bytes, bool durable_path,
                                  bool& claimed) noexcept {
  if (w.payload.size() > max_payload_) {
    return reject(c_.reject_too_large, subject,
                  "payload of " + std::to_string(w.payload.size()) +
                      " bytes is larger than this bus's limit of " + std::to_string(max_payload_));
  }
  const PublishStatus s = bus_.publish(id, w.payload, w.priority);
  const auto prio = index_of(w.priority);
  switch (s) {
    case PublishStatus::kOk: {
      claimed = true;
      c_.in.add(c_.in.messages);
      c_.in.add(c_.in.bytes, wire_bytes);
      const std::uint64_t now = shmbus::detail::realtime_ns();
      c_.in.lag_ns.store(now > w.publish_realtime_ns ? now - w.publish_realtime_ns : 0,
                         std::memory_order_relaxed);
      return ImportOutcome::kPublished;
    }
    case PublishStatus::kAborted:
      claimed = true;
      [[fallthrough]];
    case PublishStatus::kShed:
    case PublishStatus::kRateLimited:
    case PublishStatus::kFull:
    case PublishStatus::kTimeout:
      if (durable_path) return ImportOutcome::kRetry;
      c_.in.add(c_.in.shed[prio]);
      return ImportOutcome::kRejected;
    case PublishStatus::kTooLarge:
      return reject(c_.reject_too_large, subject, "larger than this bus's payload limit");
    default:
      return reject(c_.reject_other, subject,
                    std::string("the bus refused it: ") + std::string(publish_status_name(s)));
  }
}

}  // namespace shmbus::bridge::detail
