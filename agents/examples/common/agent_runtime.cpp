// Shared plumbing of the example agents (agent_runtime.hpp).
#include "agent_runtime.hpp"

#include <signal.h>
#include <time.h>

#include <atomic>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace shmbus::examples {

namespace {

std::atomic<Bus*> g_bus{nullptr};
// Lock-free atomics are async-signal-safe, and other threads (cio's dispatcher) read it.
std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_signal(int) {
  g_stop.store(1);
  if (Bus* b = g_bus.load()) b->stop();  // async-signal-safe
}

std::uint64_t clock_ns(clockid_t id) noexcept {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

std::uint64_t mono_ns() noexcept {
  return clock_ns(CLOCK_MONOTONIC);
}
std::uint64_t wall_ns() noexcept {
  return clock_ns(CLOCK_REALTIME);
}

bool init_logging(const std::string& name, const std::string& level) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    std::fprintf(stderr, "%s: unknown log level '%s'\n", name.c_str(), level.c_str());
    return false;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt(name));
  spdlog::set_pattern("%H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::set_level(lvl);
  return true;
}

Result<Bus> attach_agent(const CommonOptions& options, const std::string& agent_name) {
  AgentOptions agent;
  agent.name = agent_name;
  agent.wait = WaitStrategy::kBlock;
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(static_cast<std::int64_t>(options.attach_timeout_s * 1000));
  for (;;) {
    auto bus = Bus::attach(options.bus, agent);
    if (bus) {
      spdlog::info("attached to bus {} as agent {} (index {})", options.bus, agent_name,
                   bus->agent_index());
      return bus;
    }
    const bool retry = bus.code() == Errc::kNotFound || bus.code() == Errc::kNotReady;
    if (!retry || g_stop != 0 || std::chrono::steady_clock::now() >= deadline) return bus;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int report_attach_failure(const std::string& agent_name, const Error& error) {
  spdlog::error("{}: cannot attach: {}", agent_name, error.message);
  return error.code == Errc::kNotFound ? 2 : 1;
}

void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void set_stop_target(Bus* bus) {
  g_bus.store(bus);
  if (bus != nullptr && g_stop != 0) bus->stop();  // a signal that came while attaching
}

void spdlog_info_detached(const std::string& agent_name) {
  spdlog::info("{} stopping", agent_name);
}

bool stop_requested() noexcept {
  return g_stop.load() != 0;
}

}  // namespace shmbus::examples
