// Priority children: a CRITICAL stream, paced like fan-out latency (stamp, publish,
// wait for the ack, idle gap_ns), to one subscriber subscribed to it and to a LOW
// topic. Under load a flood producer publishes LOW events back to back for the
// whole run, its publish waiting whenever the LOW ring is full (FullPolicy::kWait).
// The flood shares the producers' CPU with the CRITICAL producer (which sleeps
// through its gap there), so it is no faster than a subscriber with a CPU of its
// own; the subscriber therefore spends low_work_ns on each LOW event, which keeps
// the LOW ring about full: the backlog ahead of each CRITICAL event is measured.
// shmbus dispatches strictly by priority (a pending CRITICAL event goes before any
// LOW one), so the flood should add about the LOW handler in progress.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "bench_bus.hpp"
#include "ipc/clock.hpp"
#include "scenario_children.hpp"

namespace shmbus::bench::scaling {

void critical_producer(const ChildEnv& env) {
  Bus bus = attach_publisher(env.bus_name, "critical");
  std::vector<std::byte> payload(env.payload_bytes, std::byte{0x5a});
  const std::span<const std::byte> bytes(payload);
  EventHeader header;
  const auto& ack = env.control->acks[0].count;  // the subscriber is slot 0
  mark_ready(env);
  wait_for_go(env);
  if (env.flood_slot) {
    // Start once the flood has published a ring's worth: from then on it stays full.
    const auto& published = env.control->low_published;
    env.wait.until([&] { return published.load(std::memory_order_relaxed) >= env.ring_capacity; });
  }

  for (std::uint64_t i = 0; i < env.total(); ++i) {
    header.seq = i;
    header.send_ts_ns = monotonic_now_ns();
    std::memcpy(payload.data(), &header, sizeof header);
    publish_or_throw(bus, env.critical_topic, bytes, Priority::kCritical);
    env.wait.until_acked([&] { return ack.load(std::memory_order_acquire) > i; });
    env.wait.idle_until(monotonic_now_ns() + env.gap_ns);
  }
  env.report().handled = env.total();
}

void flood_producer(const ChildEnv& env) {
  Bus bus = attach_publisher(env.bus_name, "flood");
  std::vector<std::byte> payload(env.payload_bytes, std::byte{0x5a});
  const std::span<const std::byte> bytes(payload);
  EventHeader header;
  ScalingControl& control = *env.control;
  mark_ready(env);
  wait_for_go(env);

  std::uint64_t published = 0;
  while (control.stop_flood.load(std::memory_order_relaxed) == 0) {
    header.seq = published;
    std::memcpy(payload.data(), &header, sizeof header);
    const PublishStatus status = bus.publish(env.low_topic, bytes, Priority::kLow);
    if (status != PublishStatus::kOk) [[unlikely]] {
      // A full ring that stayed full is the end of the run, unless we were told to stop.
      if (control.stop_flood.load(std::memory_order_relaxed) != 0) break;
      throw_publish_failure(status, Priority::kLow);
    }
    control.low_published.store(++published, std::memory_order_relaxed);
  }
  env.report().handled = published;
  env.line().done.store(1, std::memory_order_release);
}

void priority_subscriber(const ChildEnv& env) {
  Bus bus = attach_subscriber(env.bus_name, "subscriber", env.subscriber_wait);
  FirstError error;
  StreamCheck critical;
  StreamCheck low;
  const std::uint64_t warmup = env.warmup;
  const std::uint64_t total = env.total();
  const bool flood = env.flood_slot.has_value();
  std::uint64_t* const samples = env.samples_of(0);
  prefault(samples, env.messages);
  auto& ack = env.control->acks[env.slot].count;
  const auto& low_published = env.control->low_published;
  std::uint64_t start_ns = 0, end_ns = 0, low_at_start = 0, low_at_end = 0;
  std::uint64_t backlog_min = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t backlog_sum = 0;
  std::uint64_t half_full = 0;

  const std::uint64_t low_work_ns = env.low_work_ns;
  const auto on_low = bus.on(kLowTopic, [&](const EventView& event) {
    EventHeader h;
    if (read_event(event, env.payload_bytes, h, error)) (void)low.accept(h.seq, "LOW", error);
    // Stands for the work a real subscriber does with bulk data; keeps the flood ahead.
    if (low_work_ns != 0) spin_until_ns(monotonic_now_ns() + low_work_ns);
  });
  const auto on_critical = bus.on(kCriticalTopic, [&](const EventView& event) {
    const std::uint64_t now_ns = monotonic_now_ns();
    EventHeader h;
    if (!read_event(event, env.payload_bytes, h, error)) return;
    if (!critical.accept(h.seq, "CRITICAL", error)) return;
    if (h.seq >= warmup) {
      samples[h.seq - warmup] = now_ns - h.send_ts_ns;
      if (flood) {
        // LOW events published and not yet handled: the ring's fill as this subscriber
        // sees it. The flood stores its count after publish returns, so it may lag by one.
        const std::uint64_t published = low_published.load(std::memory_order_relaxed);
        const std::uint64_t backlog = published > low.next() ? published - low.next() : 0;
        backlog_min = std::min(backlog_min, backlog);
        backlog_sum += backlog;
        if (2 * backlog >= env.ring_capacity) ++half_full;
      }
    }
    const std::uint64_t handled = critical.next();
    if (handled == warmup) {
      start_ns = now_ns;
      low_at_start = low.next();
    }
    if (handled == total) {
      end_ns = now_ns;
      low_at_end = low.next();
    }
    ack.store(handled, std::memory_order_release);
    note_progress(env, handled);
  });
  if (!on_low) throw std::runtime_error("subscribe: " + on_low.message());
  if (!on_critical) throw std::runtime_error("subscribe: " + on_critical.message());
  mark_ready(env);

  dispatch_until(bus, error, [&] { return critical.next() >= total; });
  if (flood) {
    // Keep draining until the flood has seen the stop flag: it may be waiting for a slot.
    env.control->stop_flood.store(1, std::memory_order_relaxed);
    const auto& flood_done = env.control->lines[*env.flood_slot].done;
    env.wait.until(
        [&] { return bus.poll() == 0 && flood_done.load(std::memory_order_acquire) != 0; });
    error.throw_if_set();
  }
  ChildReport& report = env.report();
  report.handled = critical.next();
  report.interval_events = env.messages;
  report.interval_ns = end_ns - start_ns;
  report.low_events = low_at_end - low_at_start;
  report.low_backlog_min = flood ? backlog_min : 0;
  report.low_backlog_sum = backlog_sum;
  report.low_backlog_samples = flood ? env.messages : 0;
  report.low_half_full = half_full;
  env.line().done.store(1, std::memory_order_release);
}

}  // namespace shmbus::bench::scaling
