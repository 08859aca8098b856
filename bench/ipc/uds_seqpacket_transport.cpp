// uds-seqpacket: a connected pair of Unix domain SOCK_SEQPACKET sockets
// (socketpair, made by the parent before fork), blocking send()/recv(), default
// socket buffer sizes. What is timed: two system calls, two copies, and the
// wake-up of the blocked receiver.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "channel.hpp"

namespace shmbus::bench {
namespace {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

[[noreturn]] void throw_errno(const char* what) {
  throw std::runtime_error(std::string("uds-seqpacket: ") + what + ": " + std::strerror(errno));
}

class UdsSeqpacketTransport {
 public:
  explicit UdsSeqpacketTransport(const ChannelConfig& /*config*/) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) throw_errno("socketpair");
    producer_fd_.reset(fds[0]);
    consumer_fd_.reset(fds[1]);
  }

  class Producer {
   public:
    explicit Producer(UniqueFd fd) : fd_(std::move(fd)) {}
    void send(std::span<const std::byte> message) {
      ssize_t sent;
      do {
        sent = ::send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL);
      } while (sent < 0 && errno == EINTR);
      if (sent != static_cast<ssize_t>(message.size())) throw_errno("send");
    }

   private:
    UniqueFd fd_;
  };

  class Consumer {
   public:
    explicit Consumer(UniqueFd fd) : fd_(std::move(fd)) {}
    std::size_t receive(std::span<std::byte> buffer) {
      ssize_t got;
      do {
        got = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
      } while (got < 0 && errno == EINTR);
      if (got < 0) throw_errno("recv");
      if (got == 0) throw std::runtime_error("uds-seqpacket: producer closed the socket");
      return static_cast<std::size_t>(got);
    }

   private:
    UniqueFd fd_;
  };

  // Each child keeps its own end and closes the other, so a peer's death is seen as EOF/EPIPE.
  Producer make_producer() {
    consumer_fd_.reset();
    return Producer(std::move(producer_fd_));
  }
  Consumer make_consumer() {
    producer_fd_.reset();
    return Consumer(std::move(consumer_fd_));
  }
  void on_children_attached() {
    producer_fd_.reset();
    consumer_fd_.reset();
  }

 private:
  UniqueFd producer_fd_;
  UniqueFd consumer_fd_;
};

}  // namespace

TransportEntry uds_seqpacket_transport_entry() {
  return make_transport_entry<UdsSeqpacketTransport>({
      .name = "uds-seqpacket",
      .description = "Unix domain socket pair, SOCK_SEQPACKET, send/recv",
      .wait = "blocking recv",
  });
}

}  // namespace shmbus::bench
