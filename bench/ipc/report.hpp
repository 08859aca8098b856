// Reports of a finished (or interrupted) benchmark: a line per run while it
// goes, then a text summary, JSON, a markdown table with every figure also as
// a ratio to the floor transport, and data files for gnuplot.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "bench_options.hpp"
#include "cpu_affinity.hpp"
#include "machine_info.hpp"
#include "number_format.hpp"
#include "run_result.hpp"

namespace shmbus::bench {

struct ReportContext {
  const BenchOptions& options;
  const CpuPlan& cpus;
  const MachineInfo& machine;
  std::vector<std::string_view> not_built;
};

/// The floor's case for the same mode and message size, if it was run and succeeded.
const CaseResult* find_floor_case(const std::vector<CaseResult>& cases, const CaseResult& of);

void print_run_line(std::FILE* out, const CaseResult& c, const RunResult& run, int run_index,
                    int runs);
void print_summary(std::FILE* out, const std::vector<CaseResult>& cases, const ReportContext& ctx);
std::string json_report(const std::vector<CaseResult>& cases, const ReportContext& ctx);
std::string markdown_report(const std::vector<CaseResult>& cases, const ReportContext& ctx);
/// Writes latency.dat (first latency size) and throughput.dat into `dir`.
void write_plot_data(const std::filesystem::path& dir, const std::vector<CaseResult>& cases);

/// "wedged: ..." texts of a case's failed runs, joined.
std::string failed_runs_text(const CaseResult& c);

}  // namespace shmbus::bench
