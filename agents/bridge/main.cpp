// shmbus-bridge: forwards chosen topics between a local bus and NATS (shmbus::bridge::Bridge)
// until SIGINT/SIGTERM. Exit codes: 0 ok, 1 usage, 2 no such bus, 3 NATS refused the
// credentials, 5 other error.
#include <signal.h>

#include <atomic>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "shmbus/bridge.hpp"

namespace {
std::atomic<shmbus::bridge::Bridge*> g_bridge{nullptr};
std::atomic<bool> g_stop_requested{false};
void on_signal(int) {
  g_stop_requested.store(true);
  if (auto* b = g_bridge.load()) b->stop();
}

std::vector<std::string> split_commas(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) {
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (!part.empty()) out.push_back(part);
    }
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace shmbus;
  CLI::App app{"shmbus-bridge: forward topics between a local bus and NATS / JetStream"};
  bridge::BridgeOptions o;
  std::vector<std::string> urls;
  std::string format = "binary";
  app.add_option("--bus", o.bus, "local bus name")->required();
  app.add_option("--nats", urls, "NATS server URLs (nats://host:port[,...])")->required();
  app.add_option("--export", o.exports, "local topic patterns sent to NATS");
  app.add_option("--import", o.imports, "topic patterns taken from NATS into the bus");
  app.add_option("--from-bus", o.from_buses, "import only from these origin buses");
  app.add_option("--durable", o.durable, "patterns carried by JetStream (the rest: core NATS)");
  app.add_option("--format", format, "binary (default) or json");
  app.add_option("--user", o.user, "NATS user");
  app.add_option("--password", o.password, "NATS password");
  app.add_option("--name", o.agent_name, "agent name (default bridge)");
  app.add_option("--state-dir", o.state_dir,
                 "STATS and import marks (default /var/tmp/shmbus-bridge/<bus>@<name>)");
  app.add_option("--replicas", o.replicas, "replicas of the bus's stream when created (default 1)");
  app.add_option("--window", o.export_window, "durable exports kept until acked (default 16384)");
  app.add_flag("--send-asap", o.send_asap,
               "write each message at once (lowest latency, one system call per message)");
  app.add_option("--batch", o.batch_max_events,
                 "core and durable exports: events of one topic per NATS/JetStream message "
                 "(default 256; 1: one event per message, readable by bridges without batch "
                 "frames)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--batch-bytes", o.batch_max_bytes,
                 "core and durable exports: bytes per batch (default 32768)")
      ->check(CLI::Range(1, 16 << 20));
  std::string wait = "block";
  app.add_option("--wait", wait,
                 "how the dispatcher waits for local events: block (futex, default), yield, spin")
      ->check(CLI::IsMember({"block", "yield", "spin"}));
  bool no_history = false;
  app.add_flag("--no-resume", no_history, "do not resend durable events from the rings' history");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  o.nats_urls = split_commas(urls);
  o.exports = split_commas(o.exports);
  o.imports = split_commas(o.imports);
  o.from_buses = split_commas(o.from_buses);
  o.durable = split_commas(o.durable);
  if (no_history) o.resume_from_history = false;
  o.wait = wait == "spin"    ? WaitStrategy::kBusySpin
           : wait == "yield" ? WaitStrategy::kSpinYield
                             : WaitStrategy::kBlock;
  if (format == "json") {
    o.format = bridge::WireFormat::kJson;
  } else if (format != "binary") {
    spdlog::error("--format '{}': want binary or json", format);
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto b = bridge::Bridge::open(o);
  if (!b) {
    spdlog::error("{}", b.message());
    switch (b.code()) {
      case Errc::kInvalidArgument:
        return 1;
      case Errc::kNotFound:
        return 2;
      case Errc::kPermission:
        return 3;
      default:
        return 5;
    }
  }
  spdlog::info("bridge of bus {} running", o.bus);
  g_bridge.store(&b.value());
  if (g_stop_requested.load()) b->stop();
  auto r = b->run();
  g_bridge.store(nullptr);
  const auto st = b->stats();
  spdlog::info("bridge stopped: exported {}, imported {}, reconnects {}", st.out.messages,
               st.in.messages, st.reconnects);
  if (!r) {
    spdlog::error("{}", r.message());
    return r.code() == Errc::kPermission ? 3 : 5;
  }
  return 0;
}
