// shmbus-ipc-bench: cross-process latency and throughput of shmbus's peers (and,
// once bench/ipc/shmbus_transport.cpp exists, of shmbus itself), each run as a
// separate producer process and consumer process pinned to separate cores.
// This file only parses arguments, runs the benchmark and writes the reports.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>

#include "bench_runner.hpp"
#include "machine_info.hpp"
#include "process_pair.hpp"
#include "report.hpp"
#include "resource_names.hpp"
#include "transport_registry.hpp"

namespace {

using shmbus::bench::BenchOptions;
using shmbus::bench::Fault;
using shmbus::bench::Mode;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

int list_transports() {
  for (const auto& entry : shmbus::bench::transport_registry()) {
    const auto& info = entry.info;
    std::printf("%-16s %-34s %s%s%s\n", info.name.c_str(), info.wait.c_str(),
                info.description.c_str(), info.throughput ? "" : " [latency only]",
                info.name == shmbus::bench::kFloorTransport ? " [floor]" : "");
  }
  for (std::string_view missing : shmbus::bench::transports_not_built()) {
    std::printf("not built: %.*s\n", static_cast<int>(missing.size()), missing.data());
  }
  return 0;
}

int run(const BenchOptions& options) {
  using namespace shmbus::bench;
  std::FILE* log = options.json ? stderr : stdout;
  const auto transports = select_transports(options);
  const CpuPlan cpus = plan_cpus(options.cpus);
  const MachineInfo machine = read_machine_info();

  for (const std::string& path : sweep_stale_resources()) {
    std::fprintf(log, "removed stale resource of a dead harness: %s\n", path.c_str());
  }
  std::vector<std::string_view> not_built(transports_not_built().begin(),
                                          transports_not_built().end());
  for (std::string_view missing : not_built) {
    std::fprintf(log, "note: not built: %.*s\n", static_cast<int>(missing.size()), missing.data());
  }
  if (!machine.optimized) {
    std::fprintf(log,
                 "WARNING: this binary is not an optimized NDEBUG build (%s); figures are "
                 "not comparable\n",
                 machine.build.c_str());
  }
  std::fprintf(log, "%s, %ld CPUs, %s; ", machine.cpu_model.c_str(), machine.online_cpus,
               machine.kernel.c_str());
  if (cpus.producer_cpu && cpus.consumer_cpu) {
    std::fprintf(log, "producer on CPU %d, consumer on CPU %d\n", *cpus.producer_cpu,
                 *cpus.consumer_cpu);
  } else {
    std::fprintf(log, "%s\n", cpus.note.c_str());
  }

  install_interrupt_handler();
  // A closed stdout (`| head`) must not kill the harness before it cleans up.
  signal(SIGPIPE, SIG_IGN);
  std::vector<CaseResult> cases;
  {
    ScratchDir scratch;
    cases = run_benchmarks(options, transports, cpus, scratch.path(), log);
  }

  const ReportContext ctx{options, cpus, machine, not_built};
  print_summary(log, cases, ctx);
  if (options.json || !options.json_file.empty()) {
    const std::string json = json_report(cases, ctx);
    if (options.json) std::fputs(json.c_str(), stdout);
    if (!options.json_file.empty()) write_file(options.json_file, json);
  }
  if (!options.markdown_file.empty())
    write_file(options.markdown_file, markdown_report(cases, ctx));
  if (!options.plot_dir.empty()) write_plot_data(options.plot_dir, cases);

  const auto leftovers = leftover_shm_objects();
  for (const std::string& path : leftovers) std::fprintf(log, "LEAK: %s\n", path.c_str());

  if (interrupted()) return 130;
  bool all_ok = leftovers.empty();
  for (const CaseResult& c : cases) all_ok = all_ok && c.ok_runs() == c.runs.size();
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{
      "shmbus-ipc-bench: one-way latency and throughput between two processes, for each "
      "transport (see --list). Exit code 0 when every run succeeded, 1 when some failed or "
      "wedged, 2 on bad arguments, 130 when interrupted."};
  app.set_help_flag("-h,--help", "Print this help and exit");
  bool list = false;
  std::string mode = "latency";
  double gap_us = static_cast<double>(options.gap_ns) / 1000.0;
  std::string fault = "none";

  app.add_flag("--list", list, "List the transports and exit");
  app.add_option("--transport", options.transports, "Transport name(s), comma separated, or 'all'")
      ->delimiter(',')
      ->default_str("all");
  app.add_option("--mode", mode, "What to measure")
      ->check(CLI::IsMember({"latency", "throughput", "all"}))
      ->capture_default_str();
  app.add_option("--messages", options.messages, "Measured messages per run")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))
      ->capture_default_str();
  app.add_option("--throughput-messages", options.throughput_messages,
                 "Measured messages per throughput run (default: --messages)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  app.add_option("--warmup", options.warmup,
                 "Unmeasured messages sent first (default: messages/10, at most 100000)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 32));
  app.add_option("--payload", options.payloads,
                 "Message size(s) in bytes, header included, comma separated (default: 64 for "
                 "latency, 64,256,1024 for throughput)")
      ->delimiter(',')
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20));
  app.add_option("--runs", options.runs, "Repetitions; reports give median and min-max")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--gap-us", gap_us,
                 "Latency pacing: idle time after each ack before the next message")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--capacity", options.capacity, "Queue depth in messages, where configurable")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--cpus", options.cpus,
                 "Producer and consumer CPU, e.g. 0,1 (default: first two allowed CPUs)")
      ->delimiter(',');
  app.add_option("--stall-timeout", options.stall_timeout_s,
                 "Seconds without progress after which both processes are killed")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--timeout", options.timeout_s, "Hard limit in seconds for one run")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print the JSON report on stdout (progress on stderr)");
  app.add_option("--json-file", options.json_file, "Also write the JSON report to this file");
  app.add_option("--markdown", options.markdown_file, "Write the markdown tables to this file");
  app.add_option("--plot-dir", options.plot_dir,
                 "Write gnuplot data (latency.dat, throughput.dat) into this directory");
  app.add_option("--self-test-fault", fault, "Inject a fault into every run to prove the watchdog")
      ->check(CLI::IsMember({"none", "consumer-hang", "consumer-crash", "producer-hang"}))
      ->group("Self-test");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (list) return list_transports();

  options.gap_ns = static_cast<std::uint64_t>(gap_us * 1000.0);
  if (mode == "latency") options.modes = {Mode::kLatency};
  if (mode == "throughput") options.modes = {Mode::kThroughput};
  if (mode == "all") options.modes = {Mode::kLatency, Mode::kThroughput};
  static const std::map<std::string, Fault> kFaults = {{"none", Fault::kNone},
                                                       {"consumer-hang", Fault::kConsumerHang},
                                                       {"consumer-crash", Fault::kConsumerCrash},
                                                       {"producer-hang", Fault::kProducerHang}};
  options.fault = kFaults.at(fault);

  try {
    return run(options);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "shmbus-ipc-bench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shmbus-ipc-bench: %s\n", e.what());
    return 1;
  }
}
