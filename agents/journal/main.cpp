// shmbus-journal: the journal agent. Subscribes to a bus (topic patterns, priorities) and appends
// what it receives to a journal directory until SIGINT/SIGTERM (shmbus::journal::Recorder).
// Exit codes: 0 ok, 1 usage, 2 no such bus, 5 other error (journal directory, version, I/O).
#include <signal.h>

#include <atomic>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "shmbus/journal_recorder.hpp"

namespace {
std::atomic<shmbus::journal::Recorder*> g_recorder{nullptr};
std::atomic<bool> g_stop_requested{false};
void on_signal(int) {
  g_stop_requested.store(true);
  if (auto* r = g_recorder.load()) r->stop();
}
}  // namespace

int main(int argc, char** argv) {
  using namespace shmbus;
  CLI::App app{"shmbus-journal: append a bus's events to a journal directory"};
  journal::RecorderOptions o;
  o.agent_name = "journal";
  o.resume_from_history = true;  // a restarted agent picks up what it missed from ring history
  std::string sync = "none", backpressure = "hold", priorities = "critical,high,normal,low";
  std::uint64_t file_mb = 64, retain_mb = 0, retain_hours = 0;
  app.add_option("--bus", o.bus, "bus name")->required();
  app.add_option("--dir", o.journal.dir, "journal directory")->required();
  app.add_option("--name", o.agent_name, "agent name (default journal)");
  app.add_option("--topics", o.topics, "topic patterns (default *)");
  app.add_option("--priorities", priorities, "comma list (default all)");
  app.add_option("--sync", sync, "none (default), critical or <N>ms");
  app.add_option("--file-mb", file_mb, "size of each journal file in MiB (default 64)");
  app.add_option("--retain-mb", retain_mb, "delete the oldest files beyond (0 = keep all)");
  app.add_option("--retain-hours", retain_hours, "delete files older (0 = keep all)");
  app.add_option("--backpressure", backpressure, "hold (default) or shed");
  bool fresh = false;
  app.add_flag("--no-resume", fresh, "do not start from the rings' history");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (fresh) o.resume_from_history = false;
  o.journal.file_bytes = file_mb << 20;
  o.journal.retain_bytes = retain_mb << 20;
  o.journal.retain_age = std::chrono::hours(retain_hours);
  if (auto r = journal::parse_sync_policy(sync, o.journal.sync, o.journal.sync_interval); !r) {
    spdlog::error("{}", r.message());
    return 1;
  }
  if (backpressure != "hold" && backpressure != "shed") {
    spdlog::error("--backpressure '{}': want hold or shed", backpressure);
    return 1;
  }
  o.backpressure =
      backpressure == "shed" ? journal::Backpressure::kShed : journal::Backpressure::kHold;
  o.priorities = {false, false, false, false};
  std::size_t start = 0;
  while (start <= priorities.size()) {
    const std::size_t comma = std::min(priorities.find(',', start), priorities.size());
    Priority p{};
    if (!parse_priority(priorities.substr(start, comma - start), p)) {
      spdlog::error("--priorities: '{}' is not critical, high, normal or low",
                    priorities.substr(start, comma - start));
      return 1;
    }
    o.priorities[index_of(p)] = true;
    start = comma + 1;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto rec = journal::Recorder::open(o);
  if (!rec) {
    spdlog::error("{}", rec.message());
    return rec.code() == Errc::kNotFound && rec.message().find("bus") != std::string::npos ? 2 : 5;
  }
  spdlog::info("journal of bus {} in {}: {}", o.bus, o.journal.dir, rec->recovery().describe());
  g_recorder.store(&rec.value());
  if (g_stop_requested.load()) rec->stop();  // a signal that came while it attached
  auto r = rec->run();
  g_recorder.store(nullptr);
  const auto st = rec->stats();
  spdlog::info("journal stopped: {} records, {} bytes, last event id {}", st.records, st.bytes,
               st.last_event_id);
  if (!r) {
    spdlog::error("{}", r.message());
    return 5;
  }
  return 0;
}
