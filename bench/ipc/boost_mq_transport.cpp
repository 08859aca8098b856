// boost-mq and boost-mq-poll: Boost.Interprocess message_queue, a named POSIX
// shared-memory object with a process-shared mutex and condition variables.
// Blocking variant: send() / receive() (the consumer sleeps on the condition).
// Busy-poll variant: try_send() / try_receive() in a spin loop. What is timed:
// the copy in, the lock/signal dance, and the copy out.
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/permissions.hpp>
#include <memory>
#include <stdexcept>
#include <string>

#include "channel.hpp"
#include "clock.hpp"

namespace shmbus::bench {
namespace {

namespace bip = boost::interprocess;

template <bool kBusyPoll>
class BoostMqTransport {
 public:
  explicit BoostMqTransport(const ChannelConfig& config)
      : name_(config.resource_prefix + ".mq"), message_bytes_(config.message_bytes) {
    bip::message_queue::remove(name_.c_str());
    try {
      bip::permissions owner_only(0600);
      queue_ = std::make_unique<bip::message_queue>(
          bip::create_only, name_.c_str(), config.capacity, config.message_bytes, owner_only);
      named_ = true;
    } catch (const bip::interprocess_exception& e) {
      throw std::runtime_error("message_queue " + name_ + ": " + e.what());
    }
  }
  BoostMqTransport(const BoostMqTransport&) = delete;
  BoostMqTransport& operator=(const BoostMqTransport&) = delete;
  ~BoostMqTransport() { remove_name(); }

  class Producer {
   public:
    explicit Producer(const std::string& name) : queue_(open(name)) {}
    void send(std::span<const std::byte> message) {
      if constexpr (kBusyPoll) {
        while (!queue_->try_send(message.data(), message.size(), 0)) cpu_relax();
      } else {
        queue_->send(message.data(), message.size(), 0);
      }
    }

   private:
    std::unique_ptr<bip::message_queue> queue_;
  };

  class Consumer {
   public:
    explicit Consumer(const std::string& name) : queue_(open(name)) {}
    std::size_t receive(std::span<std::byte> buffer) {
      bip::message_queue::size_type size = 0;
      unsigned int priority = 0;
      if constexpr (kBusyPoll) {
        while (!queue_->try_receive(buffer.data(), buffer.size(), size, priority)) cpu_relax();
      } else {
        queue_->receive(buffer.data(), buffer.size(), size, priority);
      }
      return size;
    }

   private:
    std::unique_ptr<bip::message_queue> queue_;
  };

  Producer make_producer() { return Producer(name_); }
  Consumer make_consumer() { return Consumer(name_); }
  /// Both children have the queue mapped: its name is no longer needed.
  void on_children_attached() { remove_name(); }

 private:
  static std::unique_ptr<bip::message_queue> open(const std::string& name) {
    try {
      return std::make_unique<bip::message_queue>(bip::open_only, name.c_str());
    } catch (const bip::interprocess_exception& e) {
      throw std::runtime_error("message_queue " + name + ": open: " + e.what());
    }
  }
  void remove_name() noexcept {
    if (named_) bip::message_queue::remove(name_.c_str());
    named_ = false;
  }

  std::string name_;
  std::size_t message_bytes_;
  std::unique_ptr<bip::message_queue> queue_;  // the parent's (creator's) handle
  bool named_ = false;
};

}  // namespace

TransportEntry boost_mq_blocking_transport_entry() {
  return make_transport_entry<BoostMqTransport<false>>({
      .name = "boost-mq",
      .description = "Boost.Interprocess message_queue, send/receive",
      .wait = "blocking (process-shared condvar)",
  });
}

TransportEntry boost_mq_poll_transport_entry() {
  return make_transport_entry<BoostMqTransport<true>>({
      .name = "boost-mq-poll",
      .description = "Boost.Interprocess message_queue, try_send/try_receive spin",
      .wait = "busy-poll",
  });
}

}  // namespace shmbus::bench
