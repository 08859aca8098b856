// The barrier registry (cold path): names, create / remove / find under the control mutex,
// participants' liveness (drop the dead ones) and the status any process can read. Used by the
// Barrier facade (shm/barrier.cpp) and the supervisor's enforcer.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shm/agent_table.hpp"
#include "shm/barrier_table.hpp"
#include "shm/segment.hpp"
#include "shmbus/barrier_types.hpp"
#include "shmbus/result.hpp"

namespace shmbus::detail {

/// Checks a barrier name: 1..31 characters of [A-Za-z0-9_.-]. Empty string when valid.
std::string validate_barrier_name(std::string_view name);
std::string barrier_name(const BarrierHeader& header);
std::string participant_name(const BarrierParticipant& participant);

/// Creates a barrier under the control mutex (idempotent for an identical definition) and
/// returns its record index.
Result<std::uint32_t> create_barrier(Segment& segment, std::string_view name,
                                     std::span<const std::string> participants,
                                     std::uint64_t timeout_ns);
Result<void> remove_barrier(Segment& segment, std::string_view name);
/// Index of the active barrier `name`; kNotFound when none. Lock-free.
Result<std::uint32_t> find_barrier(const BarrierTable& table, std::string_view name);
/// Participant index of `agent` in barrier `b`, or kNoAgent.
std::uint32_t find_participant(const BarrierTable& table, std::uint32_t b,
                               std::string_view agent) noexcept;

/// True when the agent `ref` (make_agent_ref) still holds its record: same epoch, ACTIVE, and
/// its liveness lock held. `self` (this handle's own agent, whose lock is on our own open file
/// description and so never "held by another") counts as alive.
bool agent_ref_alive(Segment& segment, std::uint64_t ref, std::uint32_t self) noexcept;

/// Status of barrier `b` as of `now_ns` (CLOCK_MONOTONIC); `self` as for agent_ref_alive.
BarrierStatus read_status(const BarrierTable& table, std::uint32_t b, std::uint64_t now_ns,
                          std::uint32_t self = kNoAgent);
/// Status of every active barrier, in record order (barrier.hpp's list_barriers, inspect_bus).
std::vector<BarrierStatus> read_all_status(const BarrierTable& table, std::uint64_t now_ns,
                                           std::uint32_t self = kNoAgent);

/// Drops participants of barrier `b` whose bound agent is gone; calls `on_drop(p)` for each.
/// Wakes the waiter when one was dropped (the round may be complete now).
void drop_dead_participants(const BarrierTable& table, std::uint32_t b, std::uint32_t self,
                            const std::function<void(std::uint32_t participant)>& on_drop);

}  // namespace shmbus::detail
