// Exporter: the bridge's local subscriber side. Each matching event is encoded (wire_format.hpp)
// and sent to NATS on the bus dispatcher's thread without ever waiting for the network:
// - core topics: a plain NATS publish into the client's buffer; when the buffer passes a
//   fill threshold (lower for lower priorities), the event is shed and counted. Consecutive
//   events of one topic within a dispatcher poll go as one batch frame (wire version 2), sent
//   when the topic changes, the frame is full, or the poll drains (flush(), from service());
// - durable topics: an asynchronous JetStream publish with `Nats-Msg-Id` = the event's stable id
//   (host, bus, producer, epoch, sequence), so JetStream drops what it already holds, and
//   `Nats-Expected-Last-Msg-Id` = the previous event's id, so the stream keeps the bus's order
//   even when a broker restart loses some messages in flight: the first refused or unacked one
//   makes the exporter resend everything from it, in order (go-back-N). A bounded window keeps
//   the unacked events; when it fills, new events are shed by priority. After a restart, the
//   events still in the rings' history are resent first, de-duplicated by id only, and the
//   chain resumes from the stream's real last message once they are all acked.
//   Durable batching (binary format, `--batch` > 1): consecutive durable events of one topic that
//   one dispatcher poll hands over share one JetStream message, a durable batch frame (wire
//   version 3) whose records carry the events' ring positions, the importer's per-event
//   de-duplication key; its `Nats-Msg-Id` is the first event's id, the count and a hash of every
//   event's id (the plain event id for a frame of one). A history resend after a restart goes
//   one event per frame, under its own id. The window holds messages and counts events.
//   `--batch 1` keeps one version-1 message per event.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/counters.hpp"
#include "bridge/nats_link.hpp"
#include "bridge/wire_format.hpp"
#include "shmbus/bridge.hpp"
#include "shmbus/event.hpp"

namespace shmbus {
class Bus;
}

namespace shmbus::bridge::detail {

class Exporter {
 public:
  Exporter(const BridgeOptions& options, Counters& counters, std::string host);
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  /// Before the first event: the bus (for topic sizes), the link, the producers to skip (the
  /// bridge's own import agents) and the monotonic time the bridge attached at.
  void start(Bus& bus, NatsLink& link, std::vector<std::uint32_t> own_producers,
             std::uint64_t attach_mono_ns);
  /// The JetStream stream is ready; `last_msg_id` is the id of its last message (empty when
  /// none) and `last_seq` its sequence: the first chained publish names it as the expected last.
  void stream_ready(std::string last_msg_id, std::uint64_t last_seq);
  bool durable_enabled() const noexcept { return !options_.durable.empty(); }
  /// Several events per NATS message (binary format, --batch above 1): core and durable alike.
  bool batching() const noexcept {
    return options_.format == WireFormat::kBinary && options_.batch_max_events > 1;
  }

  /// The bus handler (dispatcher thread).
  void on_event(const EventView& e) noexcept;
  /// Called by the dispatcher thread between polls: sends the open core batch, resends after a
  /// failure, counts.
  void service(std::uint64_t now_mono_ns) noexcept;
  /// Sends the open core batch, if any (dispatcher thread).
  void flush() noexcept;
  /// Waits up to `timeout_ms` for the durable window to drain (at shutdown).
  void drain(std::int64_t timeout_ms) noexcept;

  static void ack_handler(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* self);

 private:
  struct Entry {
    std::vector<std::byte> data;
    std::size_t len = 0;
    std::string subject;
    char id[128] = {};
    Priority priority = Priority::kNormal;
    bool acked = false;
    /// A live event (not one resent from the rings' history after a restart).
    bool chain = true;
    std::uint32_t failures = 0;
    std::uint32_t events = 1;  ///< events the message carries
  };
  struct TopicInfo {
    std::int8_t durable = -1;  // -1 unknown
    std::uint32_t size = 0;
  };

