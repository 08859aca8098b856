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

// Formatting shared by the text and markdown reports.
std::string format_duration_ns(double ns);   ///< "0.16 µs", "18.8 µs", "1.20 ms"
std::string format_rate(double per_second);  ///< "23.1 M/s", "0.84 M/s"
std::string format_ratio(double ratio);      ///< "1.00×", "35×"
/// "wedged: ..." texts of a case's failed runs, joined.
std::string failed_runs_text(const CaseResult& c);

}  // namespace shmbus::bench
