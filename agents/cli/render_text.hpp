// Human-readable tables of a BusSnapshot: `shmbus status`, `shmbus agents` and the frames of
// `shmbus top` (which adds event rates from the previous frame).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shmbus/inspect.hpp"

namespace shmbus::cli {

std::string render_status(const BusSnapshot& s);
std::string render_agents(const BusSnapshot& s);
std::string render_barriers(const BusSnapshot& s);
/// Delivery latency of one agent over a frame (from shmbus/stats.hpp histograms): upper bounds
/// of the log2 buckets holding p50 and p99.
struct AgentLatency {
  std::uint32_t index = 0;
  std::uint64_t samples = 0;
  std::uint64_t p50_ns = 0;
  std::uint64_t p99_ns = 0;
};

/// One `top` frame; `previous` (may be null) gives the rates over the interval since, and
/// `latency` (may be empty) the delivery latency per agent.
std::string render_top(const BusSnapshot& s, const BusSnapshot* previous,
                       const std::vector<AgentLatency>& latency);

}  // namespace shmbus::cli
