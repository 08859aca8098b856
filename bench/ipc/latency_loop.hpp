// Latency mode, timed part. The producer stamps CLOCK_MONOTONIC into each message
// right before send(); the consumer reads the clock right after receive() returns
// and stores now - stamp (one-way latency, including the send and receive calls
// and the copy into the consumer's buffer). Pacing: one message in flight. After
// each send the producer waits for the consumer's ack and then idles `gap_ns`
// (busy, on its own core) so that a consumer that blocks has gone back to sleep
// before the next message: latency is measured, never queueing. The producer
// also records send -> ack-seen (a round trip; reported halved as rtt/2).
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "child_context.hpp"
#include "clock.hpp"
#include "message_header.hpp"
#include "transport.hpp"

namespace shmbus::bench {

template <ProducerEndpoint P>
void wait_for_ack(P& producer, ControlBlock& control, std::uint64_t count) {
  if constexpr (AckWaitingProducer<P>) {
    producer.wait_ack(count);
  } else {
    while (control.ack.load(std::memory_order_acquire) < count) cpu_relax();
  }
}

template <ConsumerEndpoint C>
void send_ack(C& consumer, ControlBlock& control, std::uint64_t count) {
  if constexpr (AckingConsumer<C>) {
    consumer.ack(count);
  } else {
    control.ack.store(count, std::memory_order_release);
  }
}

template <ProducerEndpoint P>
void run_latency_producer(P& producer, const ChildContext& ctx) {
  ControlBlock& control = *ctx.control;
  std::vector<std::byte> message(ctx.message_bytes, std::byte{0x5a});
  // Touch the sample array here so page faults happen before timing starts.
  std::memset(ctx.round_trip_ns, 0, ctx.messages * sizeof(std::uint64_t));
  while (control.consumer_ready.load(std::memory_order_acquire) == 0) cpu_relax();

  for (std::uint64_t i = 0; i < ctx.total(); ++i) {
    const std::uint64_t send_ns = monotonic_now_ns();
    const MessageHeader header{i, send_ns};
    std::memcpy(message.data(), &header, sizeof header);
    producer.send(std::span<const std::byte>(message));
    wait_for_ack(producer, control, i + 1);
    const std::uint64_t ack_ns = monotonic_now_ns();
    if (i >= ctx.warmup) ctx.round_trip_ns[i - ctx.warmup] = ack_ns - send_ns;
    spin_until_ns(ack_ns + ctx.gap_ns);
  }
}

template <ConsumerEndpoint C>
void run_latency_consumer(C& consumer, const ChildContext& ctx) {
  ControlBlock& control = *ctx.control;
  std::vector<std::byte> buffer(ctx.message_bytes);
  // Touch the sample array here so page faults happen before timing starts.
  std::memset(ctx.one_way_ns, 0, ctx.messages * sizeof(std::uint64_t));
  control.consumer_ready.store(1, std::memory_order_release);

  for (std::uint64_t i = 0; i < ctx.total(); ++i) {
    const std::size_t size = consumer.receive(std::span<std::byte>(buffer));
    const std::uint64_t now_ns = monotonic_now_ns();
    MessageHeader header;
    std::memcpy(&header, buffer.data(), sizeof header);
    if (header.seq != i || size != ctx.message_bytes) {
      throw std::runtime_error("expected message " + std::to_string(i) + " of " +
                               std::to_string(ctx.message_bytes) + " B, got message " +
                               std::to_string(header.seq) + " of " + std::to_string(size) + " B");
    }
    if (i >= ctx.warmup) ctx.one_way_ns[i - ctx.warmup] = now_ns - header.send_ts_ns;
    send_ack(consumer, control, i + 1);
    if (i % kProgressStride == 0) control.progress.store(i, std::memory_order_relaxed);
  }
  control.received = ctx.total();
  control.consumer_done.store(1, std::memory_order_release);
}

}  // namespace shmbus::bench
