// Exporter: local events -> NATS (core publish or async JetStream publish with a resend window).
#include "bridge/exporter.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "bridge/subject_map.hpp"
#include "bridge/wire_format.hpp"
#include "shm/clock.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/inspect.hpp"

namespace shmbus::bridge::detail {

using shmbus::detail::monotonic_ns;
using shmbus::detail::realtime_ns;

namespace {
// Fill (of the client's buffer or of the durable window) at which each priority is shed:
// LOW first, CRITICAL only when nothing more fits. Indexed by Priority.
constexpr double kShedAt[kPriorityCount] = {1.0, 0.9, 0.75, 0.5};
constexpr const char* kHdrMsgId = "Nats-Msg-Id";
constexpr const char* kHdrExpectedLast = "Nats-Expected-Last-Msg-Id";
constexpr const char* kHdrExport = "Shmbus-X";
constexpr std::uint64_t kRewindPauseNs = 100'000'000;
// A message the stream refuses this many times (not for order or time) is dropped and counted.
constexpr std::uint32_t kMaxRefusals = 5;

// A batch record's fields of `e` (the frame holds the names and the topic size). The publish
// time converts the event's monotonic stamp with the clocks read once for the frame.
WireEvent record_of(const EventView& e, std::uint64_t mono_ns, std::uint64_t real_ns) noexcept {
  WireEvent w;
  w.priority = e.priority;
  w.event_flags = e.flags;
  w.schema_version = e.schema_version;
  w.producer = e.id.producer;
  w.producer_epoch = e.id.producer_epoch;
  w.producer_seq = e.id.sequence;
  const std::uint64_t age = mono_ns > e.timestamp_ns ? mono_ns - e.timestamp_ns : 0;
  w.publish_realtime_ns = real_ns - std::min(real_ns, age);
  w.ring_position = e.position;  // written in durable frames only
  w.payload = e.payload;
  return w;
}
}  // namespace

void Exporter::event_id(const EventView& e, char (&out)[128]) const noexcept {
  std::snprintf(out, sizeof out, "%s.%s.%u.%u.%llu", host_.c_str(), options_.bus.c_str(),
                e.id.producer, e.id.producer_epoch, static_cast<unsigned long long>(e.id.sequence));
}

Exporter::Exporter(const BridgeOptions& options, Counters& counters, std::string host)
    : options_(options), c_(counters), host_(std::move(host)) {
  options_.export_window = std::max<std::uint32_t>(options_.export_window, 16);
  if (durable_enabled()) window_.resize(options_.export_window);
  options_.batch_max_events =
      std::clamp<std::uint32_t>(options_.batch_max_events, 1, kMaxBatchEvents);
  options_.batch_max_bytes = std::clamp<std::uint32_t>(options_.batch_max_bytes, 1, 16u << 20);
  subject_.reserve(256);
  hdr_.reserve(64);
  batch_topic_name_.reserve(256);
  durable_topic_name_.reserve(256);
}

void Exporter::start(Bus& bus, NatsLink& link, std::vector<std::uint32_t> own_producers,
                     std::uint64_t attach_mono_ns) {
  bus_ = &bus;
  link_ = &link;
  own_ = std::move(own_producers);
  attach_ns_ = attach_mono_ns;
  topics_.assign(bus.config().max_topics, TopicInfo{});
  scratch_.resize(kWireHeaderBytes + 3 * kMaxName + bus.config().max_payload_bytes);
  // Room for a full batch plus one more record of the largest payload: append never fails
  // for lack of room before the byte cap closes the batch.
  batch_.reserve(kBatchHeaderBytes + 3 * kMaxName + options_.batch_max_bytes + kBatchRecordBytes +
                 bus.config().max_payload_bytes);
  if (durable_enabled() && batching()) {
    durable_.reserve(kBatchHeaderBytes + 3 * kMaxName + options_.batch_max_bytes +
                     kDurableRecordBytes + bus.config().max_payload_bytes);
    try {
      if (auto snap = inspect_bus(bus.bus_name())) bus_incarnation_ = snap->creation_time_ns;
    } catch (...) {
    }
    if (bus_incarnation_ == 0) {
      spdlog::warn(
          "bridge: no creation time for bus {}: importers cannot de-duplicate a "
          "history resend by ring position",
          options_.bus);
    }
  }
}

void Exporter::stream_ready(std::string last_msg_id, std::uint64_t last_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_.load() && last_seq >= last_stream_seq_) {
    last_stream_id_ = std::move(last_msg_id);
    last_stream_seq_ = last_seq;
  }
  ready_.store(true, std::memory_order_release);
  rewind_.store(true, std::memory_order_release);  // (re)send whatever waited for the stream
}

