// CoreImporter: plain NATS subscriptions for the imported topic patterns (on every origin bus, or
// on the --from-bus ones), delivered by the client's one delivery thread into an ImportSink. At
// most once: what the local bus cannot take now is shed and counted, never waited for.
#pragma once

#include <nats/nats.h>

#include <optional>
#include <string>
#include <vector>

#include "bridge/counters.hpp"
#include "bridge/import_sink.hpp"
#include "bridge/nats_link.hpp"
#include "shmbus/bridge.hpp"

namespace shmbus::bridge::detail {

class CoreImporter {
 public:
  CoreImporter(const BridgeOptions& options, Counters& counters, Bus& bus);
  CoreImporter(const CoreImporter&) = delete;
  CoreImporter& operator=(const CoreImporter&) = delete;
  ~CoreImporter();
  /// Subscribes (the client re-sends subscriptions itself after a reconnection).
  Result<void> subscribe(NatsLink& link);
  void unsubscribe() noexcept;

 private:
  static void on_msg(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* self);
  const BridgeOptions& options_;
  ImportSink sink_;
  std::vector<natsSubscription*> subs_;
};

}  // namespace shmbus::bridge::detail
