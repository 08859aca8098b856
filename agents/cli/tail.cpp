// `shmbus tail`: attaches as agent "tail-<pid>", subscribes to a pattern and prints every event
// as one JSON line (payload decoded through the catalogue when the topic has a type).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "payload_json.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::cli {

namespace {

std::atomic<Bus*> g_bus{nullptr};
volatile sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
  if (Bus* b = g_bus.load()) b->stop();  // async-signal-safe
}

nlohmann::json event_json(const EventView& e) {
  return nlohmann::json{{"topic", std::string(e.topic_name)},
                        {"priority", std::string(priority_name(e.priority))},
                        {"producer", e.id.producer},
                        {"producer_epoch", e.id.producer_epoch},
                        {"seq", e.id.sequence},
                        {"timestamp_ns", e.timestamp_ns},
                        {"flags", e.flags},
                        {"size", e.payload.size()},
                        {"payload", decode_payload(e.topic_name, e.payload)}};
}

}  // namespace

int run_tail(const TailOptions& options) {
  if (auto e = validate_topic_pattern(options.pattern); !e.empty()) {
    std::fprintf(stderr, "shmbus: bad topic pattern: %s\n", e.c_str());  // e quotes it, escaped
    return kExitBadTopic;
  }
  AgentOptions agent;
  agent.name = "tail-" + std::to_string(::getpid());
  agent.wait = WaitStrategy::kBlock;
  agent.start_from_history = options.from_history;
  auto bus = Bus::attach(options.bus, agent);
  if (!bus) return report_error(bus.error());

  std::uint64_t printed = 0;
  int rc = kExitOk;
  auto sub = bus->on(options.pattern, [&](const EventView& e) {
    // stop() ends dispatching after the current batch: drop what comes after the count.
    if (rc != kExitOk || (options.count != 0 && printed >= options.count)) return;
    const std::string line =
        event_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (std::fputs(line.c_str(), stdout) < 0 || std::fflush(stdout) != 0) {
      rc = kExitError;  // stdout closed (a pipe reader left): stop quietly
      bus->stop();
      return;
    }
    if (options.count != 0 && ++printed >= options.count) bus->stop();
  });
  if (!sub) return report_error(sub.error());

  g_stop = 0;
  g_bus.store(&bus.value());
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
  while (g_stop == 0 && rc == kExitOk && (options.count == 0 || printed < options.count)) {
    if (options.timeout_ms == 0) {
      bus->run();
      continue;
    }
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) break;
    bus->run_for(left);
  }
  g_bus.store(nullptr);
  return rc;
}

}  // namespace shmbus::cli
