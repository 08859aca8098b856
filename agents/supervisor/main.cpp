// shmbus-supervisor: creates a bus (or re-attaches to a live one after a restart) and enforces
// backpressure, health and recovery until SIGINT/SIGTERM. Arguments override --config FILE.
// Exit codes: 0 clean stop, 1 runtime error, 2 bad arguments or config, 3 another supervisor
// runs on this bus, 4 the existing segment cannot be used (version, corrupt, permission).
#include <signal.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "child_processes.hpp"
#include "config_file.hpp"
#include "shmbus/supervisor.hpp"

namespace {

enum Exit : int { kOk = 0, kRuntime = 1, kUsage = 2, kAlreadyRunning = 3, kSegment = 4 };

std::atomic<shmbus::Supervisor*> g_supervisor{nullptr};
// Atomic, not volatile sig_atomic_t: a process-directed signal may run the handler on any
// thread (the metrics endpoint's civetweb workers too), and main reads it. Lock-free atomics
// are async-signal-safe.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

// A segment file truncated between two checks faults the next access with SIGBUS: say so
// (async-signal-safe write) instead of dying without a word.
void on_sigbus(int) {
  static constexpr char kText[] =
      "shmbus-supervisor: SIGBUS: the segment file was truncated under the supervisor; "
      "exiting\n";
  (void)!::write(2, kText, sizeof kText - 1);
  ::_exit(kSegment);
}

void on_signal(int sig) {
  g_signal.store(sig);
  if (shmbus::Supervisor* s = g_supervisor.load()) s->stop();  // async-signal-safe
}

int exit_code(shmbus::Errc code) {
  switch (code) {
    case shmbus::Errc::kInvalidArgument:
      return kUsage;
    case shmbus::Errc::kBusy:
      return kAlreadyRunning;
    case shmbus::Errc::kVersionMismatch:
    case shmbus::Errc::kCorrupt:
    case shmbus::Errc::kNotReady:
    case shmbus::Errc::kPermission:
      return kSegment;
    default:
      return kRuntime;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace shmbus;
  using std::chrono::milliseconds;
  CLI::App app{"shmbus-supervisor: owns a bus segment; enforces backpressure, health, recovery"};
  std::string bus, config_file, log_level, metrics_address;
  double period_ms = 0, unblock_ms = 0, behind_ms = 0, stall_ms = 0, warning = 0, high = 0,
         critical = 0, lag = 0;
  std::uint32_t ring_capacity = 0, low_rate = 0;
  std::uint64_t rate_limit = 0;
  std::vector<std::string> agent_limits;
  bool no_untether = false, keep = false, force_remove = false, no_events = false, print = false,
       no_metrics = false;
  app.add_option("--bus", bus, "bus name (segment /dev/shm/shmbus.NAME)");
  app.add_option("--config", config_file, "JSON config file (see --print-config)");
  app.add_option("--period-ms", period_ms, "check period");
  app.add_option("--unblock-timeout-ms", unblock_ms, "close claims stuck this long");
  app.add_option("--ring-capacity", ring_capacity, "slots per ring of a new segment");
  app.add_option("--warning", warning, "fill fraction of backpressure WARNING");
  app.add_option("--high", high, "fill fraction of backpressure HIGH");
  app.add_option("--critical", critical, "fill fraction of backpressure CRITICAL");
  app.add_option("--low-rate-at-high", low_rate, "LOW events/s per publisher at HIGH");
  app.add_flag("--no-untether", no_untether, "never untether slow subscribers");
  app.add_option("--untether-lag", lag, "lag fraction from which a subscriber is behind");
  app.add_option("--behind-ms", behind_ms, "untether a subscriber behind this long");
  app.add_option("--stall-ms", stall_ms, "untether a subscriber stalled this long");
  app.add_option("--rate-limit", rate_limit, "publish rate limit per agent, events/s (0 none)");
  app.add_option("--agent-rate-limit", agent_limits, "NAME=EVENTS_PER_S, repeatable");
  std::string owner, group, permissions;
  app.add_option("--permissions", permissions,
                 "file mode of a new segment, octal (0600 owner only, 0660 with a group)");
  app.add_option("--owner", owner, "user that must own a live segment to adopt it (default: ours)");
  app.add_option("--group", group,
                 "group of a new segment, and that a group-accessible live one must have");
  app.add_flag("--no-system-events", no_events, "do not publish sys.* events");
  app.add_flag("--keep-segment", keep, "keep the segment on exit");
  app.add_flag("--force-remove", force_remove, "remove the segment on exit even if agents map it");
  app.add_option("--metrics-address", metrics_address,
                 std::string("Prometheus endpoint HOST:PORT, PORT (loopback) or \"\" for none; "
                             "default ") +
                     kDefaultMetricsAddress);
  app.add_flag("--no-metrics", no_metrics, "serve no Prometheus metrics");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  app.add_flag("--print-config", print, "print a config file with every default and exit");
  CLI11_PARSE(app, argc, argv);  // --help exits 0, bad arguments exit non-zero
  if (print) {
    std::puts(supervisor_app::default_config_json().c_str());
    return kOk;
  }

  supervisor_app::AppConfig cfg;
  if (!config_file.empty()) {
    if (auto r = supervisor_app::load_config_file(config_file, cfg); !r) {
      std::fprintf(stderr, "shmbus-supervisor: %s\n", r.message().c_str());
      return kUsage;
    }
  }
  SupervisorConfig& c = cfg.supervisor;
  auto given = [&](const char* opt) { return app.count(opt) > 0; };
  auto ms = [](double v) { return std::chrono::nanoseconds(static_cast<std::int64_t>(v * 1e6)); };
  if (given("--bus")) c.bus.name = bus;
  if (given("--period-ms")) c.check_period = ms(period_ms);
  if (given("--unblock-timeout-ms")) c.unblock_timeout = ms(unblock_ms);
  if (given("--ring-capacity")) c.bus.ring_capacity.fill(ring_capacity);
  if (given("--warning")) c.backpressure.warning = warning;
  if (given("--high")) c.backpressure.high = high;
  if (given("--critical")) c.backpressure.critical = critical;
  if (given("--low-rate-at-high")) c.backpressure.low_rate_at_high_per_s = low_rate;
  if (no_untether) c.slow_subscribers.untether = false;
  if (given("--untether-lag")) c.slow_subscribers.lag = lag;
  if (given("--behind-ms")) c.slow_subscribers.behind_for = ms(behind_ms);
  if (given("--stall-ms")) c.slow_subscribers.stall_timeout = ms(stall_ms);
  if (given("--rate-limit")) c.rate_limits.default_per_s = rate_limit;
  for (const std::string& a : agent_limits) {
    const auto eq = a.find('=');
    try {
      if (eq == std::string::npos) throw std::invalid_argument(a);
      c.rate_limits.per_agent.emplace_back(a.substr(0, eq), std::stoull(a.substr(eq + 1)));
    } catch (const std::exception&) {
      std::fprintf(stderr, "shmbus-supervisor: --agent-rate-limit wants NAME=N, not '%s'\n",
                   a.c_str());
      return kUsage;
    }
  }
  if (given("--permissions")) {
    auto mode = supervisor_app::parse_mode(permissions, "--permissions");
    if (!mode) {
      std::fprintf(stderr, "shmbus-supervisor: %s\n", mode.message().c_str());
      return kUsage;
    }
    c.bus.permissions = *mode;
  }
  for (auto [opt, text, out, is_group] : {std::tuple{"--owner", &owner, &c.bus.owner_uid, false},
                                          std::tuple{"--group", &group, &c.bus.group_gid, true}}) {
    if (!given(opt)) continue;
    auto id = is_group ? supervisor_app::resolve_group(*text, opt)
                       : supervisor_app::resolve_user(*text, opt);
    if (!id) {
      std::fprintf(stderr, "shmbus-supervisor: %s\n", id.message().c_str());
      return kUsage;
    }
    *out = *id;
  }
  if (no_events) c.system_events = false;
  if (keep) c.keep_segment = true;
  if (force_remove) c.force_remove = true;
  if (given("--metrics-address")) c.metrics_address = metrics_address;
  if (no_metrics) c.metrics_address.clear();
  if (given("--log-level")) cfg.log_level = log_level;
  if (c.bus.name.empty()) {
    std::fprintf(
        stderr, "shmbus-supervisor: no bus name (--bus NAME or \"bus\": {\"name\"} in --config)\n");
    return kUsage;
  }

  const auto level = spdlog::level::from_str(cfg.log_level);
  if (level == spdlog::level::off && cfg.log_level != "off") {
    std::fprintf(stderr, "shmbus-supervisor: unknown log level '%s'\n", cfg.log_level.c_str());
    return kUsage;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("shmbus-supervisor"));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::set_level(level);
  // Handlers first: a signal that arrives while starting is remembered, then honoured.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction bus_error {};
  bus_error.sa_handler = on_sigbus;
  sigemptyset(&bus_error.sa_mask);
  sigaction(SIGBUS, &bus_error, nullptr);
  auto sup = Supervisor::start(c);
  if (!sup) {
    spdlog::error("{}", sup.message());
    return exit_code(sup.code());
  }
  g_supervisor.store(&sup.value());
  if (g_signal.load() != 0) sup->stop();

  supervisor_app::ChildProcesses children;  // the config's journal agents
  children.start(supervisor_app::journal_specs(cfg, c.bus.name, argv[0]));
  sup->run();
  if (g_signal.load() != 0) spdlog::info("stopping on signal {}", g_signal.load());
  children.stop();
  g_supervisor.store(nullptr);
  auto done = sup->shutdown();
  if (!done) {
    spdlog::error("{}", done.message());
    return exit_code(done.code());
  }
  return kOk;
}
