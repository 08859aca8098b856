// Fan-out children: one producer publishes on one topic at NORMAL priority, each of
// M subscribers handles every event. What is timed. Unpaced: each subscriber, from
// its receipt of the last warm-up event to its receipt of the last event. Paced:
// from the producer's stamp just before publish to the subscriber's clock read on
// entering its handler (publish, the subscriber noticing, dispatch by topic); the
// producer then waits for all M acks and idles, so one event is in flight.
#include <atomic>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "bench_bus.hpp"
#include "ipc/clock.hpp"
#include "scenario_children.hpp"

namespace shmbus::bench::scaling {

void fanout_producer(const ChildEnv& env, bool paced) {
  Bus bus = attach_publisher(env.bus_name, "producer");
  std::vector<std::byte> payload(env.payload_bytes, std::byte{0x5a});
  const std::span<const std::byte> bytes(payload);
  EventHeader header;
  mark_ready(env);
  wait_for_go(env);

  if (!paced) {
    for (std::uint64_t i = 0; i < env.total(); ++i) {
      header.seq = i;
      std::memcpy(payload.data(), &header, sizeof header);
      publish_or_throw(bus, env.data_topic, bytes, Priority::kNormal);
    }
  } else {
    for (std::uint64_t i = 0; i < env.total(); ++i) {
      header.seq = i;
      header.send_ts_ns = monotonic_now_ns();
      std::memcpy(payload.data(), &header, sizeof header);
      publish_or_throw(bus, env.data_topic, bytes, Priority::kNormal);
      for (int k = 0; k < env.subscribers; ++k) {
        const auto& ack = env.control->acks[k].count;
        env.wait.until_acked([&] { return ack.load(std::memory_order_acquire) > i; });
      }
      env.wait.idle_until(monotonic_now_ns() + env.gap_ns);
    }
  }
  env.report().handled = env.total();
}

void fanout_subscriber(const ChildEnv& env, bool paced) {
  Bus bus = attach_subscriber(env.bus_name, "sub-" + std::to_string(env.rank), env.subscriber_wait);
  FirstError error;
  StreamCheck stream;
  const std::uint64_t warmup = env.warmup;
  const std::uint64_t total = env.total();
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;

  std::uint64_t* const samples = paced ? env.samples_of(env.slot) : nullptr;
  if (paced) prefault(samples, env.messages);
  auto& ack = env.control->acks[env.slot].count;
  auto paced_handler = [&](const EventView& event) {
    const std::uint64_t now_ns = monotonic_now_ns();
    EventHeader h;
    if (!read_event(event, env.payload_bytes, h, error)) return;
    if (!stream.accept(h.seq, "producer", error)) return;
    if (h.seq >= warmup) samples[h.seq - warmup] = now_ns - h.send_ts_ns;
    ack.store(stream.next(), std::memory_order_release);
    note_progress(env, stream.next());
  };
  auto unpaced_handler = [&](const EventView& event) {
    EventHeader h;
    if (!read_event(event, env.payload_bytes, h, error)) return;
    if (!stream.accept(h.seq, "producer", error)) return;
    const std::uint64_t handled = stream.next();
    if (handled == warmup) start_ns = monotonic_now_ns();
    if (handled == total) end_ns = monotonic_now_ns();
    note_progress(env, handled);
  };
  const auto subscribed =
      paced ? bus.on(kDataTopic, paced_handler) : bus.on(kDataTopic, unpaced_handler);
  if (!subscribed) throw std::runtime_error("subscribe: " + subscribed.message());
  mark_ready(env);

  dispatch_until(bus, error, [&] { return stream.next() >= total; });
  ChildReport& report = env.report();
  report.handled = stream.next();
  report.interval_events = env.messages;
  report.interval_ns = end_ns - start_ns;
  env.line().done.store(1, std::memory_order_release);
}

}  // namespace shmbus::bench::scaling
