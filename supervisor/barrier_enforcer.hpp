// The supervisor's periodic pass over every barrier: drops participants whose agent died and
// closes rounds past their deadline, even when the waiter is slow or dead. Used by
// supervisor/supervisor.cpp (and the barrier tests, which drive it with a chosen time).
#pragma once

#include <cstdint>
#include <functional>

#include "shm/agent_table.hpp"
#include "shm/barrier_round.hpp"
#include "shm/segment.hpp"

namespace shmbus::detail {

using BarrierEnforcementSink = std::function<void(const BarrierEnforcement&)>;

/// The supervisor's periodic pass over every barrier (call it every few milliseconds; cold, no
/// lock taken): drops participants whose bound agent died (the kernel released its liveness
/// lock) or detached, closes rounds whose deadline (first arrival + timeout) is at or before
/// `now_ns` (CLOCK_MONOTONIC) even when the waiter is slow or dead, and finishes rounds a dead
/// closer left half-closed. Calls `sink` once per round it advanced and per participant it
/// dropped, so the caller can publish sys.barrier.completed / sys.barrier.timeout (with
/// to_completed_event / to_timeout_event, shm/barrier_round.hpp) and log drops. Safe to run
/// concurrently with waiters, participants and other enforcers: closing is idempotent and exactly
/// one closer advances a round (and so reports it). `self` is the caller's own agent index, if it
/// is an agent.
void enforce_barriers(Segment& segment, std::uint64_t now_ns, const BarrierEnforcementSink& sink,
                      std::uint32_t self = kNoAgent);

}  // namespace shmbus::detail
