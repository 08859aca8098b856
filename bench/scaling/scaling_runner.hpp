// ScalingRunner: turns ScalingOptions into report rows, runs each row `runs`
// times, each run a fresh group of processes on a fresh bus, and collects the
// results. Repetitions are interleaved (run 1 of every row, then run 2, ...) so
// slow drift of the machine spreads over all rows alike; the priority scenario's
// two rows (CRITICAL alone, then under the flood) run back to back.
#pragma once

#include <cstdio>
#include <vector>

#include "ipc/cpu_affinity.hpp"
#include "scaling_options.hpp"
#include "scaling_result.hpp"

namespace shmbus::bench::scaling {

/// The rows `options` asks for, in report order.
std::vector<RowSpec> plan_rows(const ScalingOptions& options);

/// Runs every row; prints a line per run to `log`. Stops early when interrupted.
std::vector<RowResult> run_rows(const ScalingOptions& options, const CpuPlan& cpus, std::FILE* log);

/// One measurement of `row`: forks its processes, watches them, collects the figures.
/// Producers run on cpus.producer_cpu, subscribers on cpus.consumer_cpu (when set).
ScalingRun run_once(const RowSpec& row, const ScalingOptions& options, const CpuPlan& cpus);

}  // namespace shmbus::bench::scaling
