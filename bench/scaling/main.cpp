// shmbus-scaling-bench: how shmbus scales across processes on one host: fan-out to
// M subscribers, P producers into one subscriber, and CRITICAL latency while LOW
// events flood the bus (see scenario_children.hpp). Each run forks fresh processes
// on a fresh bus. This file only parses arguments, runs and writes the reports.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>

#include "event_header.hpp"
#include "ipc/process_group.hpp"
#include "ipc/resource_names.hpp"
#include "scaling_report.hpp"
#include "scaling_runner.hpp"

namespace {

using namespace shmbus::bench;
using namespace shmbus::bench::scaling;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

/// The command line as typed, quoted where a shell would need it.
std::string command_line_of(int argc, char** argv) {
  std::string line = "shmbus-scaling-bench";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool plain = arg.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789-_.,=/:+") == std::string::npos;
    line += " " + (plain && !arg.empty() ? arg : "'" + arg + "'");
  }
  return line;
}

int run(const ScalingOptions& options) {
  std::FILE* log = stdout;
  CpuPlan cpus;
  if (options.pin) {
    cpus = plan_cpus(options.cpus);
  } else {
    cpus.note = "--no-pin: the scheduler places every process";
  }
  const MachineInfo machine = read_machine_info();

  for (const std::string& path : sweep_stale_resources()) {
    std::fprintf(log, "removed stale resource of a dead harness: %s\n", path.c_str());
  }
  if (!machine.optimized) {
    std::fprintf(log,
                 "WARNING: this binary is not an optimized NDEBUG build (%s); figures are "
                 "not comparable\n",
                 machine.build.c_str());
  }
  std::fprintf(log, "%s, %ld CPUs, %s; %s\n", machine.cpu_model.c_str(), machine.online_cpus,
               machine.kernel.c_str(), pinning_text(cpus).c_str());
  const bool fanout = std::find(options.scenarios.begin(), options.scenarios.end(),
                                Scenario::kFanout) != options.scenarios.end();
  const int most = *std::max_element(options.subscribers.begin(), options.subscribers.end());
  if (options.wait == shmbus::WaitStrategy::kBusySpin && fanout && most > 1) {
    std::fprintf(log,
                 "WARNING: --wait spin: subscribers that share a CPU take turns by whole time "
                 "slices (milliseconds per event in fan-out latency)\n");
  }

  install_interrupt_handler();
  // A closed stdout (`| head`) must not kill the harness before it cleans up.
  signal(SIGPIPE, SIG_IGN);
  const std::vector<RowResult> rows = run_rows(options, cpus, log);

  const ReportContext ctx{options, cpus, machine};
  const std::string markdown = markdown_report(rows, ctx);
  std::fprintf(log, "\n%s", markdown.c_str());
  if (!options.json_file.empty()) write_file(options.json_file, json_report(rows, ctx));
  if (!options.markdown_file.empty()) write_file(options.markdown_file, markdown);

  const auto leftovers = leftover_shm_objects();
  for (const std::string& path : leftovers) std::fprintf(log, "LEAK: %s\n", path.c_str());

  if (interrupted()) return 130;
  bool all_ok = leftovers.empty();
  for (const RowResult& row : rows) all_ok = all_ok && row.ok_runs() == row.runs.size();
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ScalingOptions options;
  options.command_line = command_line_of(argc, argv);
  CLI::App app{
      "shmbus-scaling-bench: shmbus across processes: fan-out to M subscribers, P producers to "
      "one subscriber, CRITICAL latency under a LOW flood. Exit code 0 when every run "
      "succeeded, 1 when some failed or wedged, 2 on bad arguments, 130 when interrupted."};
  app.set_help_flag("-h,--help", "Print this help and exit");
  std::vector<std::string> scenarios{"all"};
  std::string wait = "yield";
  double gap_us = 0;
  bool no_pin = false;

  app.add_option("--scenario", scenarios, "fanout, producers, priority (comma separated) or all")
      ->delimiter(',')
      ->check(CLI::IsMember({"fanout", "producers", "priority", "all"}))
      ->default_str("all");
  app.add_option("--subscribers", options.subscribers, "Fan-out: subscriber counts, one row each")
      ->delimiter(',')
      ->check(CLI::Range(1, kMaxProcessesPerRole))
      ->default_str("1,2,4,8");
  app.add_option("--producers", options.producers, "Producers: producer counts, one row each")
      ->delimiter(',')
      ->check(CLI::Range(1, kMaxProcessesPerRole))
      ->default_str("1,2,3,4");
  app.add_option("--messages", options.messages,
                 "Measured events per run (per subscriber; CRITICAL events in priority)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))
      ->capture_default_str();
  app.add_option("--warmup", options.warmup,
                 "Unmeasured events first (default: messages/10, at most 100000)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 32));
  app.add_option("--runs", options.runs, "Repetitions; reports give median and min-max")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--payload", options.payload, "Event payload in bytes, 24-byte header included")
      ->check(CLI::Range(kMinPayloadBytes, std::size_t{65536}))
      ->capture_default_str();
  auto* gap = app.add_option("--gap-us", gap_us,
                             "Pacing: idle time after the last ack (default 10 for fan-out "
                             "latency, 20 for the CRITICAL stream)")
                  ->check(CLI::Range(0.0, 1e6));
  app.add_option("--wait", wait, "How subscribers wait for events")
      ->check(CLI::IsMember({"spin", "yield", "block"}))
      ->capture_default_str();
  app.add_option("--capacity", options.capacity, "Slots per bus ring (power of two, 64..2^24)")
      ->check(CLI::Range(64u, 1u << 24))
      ->capture_default_str();
  app.add_option("--low-work-ns", options.low_work_ns,
                 "Priority: busy time the subscriber spends on each LOW event, so the flood "
                 "outpaces it and the LOW ring stays full")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1'000'000}))
      ->capture_default_str();
  auto* cpus = app.add_option("--cpus", options.cpus,
                              "Producer CPU and subscriber CPU, e.g. 0,1 (default: the first "
                              "two allowed)")
                   ->delimiter(',');
  app.add_flag("--no-pin", no_pin, "Do not pin processes; the scheduler places them")
      ->excludes(cpus);
  app.add_option("--stall-timeout", options.stall_timeout_s,
                 "Seconds without progress after which a run's processes are killed")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--timeout", options.timeout_s, "Hard limit in seconds for one run")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  app.add_option("--json-file", options.json_file, "Write the JSON report to this file");
  app.add_option("--markdown", options.markdown_file, "Write the markdown tables to this file");

  try {
    app.parse(argc, argv);
    if ((options.capacity & (options.capacity - 1)) != 0) {
      throw CLI::ValidationError("--capacity", "must be a power of two");
    }
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  static const std::map<std::string, shmbus::WaitStrategy> kWaits = {
      {"spin", shmbus::WaitStrategy::kBusySpin},
      {"yield", shmbus::WaitStrategy::kSpinYield},
      {"block", shmbus::WaitStrategy::kBlock}};
  options.wait = kWaits.at(wait);
  if (*gap) options.gap_us = gap_us;
  options.pin = !no_pin;
  const bool all = std::find(scenarios.begin(), scenarios.end(), "all") != scenarios.end();
  if (!all) {
    options.scenarios.clear();
    for (const auto& [name, scenario] :
         {std::pair{"fanout", Scenario::kFanout}, std::pair{"producers", Scenario::kProducers},
          std::pair{"priority", Scenario::kPriority}}) {
      if (std::find(scenarios.begin(), scenarios.end(), name) != scenarios.end()) {
        options.scenarios.push_back(scenario);
      }
    }
  }

  try {
    return run(options);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "shmbus-scaling-bench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shmbus-scaling-bench: %s\n", e.what());
    return 1;
  }
}
