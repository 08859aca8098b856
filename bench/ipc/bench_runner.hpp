// BenchRunner: turns BenchOptions into cases (transport x mode x message size),
// runs each case `runs` times as separate producer/consumer process pairs, and
// collects the results. Repetitions are interleaved (run 1 of every case, then
// run 2, ...) so slow drift of the machine spreads over all transports alike.
#pragma once

#include <cstdio>
#include <filesystem>
#include <vector>

#include "bench_options.hpp"
#include "channel.hpp"
#include "cpu_affinity.hpp"
#include "run_result.hpp"

namespace shmbus::bench {

/// The registered transports `options` selects; throws std::invalid_argument on an unknown name.
std::vector<const TransportEntry*> select_transports(const BenchOptions& options);

/// Runs everything; prints one line per run to `log`. Stops early when interrupted.
std::vector<CaseResult> run_benchmarks(const BenchOptions& options,
                                       const std::vector<const TransportEntry*>& transports,
                                       const CpuPlan& cpus, const std::filesystem::path& scratch,
                                       std::FILE* log);

/// One producer/consumer pair measuring `entry` once.
RunResult run_once(const TransportEntry& entry, Mode mode, std::size_t message_bytes,
                   const BenchOptions& options, const CpuPlan& cpus,
                   const std::filesystem::path& scratch);

}  // namespace shmbus::bench
