#include "shm/bus_impl.hpp"

#include <sched.h>
#include <time.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

#include "shm/clock.hpp"
#include "shm/fast_clock.hpp"
#include "shm/futex.hpp"
#include "shmbus/catalog.hpp"

namespace shmbus::detail {

namespace {
constexpr std::uint64_t kRecoverCheckNs = 20'000'000;  // stuck-on-dead-peer check period
constexpr std::uint64_t kStuckCheckNs = 2'000'000;     // how often idle readers look at tails
// Backpressure levels older than this (no supervisor heartbeat) are ignored.
constexpr std::uint64_t kSupervisorStaleNs = 2'000'000'000;
}  // namespace

Result<std::unique_ptr<BusImpl>> BusImpl::make(std::unique_ptr<Segment> segment,
                                               const AgentOptions& options, bool owns_segment) {
  if (auto e = validate_agent_name(options.name); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  if (options.dispatch_batch == 0) {
    return make_error(Errc::kInvalidArgument, "dispatch_batch must be at least 1");
  }
  auto index = register_agent(*segment, options.name);
  if (!index) return index.error();
  auto impl = std::unique_ptr<BusImpl>(new BusImpl());
  impl->seg_ = std::move(segment);
  impl->self_ = *index;
  impl->rec_ = &impl->seg_->agent(impl->self_);
  impl->owns_segment_ = owns_segment;
  impl->options_ = options;
  impl->config_ = impl->seg_->bus_config();
  const std::uint32_t max_topics = impl->config_.max_topics;
  impl->topics_ = std::make_unique<TopicRegistry>(*impl->seg_);
  impl->topic_sizes_ = std::make_unique<std::atomic<std::uint64_t>[]>(max_topics);
  for (std::uint32_t i = 0; i < max_topics; ++i) impl->topic_sizes_[i].store(0);
  impl->dispatch_topics_.reserve(max_topics);
  impl->subs_ = std::make_unique<SubscriptionTable>(max_topics);
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    impl->writers_[r].init(impl->seg_.get(), r, impl->self_);
    impl->readers_[r] = RingReader(impl->seg_.get(), r, impl->self_);
  }
  impl->dead_letters_ = std::make_unique<DeadLetterArea>(*impl->seg_);
  // This agent's row of the topic-stats region starts from zero (a previous holder of the
  // record may have left counts). Cold: max_topics lines.
  for (std::uint32_t t = 0; t < max_topics; ++t) {
    TopicAgentCounters& tc = impl->seg_->topic_counters(impl->self_, t);
    for (auto* c :
         {&tc.published, &tc.delivered, &tc.failed, &tc.dead_lettered, &tc.dropped, &tc.shed}) {
      c->store(0, std::memory_order_relaxed);
    }
    tc.handlers.store(0, std::memory_order_relaxed);
  }
  impl->last_heartbeat_ns_ = monotonic_ns();
  return impl;
}

BusImpl::~BusImpl() {
  if (seg_ == nullptr) return;
  unregister_agent(*seg_, self_);
  if (owns_segment_) {
    const std::string name = seg_->bus_name();
    seg_.reset();
    (void)Segment::remove(name, /*force=*/true);
  }
}

// ---- topics ---------------------------------------------------------------------------------

Result<TopicId> BusImpl::register_topic(std::string_view name, std::uint32_t payload_size,
                                        std::uint16_t schema_version) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  return topics_->register_topic(name, payload_size, schema_version);
}

Result<TopicId> BusImpl::find_topic(std::string_view name) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  return topics_->find(name);
}

std::string_view BusImpl::topic_name(TopicId id) {
  if (const CachedTopic* t = dispatch_topic(id)) return t->name;
  return {};
}

std::uint64_t BusImpl::topic_info(TopicId topic) noexcept {
  if (topic >= config_.max_topics) return 0;
  std::uint64_t v = topic_sizes_[topic].load(std::memory_order_relaxed);
  if (v != 0) return v;
  // First publish on a topic this process has not seen: look it up (cold, once per topic).
  try {
    std::lock_guard<std::mutex> lock(topics_mu_);
    if (const CachedTopic* t = topics_->get(topic)) {
      v = (std::uint64_t{t->schema_version} << 32) | (std::uint64_t{t->payload_size} + 1);
      topic_sizes_[topic].store(v, std::memory_order_relaxed);
    }
  } catch (...) {
    return 0;
  }
  return v;
}

