// Channel: the type-erased form of one Transport object, so the harness can run
// any registered transport while the per-message loops are still compiled
// against the concrete endpoint types (no virtual call per message).
// make_transport_entry<T>() is what a transport file returns to the registry.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <utility>

#include "child_context.hpp"
#include "latency_loop.hpp"
#include "throughput_loop.hpp"
#include "transport.hpp"

namespace shmbus::bench {

class Channel {
 public:
  virtual ~Channel() = default;
  /// Runs in the producer process; throws on failure.
  virtual void run_producer(const ChildContext& ctx) = 0;
  /// Runs in the consumer process; throws on failure.
  virtual void run_consumer(const ChildContext& ctx) = 0;
  /// Runs in the parent once both children signalled that their endpoint exists.
  virtual void on_children_attached() = 0;
};

/// Hangs or crashes the calling child when the self-test asks for it.
inline void inject_fault(Fault fault, bool is_producer) {
  if ((fault == Fault::kConsumerHang && !is_producer) ||
      (fault == Fault::kProducerHang && is_producer)) {
    for (;;) pause();
  }
  if (fault == Fault::kConsumerCrash && !is_producer) raise(SIGSEGV);
}

template <Transport T>
class TransportChannel final : public Channel {
 public:
  explicit TransportChannel(const ChannelConfig& config) : transport_(config) {}

  void run_producer(const ChildContext& ctx) override {
    auto producer = transport_.make_producer();
    ctx.control->producer_ready.store(1, std::memory_order_release);
    inject_fault(ctx.fault, true);
    if (ctx.mode == Mode::kLatency) {
      run_latency_producer(producer, ctx);
    } else {
      run_throughput_producer(producer, ctx);
    }
  }

  void run_consumer(const ChildContext& ctx) override {
    auto consumer = transport_.make_consumer();
    if (ctx.fault != Fault::kNone) {
      ctx.control->consumer_ready.store(1, std::memory_order_release);
      inject_fault(ctx.fault, false);
    }
    if (ctx.mode == Mode::kLatency) {
      run_latency_consumer(consumer, ctx);
    } else {
      run_throughput_consumer(consumer, ctx);
    }
  }

  void on_children_attached() override { transport_.on_children_attached(); }

 private:
  T transport_;
};

/// A registered transport: how to list it and how to open a channel of it.
struct TransportEntry {
  TransportInfo info;
  /// Called in the parent; throws std::exception when the transport cannot be set up.
  std::function<std::unique_ptr<Channel>(const ChannelConfig&)> open_channel;
};

template <Transport T>
TransportEntry make_transport_entry(TransportInfo info) {
  return TransportEntry{std::move(info), [](const ChannelConfig& config) {
                          return std::unique_ptr<Channel>(new TransportChannel<T>(config));
                        }};
}

}  // namespace shmbus::bench
