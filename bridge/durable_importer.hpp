// DurableImporter: imports one origin bus's durable topics from its JetStream stream through a
// durable consumer, on a thread of its own and through a bus agent of its own (so the
// producer sequences of its events are its alone). Each message's events are published locally
// one by one, each marked imported by its origin ring position in the high-water-mark file
// (hwm_file.hpp); then the message is marked done and acked. The consumer is (re)created at
// start, after every reconnection and after any gap in its delivery sequence, from the first
// stream sequence not done: delivery stays in stream order with no loss, and redeliveries of
// what is done are acked and skipped (no duplicate).
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "bridge/counters.hpp"
#include "bridge/hwm_file.hpp"
#include "bridge/import_sink.hpp"
#include "bridge/nats_link.hpp"
#include "shmbus/bridge.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::bridge::detail {

class DurableImporter {
 public:
  DurableImporter(const BridgeOptions& options, Counters& counters, NatsLink& link,
                  std::string origin_bus);
  DurableImporter(const DurableImporter&) = delete;
  DurableImporter& operator=(const DurableImporter&) = delete;
  ~DurableImporter();

  /// Attaches its agent, opens the mark and settles an in-flight publish left by a killed
  /// predecessor. Then start() runs the thread.
  Result<void> open();
  void start();
  void stop() noexcept;
  std::uint32_t agent_index() const noexcept { return bus_->agent_index(); }

 private:
  void run() noexcept;
  bool reset_consumer() noexcept;
  void drop_consumer() noexcept;
  void handle(natsMsg* msg) noexcept;
  /// Publishes event `index` of stream sequence `sseq` locally (intent, publish, mark),
  /// retrying while the bus cannot take it; false when the bridge stops meanwhile.
  bool publish(std::string_view subject, PreparedMessage& m, const WireEvent& w,
               std::size_t wire_bytes, std::uint64_t sseq, std::uint64_t index) noexcept;
  bool ack(natsMsg* msg) noexcept;

  /// Where a crash test has this process SIGKILLed (SHMBUS_BRIDGE_FAULT, read once at
  /// construction): at one step of the first event imported after a message's first event.
  enum class Fault : std::uint8_t { kNone, kBeforePublish, kAfterPublish, kAfterMark };
  static Fault fault_from_env() noexcept;
  /// SIGKILLs this process when `at` is the configured fault and `index` is past the first.
  void fault_point(Fault at, std::uint64_t index) const noexcept;

  const BridgeOptions& options_;
  Counters& c_;
  NatsLink& link_;
  std::string origin_;
  std::string stream_, durable_, filter_, agent_, deliver_;
  std::optional<Bus> bus_;
  std::optional<ImportSink> sink_;
  HwmFile hwm_;
  std::uint64_t done_ = 0;
  std::uint64_t claims_ = 0;  // producer sequences this agent took
  natsSubscription* sub_ = nullptr;
  std::uint64_t link_gen_ = 0;
  std::uint64_t last_consumer_seq_ = 0;
  Fault fault_ = Fault::kNone;
  bool need_reset_ = true;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace shmbus::bridge::detail
