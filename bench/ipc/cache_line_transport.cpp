// cache-line: one 64-byte cache line bounced between the two processes, the
// hardware floor under any shared-memory transport. The producer writes the
// message and a sequence word into the line; the consumer spins until the word
// changes, copies the message out, and acks by writing the same line, so one
// line goes there and back (its rtt/2 is the classic ping-pong/2). It holds at
// most 56 message bytes; latency mode only (not a queue).
#include <atomic>
#include <cstring>

#include "channel.hpp"
#include "clock.hpp"

namespace shmbus::bench {
namespace {

inline constexpr std::size_t kLineMessageBytes = 56;

struct alignas(kCacheLineBytes) BouncedLine {
  std::atomic<std::uint32_t> seq{0};  ///< written by the producer: messages sent
  std::atomic<std::uint32_t> ack{0};  ///< written by the consumer: messages handled
  std::byte message[kLineMessageBytes] = {};
};
static_assert(sizeof(BouncedLine) == kCacheLineBytes, "the whole exchange is one cache line");

class CacheLineTransport {
 public:
  explicit CacheLineTransport(const ChannelConfig& config)
      : memory_(sizeof(BouncedLine)),
        line_(new (memory_.data()) BouncedLine{}),
        message_bytes_(config.message_bytes) {
    if (message_bytes_ > kLineMessageBytes) {
      throw std::runtime_error("cache-line carries at most 56 bytes per message");
    }
  }

  class Producer {
   public:
    Producer(BouncedLine* line, std::size_t message_bytes)
        : line_(line), message_bytes_(message_bytes) {}
    void send(std::span<const std::byte> message) {
      std::memcpy(line_->message, message.data(), message_bytes_);
      line_->seq.store(++sent_, std::memory_order_release);
    }
    void wait_ack(std::uint64_t count) {
      const auto want = static_cast<std::uint32_t>(count);
      while (line_->ack.load(std::memory_order_acquire) != want) cpu_relax();
    }

   private:
    BouncedLine* line_;
    std::size_t message_bytes_;
    std::uint32_t sent_ = 0;
  };

  class Consumer {
   public:
    Consumer(BouncedLine* line, std::size_t message_bytes)
        : line_(line), message_bytes_(message_bytes) {}
    std::size_t receive(std::span<std::byte> buffer) {
      while (line_->seq.load(std::memory_order_acquire) == seen_) cpu_relax();
      ++seen_;
      std::memcpy(buffer.data(), line_->message, message_bytes_);
      return message_bytes_;
    }
    void ack(std::uint64_t count) {
      line_->ack.store(static_cast<std::uint32_t>(count), std::memory_order_release);
    }

   private:
    BouncedLine* line_;
    std::size_t message_bytes_;
    std::uint32_t seen_ = 0;
  };

  Producer make_producer() { return Producer(line_, message_bytes_); }
  Consumer make_consumer() { return Consumer(line_, message_bytes_); }
  void on_children_attached() {}

 private:
  SharedMapping memory_;
  BouncedLine* line_;
  std::size_t message_bytes_;
};

}  // namespace

TransportEntry cache_line_transport_entry() {
  return make_transport_entry<CacheLineTransport>({
      .name = "cache-line",
      .description = "one shared cache line bounced between the processes",
      .wait = "busy-spin",
      .throughput = false,
      .max_message_bytes = kLineMessageBytes,
  });
}

}  // namespace shmbus::bench
