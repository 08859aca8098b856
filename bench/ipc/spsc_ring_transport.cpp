// spsc-ring: the floor. A minimal SPSC ring in shared memory (spsc_ring.hpp);
// both sides busy-spin. What is timed: copy into a slot + release store of the
// tail, the consumer's spin seeing it, copy out.
#include "channel.hpp"
#include "clock.hpp"
#include "spsc_ring.hpp"

namespace shmbus::bench {
namespace {

class SpscRingTransport {
 public:
  explicit SpscRingTransport(const ChannelConfig& config)
      : memory_(SpscRing::bytes_needed(config.capacity, config.message_bytes)),
        header_(SpscRing::init(memory_.data(), config.capacity, config.message_bytes)) {}

  class Producer {
   public:
    explicit Producer(SpscRingHeader* header) : writer_(header) {}
    void send(std::span<const std::byte> message) {
      while (!writer_.try_push(message)) cpu_relax();
    }

   private:
    SpscRingWriter writer_;
  };

  class Consumer {
   public:
    explicit Consumer(SpscRingHeader* header) : reader_(header) {}
    std::size_t receive(std::span<std::byte> buffer) {
      std::size_t size;
      while ((size = reader_.try_pop(buffer)) == 0) cpu_relax();
      return size;
    }

   private:
    SpscRingReader reader_;
  };

  Producer make_producer() { return Producer(header_); }
  Consumer make_consumer() { return Consumer(header_); }
  void on_children_attached() {}

 private:
  SharedMapping memory_;
  SpscRingHeader* header_;
};

}  // namespace

TransportEntry spsc_ring_transport_entry() {
  return make_transport_entry<SpscRingTransport>({
      .name = "spsc-ring",
      .description = "minimal SPSC shared-memory ring (the floor)",
      .wait = "busy-spin",
  });
}

}  // namespace shmbus::bench
