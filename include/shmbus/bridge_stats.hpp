// The figures a bridge (shmbus-bridge, shmbus/bridge.hpp) publishes about itself, readable by
// any process without its cooperation: a small STATS file in the bridge's state directory, found
// through a registration link /dev/shm/shmbus-bridge.<bus>@<agent>; the bridge holds a lock on
// its directory for its life. The journal's recorder works the same way (both are agent
// directories, shm/agent_dir.hpp). `shmbus status` and the supervisor's metrics read it.
// Needs no NATS library: the readers live in shmbus_bridge_stats.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"

namespace shmbus::bridge {

/// Counters of one direction (local bus -> NATS, or NATS -> local bus).
struct DirectionStats {
  std::uint64_t messages = 0;  ///< forwarded (export: handed to NATS; import: published locally)
  std::uint64_t bytes = 0;     ///< wire bytes of those messages
  std::uint64_t lag_ns = 0;    ///< last message: forward time less the origin's publish time
  std::array<std::uint64_t, kPriorityCount> shed{};  ///< dropped by backpressure, per priority
  std::uint64_t acked = 0;       ///< export: JetStream acks; import: acks sent after publish
  std::uint64_t pending = 0;     ///< export: durable messages not acked yet
  std::uint64_t retries = 0;     ///< export: durable resends; import: local publish retries
  std::uint64_t duplicates = 0;  ///< import: redeliveries already published; export: dup acks
  std::uint64_t rejected = 0;    ///< import: bad messages (see the reject_* counters)
};

struct BridgeStats {
  std::uint64_t pid = 0;
  std::uint64_t connected = 0;   ///< 1 while the NATS connection is up
  std::uint64_t reconnects = 0;  ///< successful reconnections
  std::uint64_t disconnects = 0;
  DirectionStats out;        ///< exports
  DirectionStats in;         ///< imports
  std::uint64_t missed = 0;  ///< ring positions the bridge's subscriber lost while untethered
  std::uint64_t loops_dropped = 0;     ///< imports whose origin is this bus (never re-published)
  std::uint64_t reject_subject = 0;    ///< subject that maps to no topic
  std::uint64_t reject_version = 0;    ///< unknown wire magic or schema version
  std::uint64_t reject_too_large = 0;  ///< payload larger than the bus's max_payload_bytes
  std::uint64_t reject_other = 0;      ///< malformed, topic refused by the bus
  std::uint64_t updated_ns = 0;        ///< CLOCK_REALTIME of the last update
  char last_error[200] = {};           ///< last error told by NATS or the bridge, NUL-terminated
};

/// The counters a bridge keeps in `dir`/STATS. kNotFound when there is none.
Result<BridgeStats> read_bridge_stats(const std::string& dir);

/// /dev/shm/shmbus-bridge.<bus>@<agent>: a symbolic link to the bridge's state directory.
std::string bridge_registration_path(std::string_view bus, std::string_view agent);

/// One registered bridge of a bus.
struct BusBridge {
  std::string agent;  ///< the bridge's agent name
  std::string dir;    ///< its state directory
  bool running = false;  ///< a process holds the state directory's lock (told by the kernel)
  BridgeStats stats;
  std::string error;  ///< why stats could not be read; empty when they were
};

/// The bridges registered for `bus`, by agent name. Never fails.
std::vector<BusBridge> list_bus_bridges(std::string_view bus);

}  // namespace shmbus::bridge
