// Subscription vocabulary: the handler type a subscriber registers, its options and the id that
// removes it. Used by Bus::on / once / on_any (bus.hpp) and by the core's subscription table.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "shmbus/event.hpp"

namespace shmbus {

/// Called on the dispatching thread for every matching event. The view is valid during the
/// call only; copy what outlives it.
using Handler = std::function<void(const EventView&)>;
/// Names one subscription (Bus::off).
using SubscriptionId = std::uint64_t;

/// Per-handler options.
struct HandlerOptions {
  /// Name used in error reports and statistics ("risk.check_limits"); defaults to the pattern.
  std::string name;
};

}  // namespace shmbus
