// The plug-in interface every measured transport implements (the peers and,
// later, shmbus itself). A transport is a plain class checked by the
// `Transport` concept; channel.hpp turns it into a registry entry. See
// bench/README.md "Adding a transport".
//
// Life of a transport object T, for one run:
//   parent:    T t(config);            create shared resources (rings, queues, sockets)
//   parent:    fork producer and consumer; each child has its own copy of `t`
//   producer:  auto p = t.make_producer();  then p.send(msg) per message
//   consumer:  auto c = t.make_consumer();  then c.receive(buf) per message
//   parent:    t.on_children_attached();    both children have made their endpoint:
//                                           drop names/fds the parent no longer needs
//   parent:    ~T()                         after both children exited or were killed:
//                                           unlink everything that is still named
// The children leave with _exit(), so ~T() runs in the parent only; endpoints are
// destroyed in the child that made them.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>

namespace shmbus::bench {

/// What the parent tells a transport when it creates one.
struct ChannelConfig {
  /// Every message of the run has exactly this many bytes (header + payload).
  std::size_t message_bytes = 64;
  /// Queue depth in messages, for transports that have one (rings, message_queue, ZMQ HWM).
  std::size_t capacity = 1024;
  /// Unique per channel, e.g. "shmbus-bench.4242.7": prefix for every named resource
  /// (POSIX shm objects, socket files). The harness sweeps stale ones of dead pids.
  std::string resource_prefix;
  /// Private directory for socket files; removed by the harness at exit.
  std::filesystem::path scratch_dir;
};

/// Producer side, used in the producer process only. `send` returns once the message
/// has been handed over (queued or delivered); it waits (spins or blocks, as the
/// transport does) while the transport is full. It throws std::runtime_error on failure.
template <class P>
concept ProducerEndpoint = requires(P& p, std::span<const std::byte> message) {
  p.send(message);
};

/// Consumer side, used in the consumer process only. `receive` waits (spins or blocks,
/// as the transport does) for the next message, copies it into `buffer` and returns
/// its size. It throws std::runtime_error on failure.
template <class C>
concept ConsumerEndpoint = requires(C& c, std::span<std::byte> buffer) {
  { c.receive(buffer) } -> std::same_as<std::size_t>;
};

/// Optional: a transport may carry the latency-mode ack itself (the cache-line peer
/// bounces one line both ways). Otherwise the harness acks through its ControlBlock.
template <class P>
concept AckWaitingProducer = requires(P& p, std::uint64_t count) {
  p.wait_ack(count);
};
template <class C>
concept AckingConsumer = requires(C& c, std::uint64_t count) {
  c.ack(count);
};

template <class T>
concept Transport = std::constructible_from<T, const ChannelConfig&> && requires(T& t) {
  { t.make_producer() } -> ProducerEndpoint;
  { t.make_consumer() } -> ConsumerEndpoint;
  t.on_children_attached();
};

/// How a transport is listed, selected and reported.
struct TransportInfo {
  std::string name;         ///< --transport value, e.g. "spsc-ring"
  std::string description;  ///< one line: the mechanism
  std::string wait;         ///< how the consumer waits: "busy-spin", "futex", "blocking recv"...
  bool latency = true;      ///< measured in latency mode
  bool throughput = true;   ///< measured in throughput mode (needs a real queue)
  /// Largest message it can carry; a larger --payload runs at this size, noted in the report.
  std::size_t max_message_bytes = std::numeric_limits<std::size_t>::max();
};

}  // namespace shmbus::bench
