// `shmbus record`: a Recorder (shmbus/journal_recorder.hpp) attached as record-<pid> until
// SIGINT or SIGTERM; then it drains what the rings hold for it, syncs, and reports.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "commands.hpp"
#include "journal_commands.hpp"
#include "shmbus/journal_recorder.hpp"

namespace shmbus::cli {

namespace {
std::atomic<journal::Recorder*> g_recorder{nullptr};
std::atomic<bool> g_stop_requested{false};
void on_signal(int) {
  g_stop_requested.store(true);
  if (auto* r = g_recorder.load()) r->stop();  // an atomic store and Bus::stop: signal-safe
}
}  // namespace

int run_record(const RecordOptions& options) {
  journal::RecorderOptions ro;
  ro.bus = options.bus;
  ro.agent_name = "record-" + std::to_string(::getpid());
  ro.topics = options.topics.empty() ? std::vector<std::string>{"*"} : options.topics;
  ro.journal.dir = options.out;
  ro.journal.file_bytes = options.file_mb << 20;
  if (auto r = journal::parse_sync_policy(options.sync, ro.journal.sync, ro.journal.sync_interval);
      !r) {
    return report_error(r.error());
  }
  if (options.backpressure == "shed") {
    ro.backpressure = journal::Backpressure::kShed;
  } else if (options.backpressure != "hold") {
    std::fprintf(stderr, "shmbus: --backpressure '%s': want hold or shed\n",
                 options.backpressure.c_str());
    return kExitUsage;
  }
  // Handlers first: a SIGTERM as soon as the agent shows in the bus must still end it cleanly.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto rec = journal::Recorder::open(ro);
  if (!rec) {
    if (rec.code() == Errc::kNotFound && rec.message().find("journal") != std::string::npos) {
      std::fprintf(stderr, "shmbus: %s\n", rec.message().c_str());
      return kExitError;
    }
    return report_error(rec.error());
  }
  if (rec->recovery().damaged()) {
    std::fprintf(stderr, "shmbus: journal recovery: %s\n", rec->recovery().describe().c_str());
  }
  g_recorder.store(&rec.value());
  if (g_stop_requested.load()) rec->stop();  // a signal that came while it attached
  // Tell a parent (tests, scripts) that the subscription is live: events from now on are kept.
  std::fprintf(stderr, "shmbus: recording bus %s into %s\n", options.bus.c_str(),
               options.out.c_str());
  std::fflush(stderr);
  auto r = rec->run();
  g_recorder.store(nullptr);
  const auto st = rec->stats();
  std::fprintf(stderr, "shmbus: recorded %llu events (%llu bytes), last event id %llu\n",
               static_cast<unsigned long long>(st.records),
               static_cast<unsigned long long>(st.bytes),
               static_cast<unsigned long long>(st.last_event_id));
  if (!r) return report_error(r.error());
  return kExitOk;
}

}  // namespace shmbus::cli
