// DurableImporter: JetStream durable pull consumer -> local bus, exactly once across restarts.
#include "bridge/durable_importer.hpp"

#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "bridge/subject_map.hpp"
#include "shmbus/inspect.hpp"

namespace shmbus::bridge::detail {

namespace {
constexpr int kBatch = 256;
constexpr std::int64_t kFetchWaitMs = 100;

std::string token(std::string_view s) {
  std::string t;
  for (char c : s) t.push_back(c == '.' || c == '*' || c == '>' ? '_' : c);
  return t;
}
}  // namespace

DurableImporter::DurableImporter(const BridgeOptions& options, Counters& counters, NatsLink& link,
                                 std::string origin_bus)
    : options_(options), c_(counters), link_(link), origin_(std::move(origin_bus)) {
  stream_ = stream_name(origin_);
  durable_ = token("shmbus_" + options_.bus + "_" + options_.agent_name);
  // One pattern: the server filters; several: the whole stream, filtered here.
  filter_ = options_.imports.size() == 1 ? subject_pattern(origin_, options_.imports[0])
                                         : subject_pattern(origin_, "*");
  agent_ = options_.agent_name + "-in-" + origin_;
  if (agent_.size() > 31) agent_ = agent_.substr(0, 31);
  fault_ = fault_from_env();
}

DurableImporter::Fault DurableImporter::fault_from_env() noexcept {
  const char* f = std::getenv("SHMBUS_BRIDGE_FAULT");
  if (f == nullptr) return Fault::kNone;
  const std::string_view v(f);
  Fault r = Fault::kNone;
  if (v == "kill-before-publish") r = Fault::kBeforePublish;
  if (v == "kill-after-publish") r = Fault::kAfterPublish;
  if (v == "kill-after-mark") r = Fault::kAfterMark;
  if (r == Fault::kNone) {
    spdlog::warn("bridge: SHMBUS_BRIDGE_FAULT={} is not a fault point; ignored", v);
  } else {
    spdlog::warn("bridge: SHMBUS_BRIDGE_FAULT={}: the import will SIGKILL this process", v);
  }
  return r;
}

void DurableImporter::fault_point(Fault at, std::uint64_t index) const noexcept {
  if (fault_ == at && index >= 1) std::raise(SIGKILL);
}

DurableImporter::~DurableImporter() {
  stop();
  drop_consumer();
}

Result<void> DurableImporter::open() {
  bool existed = false;
  if (auto r = hwm_.open(options_.state_dir + "/import." + token(origin_) + ".hwm", existed); !r) {
    return r;
  }
  HwmState st = hwm_.load();
  AgentOptions ao;
  ao.name = agent_;
  ao.full_policy = FullPolicy::kReturn;
  ao.handler_budget = std::chrono::nanoseconds(0);
  auto b = Bus::attach(options_.bus, ao);
  if (!b) return b.error();
  bus_.emplace(std::move(*b));
  if (existed && st.pending > st.done && st.pending_pseq != 0) {
    // A predecessor was killed between a local publish and its mark: the rings' history says
    // whether that publish happened (the event of its agent, epoch and producer sequence).
    bool found = false;
    auto hist = bus_->history("*", bus_->config().history_depth);
    if (hist) {
      for (const OwnedEvent& e : *hist) {
        if (e.id.producer == st.agent_index && e.id.producer_epoch == st.agent_epoch &&
            e.id.sequence == st.pending_pseq) {
          found = true;
        }
      }
    }
    spdlog::info("bridge: import of {}: event {} of stream sequence {} was {} before the restart",
                 origin_, st.pending_index, st.pending, found ? "published" : "not published");
    if (found && st.pending_incarnation != 0) {
      // One event of a durable frame: its ring mark, so the redelivered frame skips it.
      hwm_.mark(st.pending_priority, st.pending_incarnation, st.pending_position);
    } else if (found) {
      hwm_.done(st.pending);  // a one-event message (version 1)
    }
    st = hwm_.load();
  }
  done_ = st.done;
  std::uint32_t epoch = 0;
  if (auto snap = inspect_bus(options_.bus)) {
    for (const auto& a : snap->agents) {
      if (a.name == agent_ && a.index == bus_->agent_index()) epoch = a.epoch;
    }
  }
  hwm_.set_agent(bus_->agent_index(), epoch);
  sink_.emplace(options_, c_, *bus_);
  return {};
}

void DurableImporter::start() {
  thread_ = std::thread([this] { run(); });
}

void DurableImporter::stop() noexcept {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

void DurableImporter::drop_consumer() noexcept {
  if (sub_ != nullptr) {
    natsSubscription_Destroy(sub_);
    sub_ = nullptr;
  }
}

bool DurableImporter::reset_consumer() noexcept {
  drop_consumer();
  jsCtx* js = link_.jetstream();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  std::uint64_t start = done_ + 1;
  if (done_ == 0) {
    // No mark yet: resume from what the consumer had acked, if it exists.
    jsConsumerInfo* ci = nullptr;
    if (js_GetConsumerInfo(&ci, js, stream_.c_str(), durable_.c_str(), nullptr, &jerr) == NATS_OK) {
      start = ci->AckFloor.Stream + 1;
      jsConsumerInfo_Destroy(ci);
    }
  }
  js_DeleteConsumer(js, stream_.c_str(), durable_.c_str(), nullptr, &jerr);
  // A push consumer on an inbox of our own, read with a plain synchronous subscription (the
  // 3.4 client's pull Fetch can write past its batch array when a late message arrives).
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) return false;
  deliver_ = inbox;
  natsInbox_Destroy(inbox);
  natsStatus s = natsConnection_SubscribeSync(&sub_, link_.connection(), deliver_.c_str());
  if (s != NATS_OK) {
    c_.set_error("subscribe to " + deliver_ + ": " + nats_error_text(s));
    sub_ = nullptr;
    return false;
  }
  natsSubscription_SetPendingLimits(sub_, 1 << 20, 512 << 20);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable_.c_str();
  cc.DeliverSubject = deliver_.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.DeliverPolicy = js_DeliverByStartSequence;
  cc.OptStartSeq = start;
  cc.FilterSubject = filter_.c_str();
  cc.AckWait = std::int64_t{30} * 1'000'000'000;
  cc.MaxAckPending = 65536;
  jsConsumerInfo* ci = nullptr;
  s = js_AddConsumer(&ci, js, stream_.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK) {
    c_.set_error("durable consumer on " + stream_ + ": " + nats_error_text(s));
    drop_consumer();
    return false;
  }
  jsConsumerInfo_Destroy(ci);
  last_consumer_seq_ = 0;
  spdlog::info("bridge: importing {} from stream sequence {}", stream_, start);
  return true;
}

bool DurableImporter::ack(natsMsg* msg) noexcept {
  const char* reply = natsMsg_GetReply(msg);
  if (reply == nullptr || *reply == '\0') return false;
  return natsConnection_PublishString(link_.connection(), reply, "+ACK") == NATS_OK;
}

void DurableImporter::handle(natsMsg* msg) noexcept {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) return;  // not a JetStream delivery
  const std::uint64_t sseq = meta->Sequence.Stream;
  const std::uint64_t cseq = meta->Sequence.Consumer;
  jsMsgMetaData_Destroy(meta);
  if (cseq != last_consumer_seq_ + 1) {
    // Something was delivered that never reached us (lost in a reconnection): start again from
    // the first sequence not done, so nothing is skipped over.
    need_reset_ = true;
    return;
  }
  last_consumer_seq_ = cseq;
  if (sseq <= done_) {
    c_.in.add(c_.in.duplicates);
    ack(msg);
    return;
  }
  const std::string_view subject = natsMsg_GetSubject(msg);
  const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
  const std::span<const std::byte> bytes(data,
                                         static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  PreparedMessage m;
  if (sink_->prepare(subject, bytes, true, m) == ImportOutcome::kPublished) {
    // Event by event, in the message's order. An event whose ring position is at or below its
    // ring's mark was imported already (from an earlier copy of it: a history resend by a
    // restarted exporter, or this message before a SIGKILL): skipped.
    WireEvent w;
    std::size_t wire_bytes = 0;
    for (std::uint64_t i = 0; m.reader.next(w, wire_bytes); ++i) {
      const auto prio = static_cast<std::uint32_t>(index_of(w.priority));
      const std::uint64_t inc = w.has_position ? w.bus_incarnation : 0;
      if (hwm_.seen(prio, inc, w.ring_position)) {
        c_.in.add(c_.in.duplicates);
        continue;
      }
      if (!publish(subject, m, w, wire_bytes, sseq, i)) return;  // stopping: not done, not acked
    }
  }
  done_ = sseq;
  hwm_.done(sseq);
  if (ack(msg)) c_.in.add(c_.in.acked);
}

bool DurableImporter::publish(std::string_view subject, PreparedMessage& m, const WireEvent& w,
                              std::size_t wire_bytes, std::uint64_t sseq,
                              std::uint64_t index) noexcept {
  const auto prio = static_cast<std::uint32_t>(index_of(w.priority));
  const std::uint64_t inc = w.has_position ? w.bus_incarnation : 0;
  std::chrono::milliseconds backoff(1);
  for (;;) {
    hwm_.begin(sseq, claims_ + 1, index, prio, inc, w.ring_position);
    fault_point(Fault::kBeforePublish, index);
    bool claimed = false;
    const ImportOutcome out = sink_->publish_event(subject, m, w, wire_bytes, true, claimed);
    if (claimed) ++claims_;
    if (out == ImportOutcome::kPublished) {
      fault_point(Fault::kAfterPublish, index);
      if (inc != 0) hwm_.mark(prio, inc, w.ring_position);
      fault_point(Fault::kAfterMark, index);
    }
    if (out != ImportOutcome::kRetry) return true;
    // The local bus cannot take it now (backpressure): keep it, in order; heartbeat meanwhile.
    c_.in.add(c_.in.retries);
    bus_->heartbeat();
    if (stopping_.load()) return false;
    std::this_thread::sleep_for(backoff);
    if (backoff < std::chrono::milliseconds(100)) backoff *= 2;
  }
}

void DurableImporter::run() noexcept {
  while (!stopping_.load()) {
    if (!link_.connected()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    const std::uint64_t gen = link_.generation();
    if (gen != link_gen_) {
      link_gen_ = gen;
      need_reset_ = true;
    }
    if (need_reset_) {
      if (!reset_consumer()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      need_reset_ = false;
    }
    // Up to a batch of messages, then the bus heartbeat; a quiet link wakes every 100 ms.
    for (int i = 0; i < kBatch && !need_reset_ && !stopping_.load(); ++i) {
      natsMsg* msg = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&msg, sub_, i == 0 ? kFetchWaitMs : 0);
      if (s == NATS_TIMEOUT) break;
      if (s != NATS_OK) {
        need_reset_ = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        break;
      }
      handle(msg);
      natsMsg_Destroy(msg);
    }
    bus_->heartbeat();
  }
}

}  // namespace shmbus::bridge::detail
