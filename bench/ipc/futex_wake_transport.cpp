// futex-wake: a bare FUTEX_WAKE to a process blocked in FUTEX_WAIT, the floor
// for any blocking subscriber. One shared message buffer and a futex word; the
// producer copies the message, bumps the word and always calls FUTEX_WAKE; the
// consumer sleeps until the word changes. Latency mode only (it is not a queue:
// the harness's one-message-in-flight pacing keeps the buffer safe).
#include <atomic>
#include <cstring>

#include "channel.hpp"
#include "futex.hpp"

namespace shmbus::bench {
namespace {

struct FutexPingBlock {
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> word{0};
  // The message follows on the next cache line.
};
static_assert(sizeof(FutexPingBlock) == kCacheLineBytes);

class FutexWakeTransport {
 public:
  explicit FutexWakeTransport(const ChannelConfig& config)
      : memory_(sizeof(FutexPingBlock) + config.message_bytes),
        block_(new (memory_.data()) FutexPingBlock{}),
        message_bytes_(config.message_bytes) {}

  class Producer {
   public:
    Producer(FutexPingBlock* block, std::size_t message_bytes)
        : block_(block), message_bytes_(message_bytes) {}
    void send(std::span<const std::byte> message) {
      std::memcpy(reinterpret_cast<std::byte*>(block_ + 1), message.data(), message_bytes_);
      block_->word.fetch_add(1, std::memory_order_release);
      futex_wake(&block_->word, 1);
    }

   private:
    FutexPingBlock* block_;
    std::size_t message_bytes_;
  };

  class Consumer {
   public:
    Consumer(FutexPingBlock* block, std::size_t message_bytes)
        : block_(block), message_bytes_(message_bytes) {}
    std::size_t receive(std::span<std::byte> buffer) {
      std::uint32_t word;
      while ((word = block_->word.load(std::memory_order_acquire)) == seen_) {
        futex_wait(&block_->word, seen_);
      }
      seen_ = word;
      std::memcpy(buffer.data(), reinterpret_cast<const std::byte*>(block_ + 1), message_bytes_);
      return message_bytes_;
    }

   private:
    FutexPingBlock* block_;
    std::size_t message_bytes_;
    std::uint32_t seen_ = 0;
  };

  Producer make_producer() { return Producer(block_, message_bytes_); }
  Consumer make_consumer() { return Consumer(block_, message_bytes_); }
  void on_children_attached() {}

 private:
  SharedMapping memory_;
  FutexPingBlock* block_;
  std::size_t message_bytes_;
};

}  // namespace

TransportEntry futex_wake_transport_entry() {
  return make_transport_entry<FutexWakeTransport>({
      .name = "futex-wake",
      .description = "bare FUTEX_WAKE to a process waiting in FUTEX_WAIT",
      .wait = "futex",
      .throughput = false,
  });
}

}  // namespace shmbus::bench
