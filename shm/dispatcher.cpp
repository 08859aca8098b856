// Dispatcher: subscriptions and wait_for, dispatch of one event to its handlers (with the
// delivery-latency histogram and the handler budget), and the dispatch loop: poll (strict
// priority across rings), gaps, heartbeats, recovery from a dead producer without a
// supervisor, and the idle wait (spin, yield or futex) of poll_wait and run.
#include "shm/dispatcher.hpp"

#include <sched.h>
#include <time.h>

#include <bit>
#include <exception>
#include <optional>

#include "shm/agent_table.hpp"
#include "shm/clock.hpp"
#include "shm/fast_clock.hpp"
#include "shm/futex.hpp"

namespace shmbus::detail {

// How often idle readers look at tails (namespace-scope constexpr: internal linkage).
constexpr std::uint64_t kStuckCheckNs = 2'000'000;
// A scheduler time slice on a loaded core: how long one sched_yield may keep a waiter off it.
constexpr std::uint64_t kYieldSliceNs = 4'000'000;

void Dispatcher::init(Segment& segment, std::uint32_t self, const AgentOptions& options,
                      SharedTopics& topics, Publisher& publisher,
                      std::atomic<std::uint64_t>& last_recover_ns) {
  seg_ = &segment;
  rec_ = &segment.agent(self);
  self_ = self;
  const BusConfig config = segment.bus_config();
  max_topics_ = config.max_topics;
  history_depth_ = config.history_depth;
  start_from_history_ = options.start_from_history;
  wait_ = options.wait;
  heartbeat_period_ns_ = static_cast<std::uint64_t>(options.heartbeat_period.count());
  handler_budget_ns_ = static_cast<std::uint64_t>(options.handler_budget.count());
  topics_ = &topics;
  topics_cache_.reserve(max_topics_);
  for (std::uint32_t r = 0; r < kRingCount; ++r) readers_[r] = RingReader(&segment, r, self);
  subs_ = std::make_unique<SubscriptionTable>(max_topics_);
  isolation_.init(segment, self, options, topics, publisher, *subs_);
  last_recover_ns_ = &last_recover_ns;
  last_heartbeat_ns_ = monotonic_ns();
}

const CachedTopic* Dispatcher::topic(TopicId id) noexcept {
  if (id < topics_cache_.size()) return &topics_cache_[id];
  if (id >= max_topics_) return nullptr;
  try {
    const bool found = topics_->locked([&](TopicRegistry& registry) {  // copy up to `id`
      if (registry.get(id) == nullptr) return false;
      while (topics_cache_.size() <= id) {
        const CachedTopic* t = registry.get(static_cast<TopicId>(topics_cache_.size()));
        if (t == nullptr) return false;
        topics_cache_.push_back(*t);
      }
      return true;
    });
    if (!found) return nullptr;
  } catch (...) {
    return nullptr;
  }
  return &topics_cache_[id];
}

// ---- subscribing ----------------------------------------------------------------------------

void Dispatcher::activate_readers() {
  if (readers_active_) return;
  const std::uint32_t history = start_from_history_ ? history_depth_ : 0;
  for (auto& r : readers_) r.activate(history);
  readers_active_ = true;
}

Result<SubscriptionId> Dispatcher::subscribe(std::string_view pattern, Handler handler,
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

void Dispatcher::refresh_handler_counts() noexcept {
  // Cold (subscribe/off, on the dispatching thread): this agent's handlers per registered
  // topic. Dispatch keeps the count of a topic current as its events arrive (auto-unsubscribe).
  // Not from inside a handler: match() would rebuild the very list dispatch is walking; the
  // topic's next event brings the count up to date instead.
  if (in_dispatch_) return;
  try {
    std::uint32_t n = 0;
    n = topics_->locked([](TopicRegistry& registry) { return registry.count(); });
    if (n > max_topics_) n = max_topics_;
    for (TopicId t = 0; t < n; ++t) {
      const CachedTopic* topic = this->topic(t);
      if (topic == nullptr) break;
      const auto handlers = static_cast<std::uint32_t>(subs_->match(t, topic->name).size());
      seg_->topic_counters(self_, t).handlers.store(handlers, std::memory_order_relaxed);
    }
  } catch (...) {
  }
}

Result<void> Dispatcher::unsubscribe(SubscriptionId id) {
  if (!subs_->remove(id)) {
    return make_error(Errc::kNotFound, "no subscription " + std::to_string(id));
  }
  refresh_handler_counts();
  return {};
}

Result<OwnedEvent> Dispatcher::wait_for(std::string_view pattern, std::chrono::nanoseconds timeout,
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

void Dispatcher::dispatch(std::uint32_t ring, const ReadEvent& ev) noexcept {
  RingCounters& c = rec_->counters[ring];
  // consumed and delivered are written by this (the one dispatching) thread only: a plain
  // load and store, no locked add on the dispatch path.
  c.consumed.store(c.consumed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const SlotHeader& h = *ev.header;
  const CachedTopic* topic = this->topic(h.topic_id);
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
  const std::uint64_t budget = handler_budget_ns_;
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
      isolation_.handler_failed(ring, ev, s, e.what());
    } catch (...) {
      isolation_.handler_failed(ring, ev, s, "unknown exception (not a std::exception)");
    }
    if (budget != 0) {
      const std::uint64_t t1 = fast_monotonic_ns();
      if (t1 - t0 > budget) isolation_.handler_slow(ev, s, t1 - t0, t1);
      t0 = t1;
    }
  }
  in_dispatch_ = outer_dispatch;
  subs_->end_dispatch();
  c.delivered.store(c.delivered.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Dispatcher::record_latency(std::uint64_t latency_ns) noexcept {
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

// ---- the dispatch loop ----------------------------------------------------------------------

void Dispatcher::report_gap(std::uint32_t r) noexcept {
  const std::uint64_t missed = readers_[r].take_missed();
  if (missed == 0) return;
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

void Dispatcher::report_gaps() noexcept {
  for (std::uint32_t r = 0; r < kRingCount; ++r) report_gap(r);
}

std::size_t Dispatcher::poll(std::size_t max_events) noexcept {
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
    bool higher = false;
    for (std::uint32_t h = 0; h < r && !higher; ++h) higher = readers_[h].pending();
    if (higher) continue;
    // A higher ring with claims still in flight ahead of us may hold such an event behind
    // another producer's slot: leave this lower event until those commit (or are padded).
    // Only the claims made before we saw this event (the tails read then): a claim made later
    // cannot hold an event committed before this one, and waiting for those too starved this
    // ring for as long as the higher one always had a claim open (a producer filling claims
    // in place, back to back).
    if (held_[r] != ev.position + 1) {
      held_[r] = ev.position + 1;
      for (std::uint32_t h = 0; h < r; ++h) held_tails_[r][h] = readers_[h].tail();
    }
    bool in_flight = false;
    for (std::uint32_t h = 0; h < r; ++h) {
      in_flight = in_flight || held_tails_[r][h] > readers_[h].position();
    }
    if (in_flight) break;
    // The events lost to a lap come right before this one: say so before handing it over, so
    // a gap handler knows where the hole is.
    report_gap(r);
    dispatch(r, ev);
    readers_[r].advance();
    ++n;
  }
  for (auto& reader : readers_) reader.store_cursor();
  report_gaps();
  return n;
}

bool Dispatcher::any_pending() const noexcept {
  for (const auto& r : readers_) {
    if (r.pending_seq_cst()) return true;
  }
  return false;
}

void Dispatcher::heartbeat() noexcept {
  const std::uint64_t now = monotonic_ns();
  last_heartbeat_ns_ = now;
  rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
}

void Dispatcher::recover_stuck() noexcept {
  // A reader waiting on a claimed-but-uncommitted slot may be waiting on a dead producer.
  // The supervisor handles this; without one, we sweep dead agents ourselves now and then.
  const std::uint64_t now = monotonic_ns();
  if (now - last_recover_ns_->load(std::memory_order_relaxed) < kRecoverCheckNs) return;
  // Reading a ring's tail pulls the line every producer CASes away from them: an idle
  // dispatcher that looked every few microseconds cost each publish a cross-core miss.
  if (now - last_stuck_check_ns_ < kStuckCheckNs) return;
  last_stuck_check_ns_ = now;
  bool stuck = false;
  for (const auto& r : readers_) stuck = stuck || (r.active() && r.tail() > r.position());
  if (!stuck) return;
  last_recover_ns_->store(now, std::memory_order_relaxed);
  try {
    (void)sweep_dead_agents(*seg_, self_);
  } catch (...) {
  }
}

void Dispatcher::idle_wait(std::uint64_t deadline_ns, std::uint32_t idle_rounds) noexcept {
  const std::uint64_t period = heartbeat_period_ns_;
  // Spinning rounds take nanoseconds: the clock is read every 256 of them. A yielding or
  // sleeping round may take a time slice or a futex timeout: every one, so an idle agent still
  // heartbeats on time.
  const bool long_round = wait_ != WaitStrategy::kBusySpin && idle_rounds >= 64;
  std::uint64_t now = 0;
  if (long_round || (idle_rounds & 255) == 0) {
    now = monotonic_ns();
    if (now - last_heartbeat_ns_ >= period / 2) heartbeat();
    recover_stuck();
  }
  // On a loaded machine a sched_yield can give the core away for a whole time slice (a few
  // ms): within one slice of its deadline a yielding waiter sleeps on the futex instead, as a
  // blocking one does, and wakes at the deadline or at the next publish.
  const bool near_deadline = long_round && deadline_ns > now && deadline_ns - now < kYieldSliceNs;
  switch (wait_) {
    case WaitStrategy::kBusySpin:
      cpu_relax();
      return;
    case WaitStrategy::kSpinYield:
      if (idle_rounds < 64) {
        cpu_relax();
        return;
      }
      if (!near_deadline) {
        sched_yield();
        return;
      }
      [[fallthrough]];
    case WaitStrategy::kBlock: {
      if (idle_rounds < 64) {
        cpu_relax();
        return;
      }
      SegmentHeader& h = seg_->header();
      h.waiters.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t word = h.wake_word.load(std::memory_order_seq_cst);
      if (!any_pending() && !stop_.load(std::memory_order_seq_cst)) {
        now = monotonic_ns();
        // Never past the deadline: the caller may look at the clock only after this round.
        if (now < deadline_ns) {
          std::uint64_t timeout = period;
          if (deadline_ns - now < timeout) timeout = deadline_ns - now;
          // Readers stuck behind an uncommitted slot wake up to check for a dead producer.
          if (timeout > kRecoverCheckNs) timeout = kRecoverCheckNs;
          futex_wait(&h.wake_word, word, timeout);
        }
      }
      h.waiters.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
  }
}

std::size_t Dispatcher::poll_wait(std::size_t max_events, std::uint64_t timeout_ns) noexcept {
  std::uint64_t deadline = ~0ull;
  for (std::uint32_t idle = 0;; ++idle) {
    if (const std::size_t n = poll(max_events); n != 0) return n;
    // Load first: the idle loop must not run a locked exchange on every round.
    if (stop_.load(std::memory_order_relaxed) && stop_.exchange(false, std::memory_order_relaxed)) {
      return 0;
    }
    // The clock is read once idle, then every 64 spinning rounds, and on every round that may
    // yield or sleep: a timeout is a deadline checked on every wait round, whatever the backoff.
    if ((idle & 63) == 0 || (idle >= 64 && wait_ != WaitStrategy::kBusySpin)) {
      const std::uint64_t now = monotonic_ns();
      if (idle == 0) deadline = timeout_ns > ~0ull - now ? ~0ull : now + timeout_ns;
      if (now >= deadline) return 0;
    }
    idle_wait(deadline, idle);
  }
}

void Dispatcher::run(std::uint64_t deadline_ns) {
  std::uint32_t idle = 0;
  std::uint32_t busy = 0;
  const std::uint64_t period = heartbeat_period_ns_;
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

void Dispatcher::stop() noexcept {
  stop_.store(true, std::memory_order_seq_cst);
  SegmentHeader& h = seg_->header();
  h.wake_word.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(&h.wake_word);
}

}  // namespace shmbus::detail