const CachedTopic* BusImpl::dispatch_topic(TopicId id) noexcept {
  if (id < dispatch_topics_.size()) return &dispatch_topics_[id];
  if (id >= config_.max_topics) return nullptr;
  try {
    std::lock_guard<std::mutex> lock(topics_mu_);
    if (topics_->get(id) == nullptr) return nullptr;
    while (dispatch_topics_.size() <= id) {
      const CachedTopic* t = topics_->get(static_cast<TopicId>(dispatch_topics_.size()));
      if (t == nullptr) return nullptr;
      dispatch_topics_.push_back(*t);
    }
  } catch (...) {
    return nullptr;
  }
  return &dispatch_topics_[id];
}

// ---- publishing -----------------------------------------------------------------------------

PublishStatus BusImpl::admit(std::uint32_t ring, Priority priority, std::uint64_t now_ns) noexcept {
  RingCounters& c = rec_->counters[ring];
  auto level =
      static_cast<Level>(seg_->header().backpressure[ring].load(std::memory_order_relaxed));
  // Levels are the supervisor's word; one that died (stale heartbeat) no longer sheds or
  // throttles anybody. Read only off the NORMAL path, so the common case costs nothing more.
  if (level != Level::kNormal &&
      now_ns > seg_->header().supervisor_heartbeat_ns.load(std::memory_order_relaxed) +
                   kSupervisorStaleNs) {
    level = Level::kNormal;
  }
  if (level >= Level::kCritical && (priority == Priority::kNormal || priority == Priority::kLow)) {
    c.shed.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kShed;
  }
  if (level >= Level::kHigh && priority == Priority::kLow &&
      !low_limiter_.allow(seg_->header().low_rate_at_high_per_s.load(std::memory_order_relaxed),
                          now_ns)) {
    c.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kRateLimited;
  }
  if (!agent_limiter_.allow(rec_->rate_limit_per_s.load(std::memory_order_relaxed), now_ns)) {
    c.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kRateLimited;
  }
  return PublishStatus::kOk;
}