  const TopicInfo& topic_info(const EventView& e) noexcept;
  /// The event's stable id, `<host>.<bus>.<producer>.<epoch>.<sequence>` (its Nats-Msg-Id).
  void event_id(const EventView& e, char (&out)[128]) const noexcept;
  std::size_t encode(const EventView& e, std::uint32_t topic_size,
                     std::vector<std::byte>& out) noexcept;
  void export_core(const EventView& e, const TopicInfo& t) noexcept;
  void batch_core(const EventView& e, const TopicInfo& t) noexcept;
  void export_durable(const EventView& e, const TopicInfo& t) noexcept;
  /// Appends a durable event to the open durable frame (closing it first on a topic or history
  /// change), or sheds it when the window is too full for its priority.
  void batch_durable(const EventView& e, const TopicInfo& t) noexcept;
  /// Moves the open durable frame into the window as one message and sends it.
  void close_durable() noexcept;
  /// The window's events plus the open frame's, against --window, for `prio`'s threshold.
  bool durable_full(std::size_t prio, std::size_t open_events) noexcept;
  /// Sends window entries [sent_, next_) while the link takes them.
  void pump() noexcept;
  bool send(std::uint64_t x) noexcept;
  void on_ack(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae) noexcept;

  BridgeOptions options_;
  Counters& c_;
  std::string host_;
  Bus* bus_ = nullptr;
  NatsLink* link_ = nullptr;
  std::vector<std::uint32_t> own_;
  std::uint64_t attach_ns_ = 0;
  std::vector<TopicInfo> topics_;
  std::vector<std::byte> scratch_;
  std::string subject_;
  std::string hdr_;

  // The open core batch (dispatcher thread only): events of topic batch_topic_ since the last
  // flush, how many of each priority (shed together if the publish fails), the client's
  // buffered bytes when it opened (the shedding threshold's base), the clocks then (one read
  // per batch, not per event) and the oldest event's time (for the lag).
  BatchEncoder batch_;
  TopicId batch_topic_ = kInvalidTopic;
  std::string batch_topic_name_;
  std::uint32_t batch_prio_[kPriorityCount] = {};
  std::uint64_t batch_buffered_ = 0;
  std::uint64_t batch_mono_ns_ = 0, batch_real_ns_ = 0, batch_oldest_ns_ = 0;

  // The open durable frame (dispatcher thread only): events of topic durable_topic_, all live or
  // all from history (durable_chain_), since the last close; the first event's id and a hash
  // of every event's id (the message id); the clocks when it opened; the oldest event's time.
  BatchEncoder durable_;
  TopicId durable_topic_ = kInvalidTopic;
  std::string durable_topic_name_;
  bool durable_chain_ = true;
  char durable_first_id_[128] = {};
  std::uint64_t durable_hash_ = 0;
  std::uint64_t durable_max_bytes_ = 0;  ///< --batch-bytes, at most half the server's limit
  std::uint64_t durable_mono_ns_ = 0, durable_real_ns_ = 0, durable_oldest_ns_ = 0;
  /// The origin bus's incarnation (its creation time) on every durable frame: ring positions
  /// are unique within it.
  std::uint64_t bus_incarnation_ = 0;

  // The durable window, one entry per message: entries [base_, next_) are kept until acked; [sent_,
  // next_) not yet sent in the current pass. mu_ guards the window against the ack handler's
  // thread.
  std::mutex mu_;
  std::vector<Entry> window_;
  std::uint64_t base_ = 0, next_ = 0, sent_ = 0;
  std::uint64_t pending_events_ = 0;  ///< events of the messages [base_, next_)
  std::uint64_t gen_ = 0;
  /// Id and sequence of the stream's last message as far as acks tell (we are its only
  /// publisher): what the first chained message after a gap names as the expected last.
  std::string last_stream_id_;
  std::uint64_t last_stream_seq_ = 0;
  /// Window position after the last event resent from history. Entries before it are sent
  /// without Nats-Expected-Last-Msg-Id (JetStream may hold them already, in another order: they
  /// rely on de-duplication alone); entries from it on are chained and wait until all before
  /// it are acked, when the stream's real last message is known.
  std::uint64_t unchained_end_ = 0;
  std::atomic<bool> ready_{false};
  std::atomic<bool> rewind_{false};
  std::uint64_t next_rewind_ns_ = 0;
};

}  // namespace shmbus::bridge::detail
