// Throughput mode, timed part. The producer sends warm-up + N messages back to
// back (no pacing, no clock reads), each carrying its sequence number; the
// consumer checks every sequence number (nothing lost, nothing reordered, right
// size) and times the N messages after the warm-up, from receipt of the last
// warm-up message to receipt of the last message. Rate = N / that interval.
#pragma once

#include <time.h>

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
void run_throughput_producer(P& producer, const ChildContext& ctx) {
  ControlBlock& control = *ctx.control;
  std::vector<std::byte> message(ctx.message_bytes, std::byte{0x5a});
  while (control.consumer_ready.load(std::memory_order_acquire) == 0) cpu_relax();

  for (std::uint64_t i = 0; i < ctx.total(); ++i) {
    std::memcpy(message.data(), &i, sizeof i);  // MessageHeader::seq
    producer.send(std::span<const std::byte>(message));
  }
  // Keep the endpoint open until everything is consumed (ZeroMQ, sockets): sleep,
  // the consumer's core is not ours.
  const timespec nap{0, 200'000};
  while (control.consumer_done.load(std::memory_order_acquire) == 0) nanosleep(&nap, nullptr);
}

template <ConsumerEndpoint C>
void run_throughput_consumer(C& consumer, const ChildContext& ctx) {
  ControlBlock& control = *ctx.control;
  std::vector<std::byte> buffer(ctx.message_bytes);
  control.consumer_ready.store(1, std::memory_order_release);

  std::uint64_t start_ns = 0;
  for (std::uint64_t i = 0; i < ctx.total(); ++i) {
    const std::size_t size = consumer.receive(std::span<std::byte>(buffer));
    std::uint64_t seq;
    std::memcpy(&seq, buffer.data(), sizeof seq);
    if (seq != i || size != ctx.message_bytes) [[unlikely]] {
      control.received = i;
      throw std::runtime_error("lost or reordered: expected message " + std::to_string(i) + " of " +
                               std::to_string(ctx.message_bytes) + " B, got message " +
                               std::to_string(seq) + " of " + std::to_string(size) + " B");
    }
    if (i + 1 == ctx.warmup) start_ns = monotonic_now_ns();
    if (i % kProgressStride == 0) control.progress.store(i, std::memory_order_relaxed);
  }
  const std::uint64_t end_ns = monotonic_now_ns();
  control.received = ctx.total();
  control.interval_messages = ctx.messages;
  control.interval_ns = end_ns - start_ns;
  control.consumer_done.store(1, std::memory_order_release);
}

}  // namespace shmbus::bench
