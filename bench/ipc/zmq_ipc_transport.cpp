// zmq-ipc: ZeroMQ PUSH -> PULL over ipc:// (a Unix socket file in the harness's
// scratch directory), blocking zmq_send/zmq_recv, SNDHWM/RCVHWM = capacity.
// Each process creates its own context after fork, so each has its own ZeroMQ
// I/O thread, which runs on that process's pinned core. What is timed: the
// application thread -> I/O thread hand-off on both sides plus the socket.
#include <zmq.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "channel.hpp"

namespace shmbus::bench {
namespace {

[[noreturn]] void throw_zmq(const std::string& what) {
  throw std::runtime_error("zmq-ipc: " + what + ": " + zmq_strerror(zmq_errno()));
}

/// One context + one socket, owned by one process.
class ZmqSocket {
 public:
  ZmqSocket(int type, int hwm) : context_(zmq_ctx_new()) {
    if (context_ == nullptr) throw_zmq("zmq_ctx_new");
    socket_ = zmq_socket(context_, type);
    if (socket_ == nullptr) throw_zmq("zmq_socket");
    const int linger_ms = 1000;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_setsockopt(socket_, type == ZMQ_PUSH ? ZMQ_SNDHWM : ZMQ_RCVHWM, &hwm, sizeof hwm);
  }
  ZmqSocket(ZmqSocket&& other) noexcept
      : context_(std::exchange(other.context_, nullptr)),
        socket_(std::exchange(other.socket_, nullptr)) {}
  ZmqSocket& operator=(ZmqSocket&&) = delete;
  ~ZmqSocket() {
    if (socket_ != nullptr) zmq_close(socket_);
    if (context_ != nullptr) zmq_ctx_term(context_);
  }
  void* get() const noexcept { return socket_; }

 private:
  void* context_ = nullptr;
  void* socket_ = nullptr;
};

class ZmqIpcTransport {
 public:
  explicit ZmqIpcTransport(const ChannelConfig& config)
      : path_(config.scratch_dir / (config.resource_prefix + ".zmq")),
        endpoint_("ipc://" + path_.string()),
        hwm_(static_cast<int>(config.capacity)) {}
  ZmqIpcTransport(const ZmqIpcTransport&) = delete;
  ZmqIpcTransport& operator=(const ZmqIpcTransport&) = delete;
  ~ZmqIpcTransport() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);  // left behind if the consumer was killed
  }

  class Producer {
   public:
    explicit Producer(ZmqSocket socket) : socket_(std::move(socket)) {}
    void send(std::span<const std::byte> message) {
      while (zmq_send(socket_.get(), message.data(), message.size(), 0) < 0) {
        if (zmq_errno() != EINTR) throw_zmq("zmq_send");
      }
    }

   private:
    ZmqSocket socket_;
  };

  class Consumer {
   public:
    explicit Consumer(ZmqSocket socket) : socket_(std::move(socket)) {}
    std::size_t receive(std::span<std::byte> buffer) {
      int got;
      while ((got = zmq_recv(socket_.get(), buffer.data(), buffer.size(), 0)) < 0) {
        if (zmq_errno() != EINTR) throw_zmq("zmq_recv");
      }
      return static_cast<std::size_t>(
          got);  // > buffer.size() if truncated: the size check catches it
    }

   private:
    ZmqSocket socket_;
  };

  Producer make_producer() {
    ZmqSocket socket(ZMQ_PUSH, hwm_);
    if (zmq_connect(socket.get(), endpoint_.c_str()) != 0) throw_zmq("connect " + endpoint_);
    return Producer(std::move(socket));
  }
  Consumer make_consumer() {
    ZmqSocket socket(ZMQ_PULL, hwm_);
    if (zmq_bind(socket.get(), endpoint_.c_str()) != 0) throw_zmq("bind " + endpoint_);
    return Consumer(std::move(socket));
  }
  void on_children_attached() {}

 private:
  std::filesystem::path path_;
  std::string endpoint_;
  int hwm_;
};

}  // namespace

TransportEntry zmq_ipc_transport_entry() {
  return make_transport_entry<ZmqIpcTransport>({
      .name = "zmq-ipc",
      .description = "ZeroMQ PUSH/PULL over ipc://",
      .wait = "blocking recv",
  });
}

}  // namespace shmbus::bench