const Exporter::TopicInfo& Exporter::topic_info(const EventView& e) noexcept {
  static const TopicInfo kNone{0, 0};
  if (e.topic >= topics_.size()) return kNone;
  TopicInfo& t = topics_[e.topic];
  if (t.durable >= 0) return t;
  // First event of this topic: a cold path (allocates once per topic).
  t.durable = 0;
  for (const auto& p : options_.durable) {
    if (topic_matches(p, e.topic_name)) t.durable = 1;
  }
  t.size = 0;
  try {
    if (auto snap = inspect_bus(bus_->bus_name())) {
      for (const auto& ts : snap->topics) {
        if (ts.id == e.topic) t.size = ts.payload_size;
      }
    }
  } catch (...) {
  }
  return t;
}

std::size_t Exporter::encode(const EventView& e, std::uint32_t topic_size,
                             std::vector<std::byte>& out) noexcept {
  WireEvent w;
  w.priority = e.priority;
  w.event_flags = e.flags;
  w.schema_version = e.schema_version;
  w.topic_payload_size = topic_size;
  w.producer = e.id.producer;
  w.producer_epoch = e.id.producer_epoch;
  w.producer_seq = e.id.sequence;
  const std::uint64_t mono = monotonic_ns();
  const std::uint64_t real = realtime_ns();
  w.publish_realtime_ns = real - std::min(real, mono > e.timestamp_ns ? mono - e.timestamp_ns : 0);
  w.host = host_;
  w.bus = options_.bus;
  w.topic = e.topic_name;
  w.payload = e.payload;
  if (options_.format == WireFormat::kJson) {
    try {
      const std::string j = encode_json(w);
      out.resize(j.size());
      std::memcpy(out.data(), j.data(), j.size());
      return j.size();
    } catch (...) {
      return 0;
    }
  }
  const std::size_t need = binary_size(w);
  if (out.size() < need) out.resize(need);  // once: sized for the bus's largest payload
  return encode_binary(w, out);
}

void Exporter::on_event(const EventView& e) noexcept {
  if ((e.flags & kFlagSystem) != 0) return;  // the bus's own sys.* events stay local
  for (std::uint32_t p : own_) {
    if (e.id.producer == p) return;  // imported by this bridge: never exported back
  }
  const TopicInfo& t = topic_info(e);
  if (t.durable == 1) {
    export_durable(e, t);
    return;
  }
  if (e.timestamp_ns < attach_ns_) return;  // history: only durable topics are resent
  if (batching()) {
    batch_core(e, t);
  } else {
    export_core(e, t);
  }
}

