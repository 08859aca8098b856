// The transport registry: every transport the harness can measure, in report
// order. Transports are added in transport_registry.cpp (one line each); the
// shmbus transport goes in the marked section there.
#pragma once

#include <string_view>
#include <vector>

#include "channel.hpp"

namespace shmbus::bench {

/// The floor every figure is also reported against (ratio column).
inline constexpr std::string_view kFloorTransport = "spsc-ring";

/// All transports compiled into this binary.
const std::vector<TransportEntry>& transport_registry();

/// Peers that exist in principle but were left out of this build, with the reason
/// ("zmq-ipc: libzmq not found at configure time").
const std::vector<std::string_view>& transports_not_built();

}  // namespace shmbus::bench
