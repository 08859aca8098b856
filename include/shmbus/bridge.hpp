// Bridge: forwards chosen topics between the local bus and NATS, so buses on several hosts act
// as one. Topic `order.filled` of bus B is subject `shmbus.B.order.filled`. Exports are a bus
// subscriber that never holds local producers back (shed by priority when the link is slow,
// counted); imports publish into the local bus with the origin's priority. Durable topics go
// through JetStream (acks, de-duplication by a stable event id, a durable consumer resumed with
// no loss and no duplicate); the others through plain NATS. Wire format: docs/bridge.md.
// Used by the shmbus-bridge agent; links the NATS C client (target shmbus_bridge).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shmbus/bridge_stats.hpp"
#include "shmbus/config.hpp"
#include "shmbus/result.hpp"

namespace shmbus::bridge {

enum class WireFormat : std::uint8_t {
  kBinary,  ///< compact, versioned (docs/bridge.md)
  kJson,    ///< for debugging: readable with `nats sub`
};

struct BridgeOptions {
  std::string bus;  ///< local bus (no '.' in the name: it is one subject token)
  std::string agent_name = "bridge";
  std::vector<std::string> nats_urls;   ///< nats://host:port, tried in turn
  std::string user, password;           ///< NATS credentials, when the server wants them
  std::vector<std::string> exports;     ///< local topic patterns sent to NATS
  std::vector<std::string> imports;     ///< topic patterns taken from NATS
  std::vector<std::string> from_buses;  ///< limit imports to these origin buses (empty: all)
  std::vector<std::string> durable;     ///< patterns carried by JetStream (the rest: core NATS)
  WireFormat format = WireFormat::kBinary;
  /// State directory: the STATS file and the import high-water marks. Created when missing.
  std::string state_dir;
  /// JetStream stream replicas when the bridge creates its bus's stream (1 or 3 in a cluster).
  int replicas = 1;
  /// Durable exports not yet acknowledged that the bridge keeps for resending; beyond it, new
  /// durable events are shed (LOW first: see docs/bridge.md).
  std::uint32_t export_window = 16384;
  /// Bytes buffered by the NATS client beyond which core exports are shed by priority.
  std::uint32_t core_buffer_limit = 8u << 20;
  /// Write each message to the socket at once instead of letting the client's flusher batch
  /// them: lowest latency, one system call per message (the dispatcher thread pays it).
  bool send_asap = false;
  /// Exports in the binary format: consecutive events of one topic that one dispatcher poll
  /// hands over travel as one NATS message (core: a batch frame, wire version 2; durable: one
  /// JetStream message holding a durable batch frame, version 3) of at most this many events
  /// and `batch_max_bytes` bytes, sent when the poll drains, so a lone event still leaves at
  /// once. 1: one event per message in version 1, which bridges older than the batch frames
  /// read. JSON is always one event per message.
  std::uint32_t batch_max_events = 256;
  std::uint32_t batch_max_bytes = 32u << 10;
  /// How the bridge's dispatcher waits for local events: kBlock sleeps on the bus's futex (a
  /// publisher's wake-up costs a system call and a context switch), kSpinYield yields the core,
  /// kBusySpin spins (lowest latency, burns a core).
  WaitStrategy wait = WaitStrategy::kBlock;
  /// How long an async JetStream publish waits for its ack before it is resent.
  std::chrono::milliseconds ack_timeout{2000};
  /// Start the exports from the rings' history (durable topics only: JetStream drops what it
  /// already holds), so events published while the bridge was down still leave.
  bool resume_from_history = true;
};

class Bridge {
 public:
  /// Validates the options, attaches to the bus and starts connecting to NATS (in the
  /// background: an unreachable server does not fail open, it is retried with backoff and
  /// reported). Errors: kInvalidArgument (options), those of Bus::attach.
  static Result<Bridge> open(const BridgeOptions& options);
  Bridge(Bridge&&) noexcept;
  Bridge& operator=(Bridge&&) noexcept;
  ~Bridge();

  /// Forwards until stop(). Returns an error when NATS refuses the bridge for good (bad
  /// credentials, permissions).
  Result<void> run();
  /// Makes run() return soon. Any thread, async-signal-safe.
  void stop() noexcept;
  BridgeStats stats() const noexcept;

 private:
  struct Impl;
  explicit Bridge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shmbus::bridge