void Exporter::batch_core(const EventView& e, const TopicInfo& t) noexcept {
  const auto prio = index_of(e.priority);
  natsConnection* nc = link_->connection();
  if (nc == nullptr) {
    c_.out.add(c_.out.shed[prio]);
    return;
  }
  if (!batch_.empty() && e.topic != batch_topic_) flush();  // keeps the order across topics
  if (batch_.empty()) {
    batch_topic_ = e.topic;
    batch_topic_name_.assign(e.topic_name);  // reserved: no allocation for names <= 255
    batch_buffered_ = static_cast<std::uint64_t>(natsConnection_Buffered(nc));
    batch_mono_ns_ = monotonic_ns();
    batch_real_ns_ = realtime_ns();
    batch_oldest_ns_ = e.timestamp_ns;
    for (auto& n : batch_prio_) n = 0;
    if (!batch_.begin(host_, options_.bus, e.topic_name, t.size)) {
      Counters::inc(c_.reject_other);
      return;
    }
  }
  // The batch's bytes count as buffered already: it will be.
  const double fill = static_cast<double>(batch_buffered_ + batch_.size()) /
                      static_cast<double>(options_.core_buffer_limit);
  if (fill >= kShedAt[prio]) {
    c_.out.add(c_.out.shed[prio]);
    return;
  }
  const WireEvent w = record_of(e, batch_mono_ns_, batch_real_ns_);
  if (!batch_.append(w)) {
    // Only a full frame refuses a record (the buffer has room for one past the byte cap).
    const bool fresh = batch_.count() == 0;
    flush();
    if (fresh) {
      Counters::inc(c_.reject_other);
    } else {
      batch_core(e, t);  // into a fresh frame, which has room
    }
    return;
  }
  ++batch_prio_[prio];
  if (batch_.count() >= options_.batch_max_events || batch_.size() >= options_.batch_max_bytes) {
    flush();
  }
}

void Exporter::flush() noexcept {
  if (batch_.empty()) return;
  const std::span<const std::byte> frame = batch_.finish();
  const std::uint64_t n = batch_.count();
  batch_.clear();
  natsConnection* nc = link_->connection();
  subject_of(options_.bus, batch_topic_name_, subject_);
  const natsStatus s = nc == nullptr ? NATS_CONNECTION_CLOSED
                                     : natsConnection_Publish(nc, subject_.c_str(), frame.data(),
                                                              static_cast<int>(frame.size()));
  if (s != NATS_OK) {
    for (std::size_t p = 0; p < kPriorityCount; ++p) {
      if (batch_prio_[p] != 0) c_.out.add(c_.out.shed[p], batch_prio_[p]);
    }
    return;
  }
  c_.out.add(c_.out.messages, n);  // events, not NATS messages
  c_.out.add(c_.out.bytes, frame.size());
  const std::uint64_t now = monotonic_ns();
  c_.out.lag_ns.store(now > batch_oldest_ns_ ? now - batch_oldest_ns_ : 0,
                      std::memory_order_relaxed);
}

void Exporter::export_core(const EventView& e, const TopicInfo& t) noexcept {
  const auto prio = index_of(e.priority);
  natsConnection* nc = link_->connection();
  if (nc == nullptr) {
    c_.out.add(c_.out.shed[prio]);
    return;
  }
  const double fill = static_cast<double>(natsConnection_Buffered(nc)) / options_.core_buffer_limit;
  if (fill >= kShedAt[prio]) {
    c_.out.add(c_.out.shed[prio]);
    return;
  }
  const std::size_t n = encode(e, t.size, scratch_);
  if (n == 0) {
    Counters::inc(c_.reject_other);
    return;
  }
  subject_of(options_.bus, e.topic_name, subject_);
  const natsStatus s =
      natsConnection_Publish(nc, subject_.c_str(), scratch_.data(), static_cast<int>(n));
  if (s != NATS_OK) {
    c_.out.add(c_.out.shed[prio]);
    return;
  }
  c_.out.add(c_.out.messages);
  c_.out.add(c_.out.bytes, n);
  const std::uint64_t now = monotonic_ns();
  c_.out.lag_ns.store(now > e.timestamp_ns ? now - e.timestamp_ns : 0, std::memory_order_relaxed);
}

bool Exporter::durable_full(std::size_t prio, std::size_t open_events) noexcept {
  // Called with mu_ held. --window counts events: the window's and the open frame's.
  const std::uint64_t used = pending_events_ + open_events;
  const double fill = static_cast<double>(used) / static_cast<double>(options_.export_window);
  return used >= options_.export_window || next_ - base_ >= window_.size() || fill >= kShedAt[prio];
}

