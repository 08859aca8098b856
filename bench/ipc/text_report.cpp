// Human-readable output: a line per run, then summary tables (median of runs).
#include <string>

#include "report.hpp"

namespace shmbus::bench {
namespace {

std::string case_label(const CaseResult& c) {
  std::string label = c.transport.name + " " + std::string(to_string(c.mode)) + " " +
                      std::to_string(c.message_bytes) + " B";
  return label;
}

}  // namespace

void print_run_line(std::FILE* out, const CaseResult& c, const RunResult& run, int run_index,
                    int runs) {
  std::fprintf(out, "[run %d/%d] %-38s ", run_index + 1, runs, case_label(c).c_str());
  if (!run.ok) {
    std::fprintf(out, "FAILED: %s\n", run.error.c_str());
  } else if (c.mode == Mode::kLatency) {
    std::fprintf(out,
                 "p50 %s  p99 %s  p99.9 %s  p99.99 %s  max %s  rtt/2 p50 %s  (%.1f s, "
                 "preempted %llu/%llu)\n",
                 format_duration_ns(run.one_way.p50_ns).c_str(),
                 format_duration_ns(run.one_way.p99_ns).c_str(),
                 format_duration_ns(run.one_way.p999_ns).c_str(),
                 format_duration_ns(run.one_way.p9999_ns).c_str(),
                 format_duration_ns(run.one_way.max_ns).c_str(),
                 format_duration_ns(run.rtt_half.p50_ns).c_str(), run.wall_s,
                 static_cast<unsigned long long>(run.producer_preemptions),
                 static_cast<unsigned long long>(run.consumer_preemptions));
  } else {
    std::fprintf(out, "%s  (%llu messages in %.3f s; %.1f s, preempted %llu/%llu)\n",
                 format_rate(run.messages_per_s).c_str(),
                 static_cast<unsigned long long>(run.interval_messages), run.interval_s, run.wall_s,
                 static_cast<unsigned long long>(run.producer_preemptions),
                 static_cast<unsigned long long>(run.consumer_preemptions));
  }
  std::fflush(out);
}

void print_summary(std::FILE* out, const std::vector<CaseResult>& cases, const ReportContext& ctx) {
  std::fprintf(out,
               "\nSummary: median of %d run(s); %llu measured messages per latency run, %llu per "
               "throughput run\n",
               ctx.options.runs,
               static_cast<unsigned long long>(ctx.options.messages_for(Mode::kLatency)),
               static_cast<unsigned long long>(ctx.options.messages_for(Mode::kThroughput)));
  Mode last_mode = Mode::kThroughput;
  std::size_t last_bytes = 0;
  bool first = true;
  for (const CaseResult& c : cases) {
    if (first || c.mode != last_mode || c.requested_message_bytes != last_bytes) {
      first = false;
      last_mode = c.mode;
      last_bytes = c.requested_message_bytes;
      if (c.mode == Mode::kLatency) {
        std::fprintf(out, "\none-way latency, %zu B    %10s %10s %10s %10s %10s %10s\n",
                     c.requested_message_bytes, "p50", "p99", "p99.9", "p99.99", "max",
                     "rtt/2 p50");
      } else {
        std::fprintf(out, "\nthroughput, %zu B          %12s %10s\n", c.requested_message_bytes,
                     "rate", "vs floor");
      }
    }
    std::fprintf(out, "  %-22s", c.transport.name.c_str());
    if (c.ok_runs() == 0) {
      std::fprintf(out, " FAILED (%s)\n", failed_runs_text(c).c_str());
      continue;
    }
    if (c.mode == Mode::kLatency) {
      auto cell = [&](auto metric) { return format_duration_ns(c.aggregate(metric).median); };
      std::fprintf(out, " %10s %10s %10s %10s %10s %10s",
                   cell([](const RunResult& r) { return r.one_way.p50_ns; }).c_str(),
                   cell([](const RunResult& r) { return r.one_way.p99_ns; }).c_str(),
                   cell([](const RunResult& r) { return r.one_way.p999_ns; }).c_str(),
                   cell([](const RunResult& r) { return r.one_way.p9999_ns; }).c_str(),
                   cell([](const RunResult& r) { return r.one_way.max_ns; }).c_str(),
                   cell([](const RunResult& r) { return r.rtt_half.p50_ns; }).c_str());
    } else {
      const Spread rate = c.aggregate([](const RunResult& r) { return r.messages_per_s; });
      std::string ratio = "";
      if (const CaseResult* floor = find_floor_case(cases, c)) {
        ratio = format_ratio(
            rate.median /
            floor->aggregate([](const RunResult& r) { return r.messages_per_s; }).median);
      }
      std::fprintf(out, " %12s %10s", format_rate(rate.median).c_str(), ratio.c_str());
    }
    if (c.message_bytes != c.requested_message_bytes) {
      std::fprintf(out, "  (at %zu B)", c.message_bytes);
    }
    if (c.ok_runs() != c.runs.size()) {
      std::fprintf(out, "  [%zu of %zu runs failed]", c.runs.size() - c.ok_runs(), c.runs.size());
    }
    std::fprintf(out, "\n");
  }
  std::fflush(out);
}

}  // namespace shmbus::bench
