// spsc-futex: the floor ring plus a sleeping consumer. A consumer that finds the
// ring empty raises a `sleeping` flag and FUTEX_WAITs at once (no spinning first);
// the producer makes a FUTEX_WAKE system call only when it sees that flag, so a
// publish costs no system call while the consumer is awake. What is timed in
// latency mode: push + the wake-up of a sleeping process.
#include <atomic>

#include "channel.hpp"
#include "clock.hpp"
#include "futex.hpp"
#include "spsc_ring.hpp"

namespace shmbus::bench {
namespace {

struct WakeBlock {
  /// 1 while the consumer is (about to be) asleep; cleared by whoever wakes it.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> sleeping{0};
  /// The futex word: bumped by the producer before each FUTEX_WAKE.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> wake_seq{0};
};
static_assert(sizeof(WakeBlock) == 2 * kCacheLineBytes);

class SpscFutexTransport {
 public:
  explicit SpscFutexTransport(const ChannelConfig& config)
      : memory_(sizeof(WakeBlock) + SpscRing::bytes_needed(config.capacity, config.message_bytes)),
        wake_(new (memory_.data()) WakeBlock{}),
        header_(SpscRing::init(memory_.data() + sizeof(WakeBlock), config.capacity,
                               config.message_bytes)) {}

  class Producer {
   public:
    Producer(WakeBlock* wake, SpscRingHeader* header) : wake_(wake), writer_(header) {}
    void send(std::span<const std::byte> message) {
      while (!writer_.try_push(message)) cpu_relax();
      // Dekker with the consumer: our tail store vs. its sleeping store. Either it sees
      // the new tail before sleeping, or we see sleeping == 1 here.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (wake_->sleeping.load(std::memory_order_relaxed) != 0 &&
          wake_->sleeping.exchange(0, std::memory_order_relaxed) != 0) {
        wake_->wake_seq.fetch_add(1, std::memory_order_release);
        futex_wake(&wake_->wake_seq, 1);
      }
    }

   private:
    WakeBlock* wake_;
    SpscRingWriter writer_;
  };

  class Consumer {
   public:
    Consumer(WakeBlock* wake, SpscRingHeader* header) : wake_(wake), reader_(header) {}
    std::size_t receive(std::span<std::byte> buffer) {
      for (;;) {
        if (const std::size_t size = reader_.try_pop(buffer); size != 0) return size;
        const std::uint32_t seen = wake_->wake_seq.load(std::memory_order_acquire);
        wake_->sleeping.store(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (!reader_.has_pending()) futex_wait(&wake_->wake_seq, seen);
        wake_->sleeping.store(0, std::memory_order_relaxed);
      }
    }

   private:
    WakeBlock* wake_;
    SpscRingReader reader_;
  };

  Producer make_producer() { return Producer(wake_, header_); }
  Consumer make_consumer() { return Consumer(wake_, header_); }
  void on_children_attached() {}

 private:
  SharedMapping memory_;
  WakeBlock* wake_;
  SpscRingHeader* header_;
};

}  // namespace

TransportEntry spsc_futex_transport_entry() {
  return make_transport_entry<SpscFutexTransport>({
      .name = "spsc-futex",
      .description = "SPSC ring + futex, consumer sleeps when empty, wake only if asleep",
      .wait = "futex",
  });
}

}  // namespace shmbus::bench
