// Reports of shmbus-scaling-bench: a line per run while it goes, then markdown
// (one table per scenario, every figure also as a ratio to the scenario's own
// baseline row, the machine and the command line above them) and JSON (every run,
// plus median, min, max and ratio per figure). Every figure comes from the runs.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "ipc/cpu_affinity.hpp"
#include "ipc/machine_info.hpp"
#include "scaling_options.hpp"
#include "scaling_result.hpp"

namespace shmbus::bench::scaling {

struct ReportContext {
  const ScalingOptions& options;
  const CpuPlan& cpus;
  const MachineInfo& machine;
};

void print_run_line(std::FILE* out, const RowResult& row, const ScalingRun& run, int run_index,
                    int runs);
std::string markdown_report(const std::vector<RowResult>& rows, const ReportContext& ctx);
std::string json_report(const std::vector<RowResult>& rows, const ReportContext& ctx);

/// "producers on CPU 0, subscribers on CPU 1" or "not pinned (...)": for logs and reports.
std::string pinning_text(const CpuPlan& cpus);

}  // namespace shmbus::bench::scaling