void Exporter::export_durable(const EventView& e, const TopicInfo& t) noexcept {
  flush();  // core events before it leave before it, as without batching
  if (batching()) {
    batch_durable(e, t);
    return;
  }
  const auto prio = index_of(e.priority);
  std::uint64_t x = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (durable_full(prio, 0)) {
      c_.out.add(c_.out.shed[prio]);
      return;
    }
    x = next_;
    Entry& en = window_[x % window_.size()];
    en.len = encode(e, t.size, en.data);
    if (en.len == 0) {
      Counters::inc(c_.reject_other);
      return;
    }
    subject_of(options_.bus, e.topic_name, en.subject);
    event_id(e, en.id);
    en.priority = e.priority;
    en.acked = false;
    en.failures = 0;
    en.events = 1;
    en.chain = e.timestamp_ns >= attach_ns_;
    if (!en.chain) unchained_end_ = x + 1;
    ++next_;
    ++pending_events_;
    c_.out.pending.store(pending_events_, std::memory_order_relaxed);
  }
  const std::uint64_t now = monotonic_ns();
  c_.out.lag_ns.store(now > e.timestamp_ns ? now - e.timestamp_ns : 0, std::memory_order_relaxed);
  if (!rewind_.load(std::memory_order_acquire)) pump();
}

void Exporter::batch_durable(const EventView& e, const TopicInfo& t) noexcept {
  const auto prio = index_of(e.priority);
  const bool chain = e.timestamp_ns >= attach_ns_;
  // A frame is one topic (one subject) and all live or all history (chained or not).
  if (!durable_.empty() && (e.topic != durable_topic_ || chain != durable_chain_)) {
    close_durable();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (durable_full(prio, durable_.count())) {
      c_.out.add(c_.out.shed[prio]);
      return;
    }
  }
  if (durable_.empty()) {
    if (!durable_.begin_durable(host_, options_.bus, e.topic_name, t.size, bus_incarnation_)) {
      Counters::inc(c_.reject_other);
      return;
    }
    // Within the server's message limit too (--batch-bytes may ask for more).
    durable_max_bytes_ = options_.batch_max_bytes;
    if (natsConnection* nc = link_->connection()) {
      const auto server_max = natsConnection_GetMaxPayload(nc);
      if (server_max > 0) {
        durable_max_bytes_ =
            std::min<std::uint64_t>(durable_max_bytes_, static_cast<std::uint64_t>(server_max) / 2);
      }
    }
    durable_topic_ = e.topic;
    durable_topic_name_.assign(e.topic_name);  // reserved: no allocation for names <= 255
    durable_chain_ = chain;
    durable_mono_ns_ = monotonic_ns();
    durable_real_ns_ = realtime_ns();
    durable_oldest_ns_ = e.timestamp_ns;
    durable_hash_ = 0xcbf29ce484222325ull;  // FNV-1a offset basis
    event_id(e, durable_first_id_);
  }
  const WireEvent w = record_of(e, durable_mono_ns_, durable_real_ns_);
  if (!durable_.append(w)) {
    // Only a full frame refuses a record (the buffer has room for one past the byte cap).
    const bool fresh = durable_.count() == 0;
    if (fresh) {
      durable_.clear();
      Counters::inc(c_.reject_other);
    } else {
      close_durable();
      batch_durable(e, t);  // into a fresh frame, which has room
    }
    return;
  }
  // The message id names every event it carries: FNV-1a over each event's id.
  for (const std::uint64_t v :
       {std::uint64_t{e.id.producer}, std::uint64_t{e.id.producer_epoch}, e.id.sequence}) {
    for (int i = 0; i < 8; ++i) {
      durable_hash_ ^= (v >> (8 * i)) & 0xff;
      durable_hash_ *= 0x100000001b3ull;
    }
  }
  // A history resend goes one event per message, under the event's own id: JetStream drops
  // it when it holds it from a message of one event (an exporter of --batch 1 or of an older
  // version), the importer's ring marks when it came in a frame of several.
  if (!durable_chain_ || durable_.count() >= options_.batch_max_events ||
      durable_.size() >= durable_max_bytes_) {
    close_durable();
  }
}