PublishStatus BusImpl::claim_slot(std::uint32_t ring, SlotClaim& claim,
                                  std::uint64_t now_ns) noexcept {
  RingCounters& c = rec_->counters[ring];
  const bool wait = options_.full_policy == FullPolicy::kWait;
  const std::uint64_t deadline =
      now_ns + static_cast<std::uint64_t>(options_.publish_timeout.count());
  for (std::uint32_t attempt = 0;; ++attempt) {
    switch (writers_[ring].try_claim(claim)) {
      case ClaimOutcome::kClaimed:
        return PublishStatus::kOk;
      case ClaimOutcome::kAborted:
        c.aborted.fetch_add(1, std::memory_order_relaxed);
        return PublishStatus::kAborted;
      case ClaimOutcome::kFull:
        break;
    }
    // Full: the slowest tethered subscriber is a ring behind. Not the steady state. A dead
    // subscriber holding the gate is cleaned up here too, supervisor or not (rate-limited).
    if (attempt == 0 || attempt >= 256) {
      const std::uint64_t now = monotonic_ns();
      std::uint64_t last = last_recover_ns_.load(std::memory_order_relaxed);
      if (now - last > kRecoverCheckNs &&
          last_recover_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
        if (!sweep_dead_agents(*seg_, self_).empty()) continue;
      }
    }
    if (!wait) {
      c.full.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kFull;
    }
    if (attempt < 64) {
      cpu_relax();
      continue;
    }
    const std::uint64_t now = monotonic_ns();
    if (now >= deadline) {
      c.full.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kTimeout;
    }
    if (attempt < 256) {
      sched_yield();
    } else {
      timespec ts{0, 50'000};
      nanosleep(&ts, nullptr);
    }
  }
}

void BusImpl::wake_sleepers() noexcept {
  SegmentHeader& h = seg_->header();
  // seq_cst pairs with the sleeper's waiters increment: either it sees our commit, or we see
  // it waiting. No system call while nobody sleeps.
  if (h.waiters.load(std::memory_order_seq_cst) != 0) {
    h.wake_word.fetch_add(1, std::memory_order_seq_cst);
    futex_wake_all(&h.wake_word);
  }
}

PublishStatus BusImpl::finish_commit(std::uint32_t ring, const SlotClaim& claim) noexcept {
  if (!writers_[ring].commit(claim)) {
    rec_->counters[ring].aborted.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kAborted;
  }
  wake_sleepers();
  rec_->counters[ring].published.fetch_add(1, std::memory_order_relaxed);
  return PublishStatus::kOk;
}

PublishStatus BusImpl::count_topic(TopicId topic, PublishStatus status) noexcept {
  // This agent's own row of the topic-stats region: no line shared with another process.
  // Callers checked topic < max_topics (topic_info). Several publishing threads of this
  // process may count at once, hence the atomic adds.
  TopicAgentCounters& t = seg_->topic_counters(self_, topic);
  switch (status) {
    case PublishStatus::kOk:
      t.published.fetch_add(1, std::memory_order_relaxed);
      break;
    case PublishStatus::kShed:
      t.shed.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      t.dropped.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  return status;
}

PublishStatus BusImpl::publish(TopicId topic, const void* data, std::size_t size, Priority priority,
                               std::uint16_t flags) noexcept {
  const std::uint32_t ring = index_of(priority);
  if (ring >= kRingCount) return PublishStatus::kUnknownTopic;
  if (size > config_.max_payload_bytes) return PublishStatus::kTooLarge;
  const std::uint64_t info = topic_info(topic);
  if (info == 0) return PublishStatus::kUnknownTopic;
  const std::uint32_t sz = static_cast<std::uint32_t>(info);
  if (sz != 1 && sz - 1 != size) return PublishStatus::kBadSize;
  const std::uint64_t now = fast_monotonic_ns();
  if (PublishStatus s = admit(ring, priority, now); s != PublishStatus::kOk) {
    return count_topic(topic, s);
  }
  SlotClaim claim;
  if (PublishStatus s = claim_slot(ring, claim, now); s != PublishStatus::kOk) {
    return count_topic(topic, s);
  }
  SlotHeader& h = *claim.slot;
  // This locked add goes before the slot stores: it would otherwise wait for their cache
  // lines to arrive (a locked instruction drains the store buffer).
  const std::uint64_t producer_seq = producer_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  // Payload first, header last: a subscriber spinning on this slot's seq keeps pulling the
  // header line away, so the header stores and the commit CAS that follows them should
  // find it owned, in one transfer.
  if (size != 0) std::memcpy(reinterpret_cast<std::byte*>(&h) + sizeof(SlotHeader), data, size);
  h.length = static_cast<std::uint32_t>(size);
  h.topic_id = topic;
  h.producer = self_;
  h.producer_epoch = rec_->epoch;
  h.producer_seq = producer_seq;
  h.timestamp_ns = now;
  h.flags = flags;
  h.schema_version = static_cast<std::uint16_t>(info >> 32);
  rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
  return count_topic(topic, finish_commit(ring, claim));
}

void BusImpl::claim(Claim& out, TopicId topic, std::uint32_t size, Priority priority) noexcept {
  out.owner_ = this;
  out.data_ = nullptr;
  out.size_ = 0;
  const std::uint32_t ring = index_of(priority);
  if (ring >= kRingCount) {
    out.status_ = PublishStatus::kUnknownTopic;
    return;
  }
  if (size > config_.max_payload_bytes) {
    out.status_ = PublishStatus::kTooLarge;
    return;
  }
  const std::uint64_t info = topic_info(topic);
  const std::uint32_t sz = static_cast<std::uint32_t>(info);
  if (info == 0) {
    out.status_ = PublishStatus::kUnknownTopic;
    return;
  }
  if (sz != 1 && sz - 1 != size) {
    out.status_ = PublishStatus::kBadSize;
    return;
  }
  const std::uint64_t now = fast_monotonic_ns();
  if (PublishStatus s = admit(ring, priority, now); s != PublishStatus::kOk) {
    out.status_ = count_topic(topic, s);
    return;
  }
  SlotClaim c;
  if (PublishStatus s = claim_slot(ring, c, now); s != PublishStatus::kOk) {
    out.status_ = count_topic(topic, s);
    return;
  }
  SlotHeader& h = *c.slot;
  h.length = size;
  h.topic_id = topic;
  h.producer = self_;
  h.producer_epoch = rec_->epoch;
  h.producer_seq = producer_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  h.flags = 0;
  h.schema_version = static_cast<std::uint16_t>(info >> 32);
  out.data_ = reinterpret_cast<std::byte*>(&h) + sizeof(SlotHeader);
  out.size_ = size;
  out.ring_ = ring;
  out.position_ = c.position;
  out.expected_seq_ = c.expected_seq;
  out.status_ = PublishStatus::kOk;
}

PublishStatus BusImpl::commit(Claim& claim) noexcept {
  if (claim.owner_ != this || claim.data_ == nullptr) return PublishStatus::kClosed;
  SlotClaim c;
  c.position = claim.position_;
  c.expected_seq = claim.expected_seq_;
  c.slot = &seg_->slot(claim.ring_, claim.position_);
  const std::uint64_t now = fast_monotonic_ns();
  c.slot->timestamp_ns = now;
  rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
  claim.data_ = nullptr;
  const TopicId topic = c.slot->topic_id;  // ours until the commit below; read it first
  claim.status_ = count_topic(topic, finish_commit(claim.ring_, c));
  return claim.status_;
}

void BusImpl::cancel(Claim& claim) noexcept {
  if (claim.owner_ != this || claim.data_ == nullptr) return;
  SlotClaim c;
  c.position = claim.position_;
  c.expected_seq = claim.expected_seq_;
  c.slot = &seg_->slot(claim.ring_, claim.position_);
  writers_[claim.ring_].cancel(c);
  claim.data_ = nullptr;
  claim.status_ = PublishStatus::kClosed;
}

// ---- subscribing ----------------------------------------------------------------------------

void BusImpl::activate_readers() {
  if (readers_active_) return;
  const std::uint32_t history = options_.start_from_history ? config_.history_depth : 0;
  for (auto& r : readers_) r.activate(history);
  readers_active_ = true;
}

Result<SubscriptionId> BusImpl::subscribe(std::string_view pattern, Handler handler,
                                          HandlerOptions options, bool once) {
  if (auto e = validate_topic_pattern(pattern); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  if (!handler) return make_error(Errc::kInvalidArgument, "handler is empty");
  activate_readers();
  const SubscriptionId id =
      subs_->add(std::string(pattern), std::move(handler), std::move(options.name), once);
  refresh_handler_counts();
  return id;
}

void BusImpl::refresh_handler_counts() noexcept {
  // Cold (subscribe/off, on the dispatching thread): this agent's handlers per registered
  // topic. Dispatch keeps the count of a topic current as its events arrive (auto-unsubscribe).
  // Not from inside a handler: match() would rebuild the very list dispatch is walking; the
  // topic's next event brings the count up to date instead.
  if (in_dispatch_) return;
  try {
    std::uint32_t n = 0;
    {
      std::lock_guard<std::mutex> lock(topics_mu_);
      n = topics_->count();
    }
    if (n > config_.max_topics) n = config_.max_topics;
    for (TopicId t = 0; t < n; ++t) {
      const CachedTopic* topic = dispatch_topic(t);
      if (topic == nullptr) break;
      const auto handlers = static_cast<std::uint32_t>(subs_->match(t, topic->name).size());
      seg_->topic_counters(self_, t).handlers.store(handlers, std::memory_order_relaxed);
    }
  } catch (...) {
  }
}

Result<void> BusImpl::unsubscribe(SubscriptionId id) {
  if (!subs_->remove(id)) {
    return make_error(Errc::kNotFound, "no subscription " + std::to_string(id));
  }
  refresh_handler_counts();
  return {};
}

Result<OwnedEvent> BusImpl::wait_for(std::string_view pattern, std::chrono::nanoseconds timeout,
                                     std::function<bool(const EventView&)> predicate) {
  if (in_dispatch_) {
    return make_error(Errc::kState, "wait_for cannot be called from inside a handler");
  }
  std::optional<OwnedEvent> got;
  auto id = subscribe(
      pattern,
      [&](const EventView& v) {
        if (!got && (!predicate || predicate(v))) got = OwnedEvent::copy_of(v);
      },
      HandlerOptions{"wait_for(" + std::string(pattern) + ")"}, false);
  if (!id) return id.error();
  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(timeout.count());
  std::uint32_t idle = 0;
  while (!got) {
    if (poll(1u << 20) != 0) {
      idle = 0;
      continue;
    }
    if (monotonic_ns() >= deadline || stop_.load(std::memory_order_relaxed)) break;
    idle_wait(deadline, idle++);
  }
  (void)subs_->remove(*id);
  if (!got) {
    return make_error(Errc::kTimeout, "no event matching '" + std::string(pattern) + "' within " +
                                          std::to_string(timeout.count() / 1'000'000) + " ms");
  }
  return std::move(*got);
}

// ---- dispatch -------------------------------------------------------------------------------

void BusImpl::dispatch(std::uint32_t ring, const ReadEvent& ev) noexcept {
  RingCounters& c = rec_->counters[ring];
  // consumed and delivered are written by this (the one dispatching) thread only: a plain
  // load and store, no locked add on the dispatch path.
  c.consumed.store(c.consumed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const SlotHeader& h = *ev.header;
  const CachedTopic* topic = dispatch_topic(h.topic_id);
  if (topic == nullptr) return;  // unregistered id in a slot: corrupt input, counted as consumed
  // A typed topic's handlers may cast the payload: never hand them another size.
  if (topic->payload_size != 0 && ev.length != topic->payload_size) return;
  const std::vector<std::uint32_t>* matches = nullptr;
  try {
    matches = &subs_->match(h.topic_id, topic->name);
  } catch (...) {
    return;
  }
  if (matches->empty()) return;
  EventView v;
  v.topic = h.topic_id;
  v.priority = static_cast<Priority>(ring);
  v.flags = h.flags;
  v.schema_version = h.schema_version;
  v.id = EventId{h.producer, h.producer_epoch, h.producer_seq};
  v.timestamp_ns = h.timestamp_ns;
  v.position = ev.position;
  v.payload = std::span<const std::byte>(ev.payload, ev.length);
  v.topic_name = topic->name;
  // Per-topic counters of this agent's row; only this dispatcher writes delivered/handlers.
  TopicAgentCounters& tc = seg_->topic_counters(self_, h.topic_id);
  const auto handlers = static_cast<std::uint32_t>(matches->size());
  if (tc.handlers.load(std::memory_order_relaxed) != handlers) {
    tc.handlers.store(handlers, std::memory_order_relaxed);
  }
  tc.delivered.store(tc.delivered.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  subs_->begin_dispatch();
  const bool outer_dispatch = in_dispatch_;  // a handler may poll() (nested dispatch)
  in_dispatch_ = true;
  // One clock read per event (delivery latency) and one per timed handler call: an rdtsc
  // each where the kernel clock is the TSC (shm/fast_clock.hpp).
  const std::uint64_t budget = static_cast<std::uint64_t>(options_.handler_budget.count());
  std::uint64_t t0 = fast_monotonic_ns();
  record_latency(t0 > h.timestamp_ns ? t0 - h.timestamp_ns : 0);
  for (std::size_t i = 0; i < matches->size(); ++i) {
    Subscription& s = subs_->at((*matches)[i]);
    if (!s.active) continue;
    if (s.once) (void)subs_->remove(s.id);  // before the call: a handler may re-subscribe
    ++s.calls;
    try {
      s.handler(v);
      if (s.error_streak != 0) {
        // The streak ends with a success; the agent's streak (read by the supervisor's
        // health check) is that of its latest failing handler, so it ends too.
        s.error_streak = 0;
        rec_->handler_error_streak.store(0, std::memory_order_relaxed);
      }
    } catch (const std::exception& e) {
      handler_failed(ring, ev, s, e.what());
    } catch (...) {
      handler_failed(ring, ev, s, "unknown exception (not a std::exception)");
    }
    if (budget != 0) {
      const std::uint64_t t1 = fast_monotonic_ns();
      if (t1 - t0 > budget) handler_slow(ev, s, t1 - t0, t1);
      t0 = t1;
    }
  }
  in_dispatch_ = outer_dispatch;
  subs_->end_dispatch();
  c.delivered.store(c.delivered.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// ---- handler isolation ----------------------------------------------------------------------

void BusImpl::record_latency(std::uint64_t latency_ns) noexcept {
  // Bucket 0: < 64 ns; bucket b: [64 << (b-1), 64 << b); the last one is open-ended.
  std::size_t b = static_cast<std::size_t>(std::bit_width(latency_ns >> 6));
  if (b >= kLatencyBuckets) b = kLatencyBuckets - 1;
  // Only this dispatcher writes its record's histogram: a plain load+store, no locked add.
  auto& bucket = rec_->latency_hist[b];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (latency_ns > rec_->max_delivery_latency_ns.load(std::memory_order_relaxed)) {
    rec_->max_delivery_latency_ns.store(latency_ns, std::memory_order_relaxed);
  }
}

PublishStatus BusImpl::publish_system(TopicId topic, const void* data, std::size_t size) noexcept {
  // From inside dispatch: never wait (this dispatcher's own cursor may be what holds the ring),
  // never shed (CRITICAL ring). A full ring drops the event, counted.
  constexpr std::uint32_t ring = 0;  // CRITICAL
  const std::uint64_t info = topic_info(topic);
  if (info == 0 || size > config_.max_payload_bytes) return PublishStatus::kUnknownTopic;
  SlotClaim claim;
  switch (writers_[ring].try_claim(claim)) {
    case ClaimOutcome::kClaimed:
      break;
    case ClaimOutcome::kAborted:
      rec_->counters[ring].aborted.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kAborted;
    case ClaimOutcome::kFull:
      rec_->counters[ring].full.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kFull;
  }
  SlotHeader& h = *claim.slot;
  h.length = static_cast<std::uint32_t>(size);
  h.topic_id = topic;
  h.producer = self_;
  h.producer_epoch = rec_->epoch;
  h.producer_seq = producer_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  h.timestamp_ns = fast_monotonic_ns();
  h.flags = kFlagSystem;
  h.schema_version = static_cast<std::uint16_t>(info >> 32);
  if (size != 0) std::memcpy(reinterpret_cast<std::byte*>(&h) + sizeof(SlotHeader), data, size);
  return count_topic(topic, finish_commit(ring, claim));
}

void BusImpl::publish_error(std::uint32_t kind, const ReadEvent& ev, const Subscription& s,
                            const char* message, std::uint64_t now_ns) noexcept {
  if (!error_topic_tried_) {
    // First failure in this process: register sys.error (cold, once).
    error_topic_tried_ = true;
    try {
      auto id = register_topic(catalog::ErrorEvent::kTopic, sizeof(catalog::ErrorEvent),
                               catalog::ErrorEvent::kSchemaVersion);
      if (id) error_topic_ = *id;
    } catch (...) {
    }
  }
  if (error_topic_ == kInvalidTopic) return;
  // Never recursively: a failure while handling an ERROR event reports nothing.
  if (ev.header->topic_id == error_topic_) return;
  catalog::ErrorEvent e{};
  e.error_mono_ns = now_ns;
  e.event_sequence = ev.header->producer_seq;
  // Occurrences of this kind at this agent so far.
  switch (static_cast<catalog::ErrorKind>(kind)) {
    case catalog::ErrorKind::kHandlerSlow:
      e.count = rec_->handler_slow.load(std::memory_order_relaxed);
      break;
    case catalog::ErrorKind::kHandlerUnsubscribed:
      e.count = rec_->handlers_unsubscribed.load(std::memory_order_relaxed);
      break;
    default:
      e.count = rec_->handler_errors.load(std::memory_order_relaxed);
      break;
  }
  e.agent_index = self_;
  e.topic = ev.header->topic_id;
  e.kind = static_cast<catalog::ErrorKind>(kind);
  e.errc = Errc::kOk;
  std::strncpy(e.agent, options_.name.c_str(), sizeof e.agent - 1);
  std::strncpy(e.handler, s.name.c_str(), sizeof e.handler - 1);
  if (message != nullptr) std::strncpy(e.message, message, sizeof e.message - 1);
  if (publish_system(error_topic_, &e, sizeof e) != PublishStatus::kOk) ++system_events_dropped_;
}

void BusImpl::handler_failed(std::uint32_t ring, const ReadEvent& ev, Subscription& s,
                             const char* reason) noexcept {
  ++s.errors;
  ++s.error_streak;
  rec_->handler_errors.fetch_add(1, std::memory_order_relaxed);
  TopicAgentCounters& tc = seg_->topic_counters(self_, ev.header->topic_id);
  tc.failed.store(tc.failed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  rec_->handler_error_streak.store(s.error_streak, std::memory_order_relaxed);
  const std::uint64_t now = monotonic_ns();
  DeadLetterRecord letter;
  letter.event = ev.header;
  letter.payload = ev.payload;
  letter.length = ev.length;
  letter.priority = static_cast<std::uint8_t>(ring);
  letter.failing_agent = self_;
  letter.failed_ns = now;
  letter.handler = s.name;
  letter.reason = reason != nullptr ? std::string_view(reason) : std::string_view();
  if (dead_letters_ && dead_letters_->write(letter)) {
    rec_->dead_lettered.fetch_add(1, std::memory_order_relaxed);
    tc.dead_lettered.store(tc.dead_lettered.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
  }
  publish_error(static_cast<std::uint32_t>(catalog::ErrorKind::kHandlerException), ev, s, reason,
                now);
  const std::uint32_t limit = options_.max_handler_failures;
  if (limit != 0 && s.error_streak >= limit && s.active) {
    (void)subs_->remove(s.id);  // retired, not freed: we are inside its dispatch
    rec_->handlers_unsubscribed.fetch_add(1, std::memory_order_relaxed);
    char msg[80];
    std::snprintf(msg, sizeof msg, "unsubscribed after %u failures in a row", s.error_streak);
    publish_error(static_cast<std::uint32_t>(catalog::ErrorKind::kHandlerUnsubscribed), ev, s, msg,
                  now);
  }
}

void BusImpl::handler_slow(const ReadEvent& ev, Subscription& s, std::uint64_t took_ns,
                           std::uint64_t now_ns) noexcept {
  ++s.slow;
  rec_->handler_slow.fetch_add(1, std::memory_order_relaxed);
  if (s.last_slow_report_ns != 0 && now_ns - s.last_slow_report_ns < 1'000'000'000ull) return;
  s.last_slow_report_ns = now_ns;
  char msg[80];
  std::snprintf(msg, sizeof msg, "handler took %llu ns (budget %lld ns)",
                static_cast<unsigned long long>(took_ns),
                static_cast<long long>(options_.handler_budget.count()));
  publish_error(static_cast<std::uint32_t>(catalog::ErrorKind::kHandlerSlow), ev, s, msg, now_ns);
}

void BusImpl::report_gaps() noexcept {
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const std::uint64_t missed = readers_[r].take_missed();
    if (missed == 0) continue;
    missed_total_ += missed;
    rec_->counters[r].missed.fetch_add(missed, std::memory_order_relaxed);
    if (gap_handler_) {
      try {
        gap_handler_(static_cast<Priority>(r), missed);
      } catch (...) {
        rec_->handler_errors.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

std::size_t BusImpl::poll(std::size_t max_events) noexcept {
  if (!readers_active_) return 0;
  std::size_t n = 0;
  ReadEvent ev;
  while (n < max_events) {
    // Highest priority first, re-checked before every event of a lower ring.
    std::uint32_t r = 0;
    for (; r < kRingCount; ++r) {
      if (readers_[r].next(ev)) break;
    }
    if (r == kRingCount) break;
    // An event of a higher ring committed before this one (e.g. by the same producer) is
    // visible now that we acquired this one's seq: take it first (next() is idempotent).
    // A higher ring with claims still in flight ahead of us may hold such an event behind
    // another producer's slot: leave this lower event until those commit (or are padded).
    bool higher = false;
    bool in_flight = false;
    for (std::uint32_t h = 0; h < r && !higher; ++h) {
      higher = readers_[h].pending();
      in_flight = in_flight || readers_[h].tail() > readers_[h].position();
    }
    if (higher) continue;
    if (in_flight) break;
    dispatch(r, ev);
    readers_[r].advance();
    ++n;
  }
  for (auto& reader : readers_) reader.store_cursor();
  report_gaps();
  return n;
}

bool BusImpl::any_pending() const noexcept {
  for (const auto& r : readers_) {
    if (r.pending_seq_cst()) return true;
  }
  return false;
}

void BusImpl::heartbeat() noexcept {
  const std::uint64_t now = monotonic_ns();
  last_heartbeat_ns_ = now;
  rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
}

void BusImpl::recover_stuck() noexcept {
  // A reader waiting on a claimed-but-uncommitted slot may be waiting on a dead producer.
  // The supervisor handles this; without one, we sweep dead agents ourselves now and then.
  const std::uint64_t now = monotonic_ns();
  if (now - last_recover_ns_.load(std::memory_order_relaxed) < kRecoverCheckNs) return;
  // Reading a ring's tail pulls the line every producer CASes away from them: an idle
  // dispatcher that looked every few microseconds cost each publish a cross-core miss.
  if (now - last_stuck_check_ns_ < kStuckCheckNs) return;
  last_stuck_check_ns_ = now;
  bool stuck = false;
  for (const auto& r : readers_) stuck = stuck || (r.active() && r.tail() > r.position());
  if (!stuck) return;
  last_recover_ns_.store(now, std::memory_order_relaxed);
  try {
    (void)sweep_dead_agents(*seg_, self_);
  } catch (...) {
  }
}

void BusImpl::idle_wait(std::uint64_t deadline_ns, std::uint32_t idle_rounds) noexcept {
  const std::uint64_t period = static_cast<std::uint64_t>(options_.heartbeat_period.count());
  if ((idle_rounds & 255) == 0) {
    const std::uint64_t now = monotonic_ns();
    if (now - last_heartbeat_ns_ >= period / 2) heartbeat();
    recover_stuck();
  }
  switch (options_.wait) {
    case WaitStrategy::kBusySpin:
      cpu_relax();
      return;
    case WaitStrategy::kSpinYield:
      if (idle_rounds < 64) {
        cpu_relax();
      } else {
        sched_yield();
      }
      return;
    case WaitStrategy::kBlock: {
      if (idle_rounds < 64) {
        cpu_relax();
        return;
      }
      SegmentHeader& h = seg_->header();
      h.waiters.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t word = h.wake_word.load(std::memory_order_seq_cst);
      if (!any_pending() && !stop_.load(std::memory_order_seq_cst)) {
        std::uint64_t now = monotonic_ns();
        std::uint64_t timeout = period;
        if (deadline_ns > now && deadline_ns - now < timeout) timeout = deadline_ns - now;
        // Readers stuck behind an uncommitted slot wake up to check for a dead producer.
        if (timeout > kRecoverCheckNs) timeout = kRecoverCheckNs;
        futex_wait(&h.wake_word, word, timeout);
      }
      h.waiters.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
  }
}

std::size_t BusImpl::poll_wait(std::size_t max_events, std::uint64_t timeout_ns) noexcept {
  std::uint64_t deadline = ~0ull;
  for (std::uint32_t idle = 0;; ++idle) {
    if (const std::size_t n = poll(max_events); n != 0) return n;
    // Load first: the idle loop must not run a locked exchange on every round.
    if (stop_.load(std::memory_order_relaxed) && stop_.exchange(false, std::memory_order_relaxed)) {
      return 0;
    }
    // The clock is read only once idle, and then every 64 rounds.
    if ((idle & 63) == 0) {
      const std::uint64_t now = monotonic_ns();
      if (idle == 0) deadline = timeout_ns > ~0ull - now ? ~0ull : now + timeout_ns;
      if (now >= deadline) return 0;
    }
    idle_wait(deadline, idle);
  }
}

void BusImpl::run(std::uint64_t deadline_ns) {
  std::uint32_t idle = 0;
  std::uint32_t busy = 0;
  const std::uint64_t period = static_cast<std::uint64_t>(options_.heartbeat_period.count());
  while (!stop_.load(std::memory_order_relaxed)) {
    if (poll(1u << 16) != 0) {
      idle = 0;
      // A busy dispatcher still heartbeats; the clock is read every 64 batches only.
      if ((++busy & 63) == 0) {
        const std::uint64_t now = monotonic_ns();
        if (now - last_heartbeat_ns_ >= period / 2) heartbeat();
        if (now >= deadline_ns) break;
      }
      continue;
    }
    if (monotonic_ns() >= deadline_ns) break;
    idle_wait(deadline_ns, idle++);
  }
  stop_.store(false, std::memory_order_relaxed);
}

void BusImpl::stop() noexcept {
  stop_.store(true, std::memory_order_seq_cst);
  SegmentHeader& h = seg_->header();
  h.wake_word.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(&h.wake_word);
}

}  // namespace shmbus::detail
