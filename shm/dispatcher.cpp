// BusImpl, subscribing and dispatch: subscriptions, wait_for, and handing one event to its
// handlers with the delivery-latency histogram and the handler budget.
#include "shm/bus_impl.hpp"

#include <bit>
#include <exception>
#include <optional>

#include "shm/clock.hpp"
#include "shm/fast_clock.hpp"

namespace shmbus::detail {

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

}  // namespace shmbus::detail