void Exporter::close_durable() noexcept {
  if (durable_.empty()) return;
  const std::span<const std::byte> frame = durable_.finish();
  const auto n = static_cast<std::uint32_t>(durable_.count());
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Room was checked per event (--window counts the open frame's events, and each message
    // holds at least one, so the window of messages cannot be full here).
    const std::uint64_t x = next_;
    Entry& en = window_[x % window_.size()];
    // A slot keeps its buffer from message to message; one far larger than this frame goes, so
    // the window holds about what it carries, not --window full frames.
    if (en.data.capacity() > 4 * frame.size() + 65536) std::vector<std::byte>().swap(en.data);
    en.data.assign(frame.begin(), frame.end());
    en.len = frame.size();
    subject_of(options_.bus, durable_topic_name_, en.subject);
    if (n == 1) {
      std::memcpy(en.id, durable_first_id_, sizeof en.id);
    } else {
      std::snprintf(en.id, sizeof en.id, "%.90s+%u.%016llx", durable_first_id_, n,
                    static_cast<unsigned long long>(durable_hash_));
    }
    en.acked = false;
    en.failures = 0;
    en.events = n;
    en.chain = durable_chain_;
    if (!en.chain) unchained_end_ = x + 1;
    ++next_;
    pending_events_ += n;
    c_.out.pending.store(pending_events_, std::memory_order_relaxed);
  }
  durable_.clear();
  const std::uint64_t now = monotonic_ns();
  c_.out.lag_ns.store(now > durable_oldest_ns_ ? now - durable_oldest_ns_ : 0,
                      std::memory_order_relaxed);
  if (!rewind_.load(std::memory_order_acquire)) pump();
}

bool Exporter::send(std::uint64_t x) noexcept {
  // Called with mu_ held.
  Entry& en = window_[x % window_.size()];
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, en.subject.c_str(), nullptr,
                     reinterpret_cast<const char*>(en.data.data()), static_cast<int>(en.len));
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, kHdrMsgId, en.id);
  if (x >= unchained_end_) {
    const bool after_gap = x == base_ || x - 1 < unchained_end_;
    const char* expected =
        after_gap ? last_stream_id_.c_str() : window_[(x - 1) % window_.size()].id;
    if (s == NATS_OK && *expected != '\0') s = natsMsgHeader_Set(msg, kHdrExpectedLast, expected);
  }
  if (s == NATS_OK) {
    char tag[48];
    std::snprintf(tag, sizeof tag, "%llu.%llu", static_cast<unsigned long long>(x),
                  static_cast<unsigned long long>(gen_));
    s = natsMsgHeader_Set(msg, kHdrExport, tag);
  }
  if (s == NATS_OK) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = options_.ack_timeout.count();
    s = js_PublishMsgAsync(link_->jetstream(), &msg, &po);
  }
  natsMsg_Destroy(msg);  // no-op when the library took it
  if (s != NATS_OK) return false;
  c_.out.add(c_.out.messages, en.events);  // events, not JetStream messages
  c_.out.add(c_.out.bytes, en.len);
  return true;
}

void Exporter::pump() noexcept {
  if (!ready_.load(std::memory_order_acquire) || !link_->connected()) return;
  std::lock_guard<std::mutex> lock(mu_);
  while (sent_ < next_) {
    if (sent_ < base_) sent_ = base_;
    if (sent_ >= next_) break;
    // A chained event waits until every history resend before it is acked (the stream's last
    // message is known only then).
    if (sent_ >= unchained_end_ && base_ < unchained_end_) return;
    if (!send(sent_)) {
      rewind_.store(true, std::memory_order_release);
      return;
    }
    ++sent_;
  }
}

