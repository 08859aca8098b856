// BusSnapshot (shmbus/inspect.hpp) and BarrierStatus as JSON, for `status --json`,
// `agents --json` and `barrier status --json`. Field names are a stable interface for scripts.
#pragma once

#include <nlohmann/json.hpp>

#include "shmbus/barrier.hpp"
#include "shmbus/inspect.hpp"

namespace shmbus::cli {

nlohmann::json agent_to_json(const AgentSnapshot& agent);
nlohmann::json barrier_to_json(const BarrierStatus& barrier);
nlohmann::json snapshot_to_json(const BusSnapshot& snapshot);

}  // namespace shmbus::cli
