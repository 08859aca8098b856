// A line per run on the log while the benchmark goes.
#include <string>

#include "ipc/number_format.hpp"
#include "scaling_report.hpp"

namespace shmbus::bench::scaling {

std::string pinning_text(const CpuPlan& cpus) {
  if (cpus.producer_cpu && cpus.consumer_cpu) {
    return "producer processes pinned to CPU " + std::to_string(*cpus.producer_cpu) +
           ", subscriber processes to CPU " + std::to_string(*cpus.consumer_cpu);
  }
  return "not pinned: " + cpus.note;
}

void print_run_line(std::FILE* out, const RowResult& row, const ScalingRun& run, int run_index,
                    int runs) {
  std::fprintf(out, "[run %d/%d] %-40s ", run_index + 1, runs, row.spec.label().c_str());
  if (!run.ok) {
    std::fprintf(out, "FAILED: %s\n", run.error.c_str());
    std::fflush(out);
    return;
  }
  if (row.spec.measure == Measure::kThroughput) {
    std::fprintf(out, "%s", format_rate(run.rate_per_s).c_str());
    if (row.spec.scenario == Scenario::kFanout) {
      std::fprintf(out, " delivered; per subscriber: slowest %s, median %s",
                   format_rate(run.subscriber_rate_min).c_str(),
                   format_rate(run.subscriber_rate_median).c_str());
    }
  } else {
    std::fprintf(out, "p50 %s  p99 %s  p99.9 %s  p99.99 %s  max %s",
                 format_duration_ns(run.latency.p50_ns).c_str(),
                 format_duration_ns(run.latency.p99_ns).c_str(),
                 format_duration_ns(run.latency.p999_ns).c_str(),
                 format_duration_ns(run.latency.p9999_ns).c_str(),
                 format_duration_ns(run.latency.max_ns).c_str());
    if (row.spec.scenario == Scenario::kFanout) {
      std::fprintf(out, "  slowest subscriber p50 %s",
                   format_duration_ns(run.slowest_subscriber_p50_ns).c_str());
    }
    if (row.spec.flood) {
      std::fprintf(out, "; LOW %s, backlog min %.0f mean %.0f, at least half full %.0f%%",
                   format_rate(run.low_rate_per_s).c_str(), run.low_backlog_min,
                   run.low_backlog_mean, run.low_half_full_share * 100);
    }
  }
  std::fprintf(out, "  (%.1f s, preempted %llu/%llu)\n", run.wall_s,
               static_cast<unsigned long long>(run.producer_preemptions),
               static_cast<unsigned long long>(run.subscriber_preemptions));
  std::fflush(out);
}

}  // namespace shmbus::bench::scaling
