// NatsLink: the bridge's one NATS connection and JetStream context. Connects in the background
// (an unreachable server is retried with exponential backoff, never waited for by the bus
// dispatcher), keeps reconnecting forever, counts connection events and remembers the last error
// NATS told (bad credentials, permissions) in the bridge's counters.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "bridge/counters.hpp"
#include "shmbus/result.hpp"

namespace shmbus::bridge::detail {

struct LinkOptions {
  std::vector<std::string> urls;
  std::string user, password;
  std::string name;  ///< connection name shown by the server
  int reconnect_buffer_bytes = 8 << 20;
  std::int64_t js_wait_ms = 5000;
  bool send_asap = false;
  std::int64_t max_pending_async = 1 << 16;
  jsPubAckHandler ack_handler = nullptr;
  void* ack_closure = nullptr;
};

class NatsLink {
 public:
  explicit NatsLink(Counters& counters) : counters_(counters) {}
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;
  ~NatsLink();

  /// Creates the connection (connected now or later, in the background). kInvalidArgument for
  /// bad URLs; kPermission when the server refused the credentials at once.
  Result<void> open(const LinkOptions& options);
  natsConnection* connection() const noexcept { return nc_; }
  jsCtx* jetstream() const noexcept { return js_; }
  bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
  /// Bumped on every (re)connection: users that hold server-side state compare it.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  /// True once the connection is closed for good (not retried), e.g. refused credentials.
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  /// True when the last failure was an authorization error (wrong user or password).
  bool auth_failed() const noexcept { return auth_failed_.load(std::memory_order_acquire); }
  /// Closes the connection (flushes what it can within a short time).
  void close() noexcept;

 private:
  static void on_connected(natsConnection* nc, void* self);
  static void on_disconnected(natsConnection* nc, void* self);
  static void on_reconnected(natsConnection* nc, void* self);
  static void on_closed(natsConnection* nc, void* self);
  static void on_error(natsConnection* nc, natsSubscription* sub, natsStatus err, void* self);
  static std::int64_t reconnect_delay(natsConnection* nc, int attempts, void* self);
  void note_error(natsConnection* nc, const char* what);

  Counters& counters_;
  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::atomic<bool> connected_{false}, closed_{false}, auth_failed_{false}, closing_{false};
  std::atomic<std::uint64_t> generation_{0};
};

/// "text (status name)" of a NATS status, with the library's last error text when it has one.
std::string nats_error_text(natsStatus s);

}  // namespace shmbus::bridge::detail
