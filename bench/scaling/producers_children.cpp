// Producers children: P producers publish on one topic at NORMAL priority, back to
// back, each its share of warm-up + N events as (rank, 0, 1, 2, ...); one
// subscriber checks each producer's stream (FIFO, exactly once). What is timed:
// from the subscriber's receipt of the warm-up-th event (counting all producers)
// to its receipt of the last one; aggregate rate = N / that interval.
#include <atomic>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "bench_bus.hpp"
#include "ipc/clock.hpp"
#include "scenario_children.hpp"

namespace shmbus::bench::scaling {
namespace {

/// Events producer `rank` of `producers` publishes: `total` split as evenly as possible.
std::uint64_t share_of(std::uint64_t total, int producers, int rank) {
  const auto parts = static_cast<std::uint64_t>(producers);
  return total / parts + (static_cast<std::uint64_t>(rank) < total % parts ? 1 : 0);
}

}  // namespace

void share_producer(const ChildEnv& env) {
  Bus bus = attach_publisher(env.bus_name, "producer-" + std::to_string(env.rank));
  const std::uint64_t count = share_of(env.total(), env.producers, env.rank);
  std::vector<std::byte> payload(env.payload_bytes, std::byte{0x5a});
  const std::span<const std::byte> bytes(payload);
  EventHeader header;
  header.producer = static_cast<std::uint32_t>(env.rank);
  mark_ready(env);
  wait_for_go(env);

  for (std::uint64_t i = 0; i < count; ++i) {
    header.seq = i;
    std::memcpy(payload.data(), &header, sizeof header);
    publish_or_throw(bus, env.data_topic, bytes, Priority::kNormal);
  }
  env.report().handled = count;
}

void merge_subscriber(const ChildEnv& env) {
  Bus bus = attach_subscriber(env.bus_name, "subscriber", env.subscriber_wait);
  const auto producers = static_cast<std::size_t>(env.producers);
  std::vector<StreamCheck> streams(producers);
  std::vector<std::string> names;
  for (std::size_t p = 0; p < producers; ++p) names.push_back("producer " + std::to_string(p));
  FirstError error;
  const std::uint64_t warmup = env.warmup;
  const std::uint64_t total = env.total();
  std::uint64_t handled = 0;
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;

  const auto subscribed = bus.on(kDataTopic, [&](const EventView& event) {
    EventHeader h;
    if (!read_event(event, env.payload_bytes, h, error)) return;
    if (h.producer >= producers) [[unlikely]] {
      error.set("event from producer " + std::to_string(h.producer) + " of " +
                std::to_string(producers));
      return;
    }
    if (!streams[h.producer].accept(h.seq, names[h.producer], error)) return;
    ++handled;
    if (handled == warmup) start_ns = monotonic_now_ns();
    if (handled == total) end_ns = monotonic_now_ns();
    note_progress(env, handled);
  });
  if (!subscribed) throw std::runtime_error("subscribe: " + subscribed.message());
  mark_ready(env);

  dispatch_until(bus, error, [&] { return handled >= total; });
  // Each stream was in order; all of each must have arrived, and nothing more.
  for (std::size_t p = 0; p < producers; ++p) {
    const std::uint64_t expected = share_of(total, env.producers, static_cast<int>(p));
    if (streams[p].next() != expected) {
      throw std::runtime_error(names[p] + ": " + std::to_string(streams[p].next()) + " events of " +
                               std::to_string(expected));
    }
  }
  ChildReport& report = env.report();
  report.handled = handled;
  report.interval_events = env.messages;
  report.interval_ns = end_ns - start_ns;
  env.line().done.store(1, std::memory_order_release);
}

}  // namespace shmbus::bench::scaling