void Exporter::service(std::uint64_t now) noexcept {
  flush();  // the poll drained: a lone event leaves now, not with the next one
  if (!durable_enabled()) return;
  close_durable();
  if (rewind_.load(std::memory_order_acquire) && now >= next_rewind_ns_ &&
      ready_.load(std::memory_order_acquire) && link_->connected()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++gen_;
      std::uint64_t resent = 0;  // events
      for (std::uint64_t x = base_; x < sent_; ++x) resent += window_[x % window_.size()].events;
      if (resent != 0) c_.out.add(c_.out.retries, resent);
      sent_ = base_;
      rewind_.store(false, std::memory_order_release);
    }
    next_rewind_ns_ = now + kRewindPauseNs;
    pump();
  } else if (!rewind_.load(std::memory_order_acquire)) {
    pump();  // entries that waited for the stream or the connection
  }
}

void Exporter::drain(std::int64_t timeout_ms) noexcept {
  flush();
  if (!durable_enabled()) return;
  close_durable();
  const std::uint64_t end = monotonic_ns() + static_cast<std::uint64_t>(timeout_ms) * 1'000'000;
  while (monotonic_ns() < end) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (base_ == next_) return;
    }
    service(monotonic_ns());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Exporter::ack_handler(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* self) {
  static_cast<Exporter*>(self)->on_ack(msg, pa, pae);
  natsMsg_Destroy(msg);
}

void Exporter::on_ack(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae) noexcept {
  const char* tag = nullptr;
  if (msg == nullptr || natsMsgHeader_Get(msg, kHdrExport, &tag) != NATS_OK || tag == nullptr)
    return;
  std::uint64_t x = 0, gen = 0;
  const char* end = tag + std::strlen(tag);
  auto r = std::from_chars(tag, end, x);
  if (r.ec != std::errc{} || r.ptr == end || *r.ptr != '.') return;
  std::from_chars(r.ptr + 1, end, gen);
  std::lock_guard<std::mutex> lock(mu_);
  if (x < base_ || x >= next_) return;  // already acked (a resend's second ack)
  Entry& en = window_[x % window_.size()];
  if (pa != nullptr) {
    if (pa->Duplicate) c_.out.add(c_.out.duplicates, en.events);
    if (!en.acked) c_.out.add(c_.out.acked, en.events);
    en.acked = true;
    if (pa->Sequence > last_stream_seq_) {
      last_stream_seq_ = pa->Sequence;
      last_stream_id_ = en.id;
    }
    while (base_ < next_ && window_[base_ % window_.size()].acked) {
      pending_events_ -= window_[base_ % window_.size()].events;
      ++base_;
    }
    c_.out.pending.store(pending_events_, std::memory_order_relaxed);
    return;
  }
  if (gen != gen_) return;  // a failure of an earlier pass, already being resent
  // Refused out of order (an earlier message was lost), timed out, or no stream responder:
  // resend from the first unacked message. A message refused for its own sake is dropped after
  // a few tries so it cannot stop the flow for good.
  const bool order =
      pae != nullptr &&
      (pae->ErrCode == JSStreamWrongLastMsgIDErr ||
       (pae->ErrText != nullptr && std::strstr(pae->ErrText, "wrong last msg") != nullptr));
  const bool timeout =
      pae != nullptr && (pae->Err == NATS_TIMEOUT || pae->Err == NATS_NO_RESPONDERS);
  if (!order && !timeout && x == base_ && ++en.failures >= kMaxRefusals) {
    spdlog::error("bridge: JetStream refuses {} on {}: {}; dropped", en.id, en.subject,
                  pae != nullptr && pae->ErrText != nullptr ? pae->ErrText : "?");
    Counters::inc(c_.reject_other, en.events);
    pending_events_ -= en.events;
    ++base_;
    c_.out.pending.store(pending_events_, std::memory_order_relaxed);
  }
  if (!order && pae != nullptr) {
    c_.set_error(std::string("JetStream publish failed: ") +
                 (pae->ErrText != nullptr ? pae->ErrText : natsStatus_GetText(pae->Err)));
  }
  rewind_.store(true, std::memory_order_release);
}

}  // namespace shmbus::bridge::detail
