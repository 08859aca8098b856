// ImportSink: one NATS message -> its local events (one, or each event of a batch frame in
// order). Maps the subject to a topic, decodes the wire format, drops loops (origin = this bus)
// and bad input with a counter and a rate-limited log line, registers the topic on first sight
// (with the origin's payload size and schema), and publishes with the origin's priority. Never
// blocks: a bus that sheds or is full says so. Counters count events, not NATS messages.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bridge/counters.hpp"
#include "bridge/wire_format.hpp"
#include "shmbus/bridge.hpp"
#include "shmbus/event.hpp"
#include "shmbus/topic.hpp"

namespace shmbus {
class Bus;
}

namespace shmbus::bridge::detail {

enum class ImportOutcome : std::uint8_t {
  kPublished,
  kSkipped,   ///< not for this bridge (loop, not imported, carried by the other path)
  kRejected,  ///< bad input, counted and logged; never retried
  kRetry,     ///< the bus could not take it now (shed, full, rate limited, aborted)
};

/// A message checked whole and ready to publish event by event (ImportSink::prepare).
struct PreparedMessage {
  WireReader reader;  ///< positioned before the first event
  TopicId topic = kInvalidTopic;
  std::size_t shared_bytes = 0;  ///< the frame's header, counted with its first published event
};

class ImportSink {
 public:
  ImportSink(const BridgeOptions& options, Counters& counters, Bus& bus);

  /// `durable_path`: true for messages from a durable consumer (then a busy bus answers kRetry,
  /// never a drop); core messages of durable topics from imported streams are skipped.
  /// `claimed` is set when the publish took a producer sequence (kOk or kAborted). A batch
  /// frame is refused on the durable path (a stream message is one event); on the core path
  /// the outcome is the last event's.
  ImportOutcome deliver(std::string_view subject, std::span<const std::byte> data,
                        bool durable_path, bool& claimed) noexcept;
  /// Checks a message whole (subject, wire format, loops, origin, topic registration): kPublished
  /// when `out` is ready for publish_event(), else the kSkipped or kRejected deliver() would
  /// answer. On the durable path a version-2 frame is refused (its events carry no ring
  /// position); version 1 and durable frames (version 3) are accepted. Valid until the next call.
  ImportOutcome prepare(std::string_view subject, std::span<const std::byte> data,
                        bool durable_path, PreparedMessage& out) noexcept;
  /// Publishes one event of a prepared message (from its reader, in order).
  ImportOutcome publish_event(std::string_view subject, PreparedMessage& m, const WireEvent& w,
                              std::size_t wire_bytes, bool durable_path, bool& claimed) noexcept;

 private:
  ImportOutcome reject(std::atomic<std::uint64_t>& counter, std::string_view subject,
                       std::string_view why) noexcept;
  /// One decoded event into the bus; `wire_bytes` is what it adds to the byte counter.
  ImportOutcome publish(std::string_view subject, TopicId id, const WireEvent& w,
                        std::size_t wire_bytes, bool durable_path, bool& claimed) noexcept;
  bool imported(std::string_view bus, std::string_view topic) const noexcept;
  bool durable_from_stream(std::string_view bus, std::string_view topic) const noexcept;

  const BridgeOptions& options_;
  Counters& c_;
  Bus& bus_;
  std::uint32_t max_payload_ = 0;
  std::string scratch_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, TopicId, Hash, std::equal_to<>> topics_;
  std::uint64_t rejects_logged_ = 0;
};

}  // namespace shmbus::bridge::detail
