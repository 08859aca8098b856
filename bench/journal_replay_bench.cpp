// `shmbus replay --speed max` as a real process, timed end to end, with its memory sampled while
// it streams a journal of any size: the issue's "replay at max >= 5 M events/s" and "memory flat
// while a 10 GB journal replays". This harness creates an embedded bus, writes a journal of
// 64-byte events (`--events N` or `--bytes SIZE`) with journal::Writer, optionally starts one
// subscriber thread counting what arrives, then fork/execs `shmbus replay DIR --bus B --speed max`
// and samples /proc/<pid>/status (VmRSS, RssAnon, RssFile, VmHWM) every 100 ms until it exits.
// Printed: events, wall seconds, events per wall second, the child's CPU seconds (wait4) and
// events per CPU second, and the RSS samples (min/max after the first second, the peak). The
// journal is removed at the end unless --keep. Timed: the replay process, from exec to exit.
//
//   journal_replay_bench --cli build/agents/cli/shmbus --dir /work/jr --bytes 10G [--subscriber]
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "shmbus/bus.hpp"
#include "shmbus/journal.hpp"

namespace {

namespace fs = std::filesystem;
using namespace shmbus;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kPayload = 64;
constexpr std::uint64_t kRecordBytes = (72 + 13 + kPayload + 7) / 8 * 8;  // 152

struct Args {
  std::string cli;
  std::string dir;
  std::uint64_t events = 4'000'000;
  std::uint64_t file_mb = 256;
  bool subscriber = false;
  bool keep = false;
  bool reuse = false;
};

std::uint64_t parse_size(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  double mult = 1;
  if (*end == 'K' || *end == 'k') mult = 1ull << 10;
  if (*end == 'M' || *end == 'm') mult = 1ull << 20;
  if (*end == 'G' || *end == 'g') mult = 1ull << 30;
  return static_cast<std::uint64_t>(v * mult);
}

struct Mem {
  std::uint64_t rss_kb = 0, anon_kb = 0, file_kb = 0, hwm_kb = 0;
  double t = 0;  // seconds since the exec
};

Mem read_mem(pid_t pid) {
  Mem m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  std::uint64_t v = 0;
  std::string unit;
  while (in >> key) {
    if (key == "VmRSS:" && in >> v >> unit) m.rss_kb = v;
    if (key == "RssAnon:" && in >> v >> unit) m.anon_kb = v;
    if (key == "RssFile:" && in >> v >> unit) m.file_kb = v;
    if (key == "VmHWM:" && in >> v >> unit) m.hwm_kb = v;
  }
  return m;
}

int usage() {
  std::fprintf(stderr,
               "usage: journal_replay_bench --cli PATH --dir DIR [--events N | --bytes SIZE] "
               "[--file-mb MB] [--subscriber] [--keep] [--reuse]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--cli") {
      a.cli = val();
    } else if (k == "--dir") {
      a.dir = val();
    } else if (k == "--events") {
      a.events = std::strtoull(val().c_str(), nullptr, 10);
    } else if (k == "--bytes") {
      a.events = parse_size(val()) / kRecordBytes;
    } else if (k == "--file-mb") {
      a.file_mb = std::strtoull(val().c_str(), nullptr, 10);
    } else if (k == "--subscriber") {
      a.subscriber = true;
    } else if (k == "--keep") {
      a.keep = true;
    } else if (k == "--reuse") {
      a.reuse = true;
    } else {
      return usage();
    }
  }
  if (a.cli.empty() || a.dir.empty() || a.events == 0) return usage();

  BusConfig config;
  config.name = "jreplay" + std::to_string(::getpid());
  config.ring_capacity = {1024, 1024, 1u << 16, 1024};
  auto bus = Bus::create(config, {.name = "bench"});
  if (!bus) {
    std::fprintf(stderr, "bus: %s\n", bus.message().c_str());
    return 1;
  }
  if (!bus->register_topic("md.quote.ESZ6", kPayload)) return 1;

  if (!(a.reuse && fs::exists(a.dir))) {
    std::error_code ec;
    fs::remove_all(a.dir, ec);
    journal::JournalOptions o;
    o.dir = a.dir;
    o.file_bytes = a.file_mb << 20;
    auto w = journal::Writer::open(o);
    if (!w) {
      std::fprintf(stderr, "journal: %s\n", w.message().c_str());
      return 1;
    }
    std::vector<std::byte> payload(kPayload, std::byte{0x42});
    journal::RecordMeta m;
    m.topic = "md.quote.ESZ6";
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < a.events; ++i) {
      m.producer_seq = i;
      m.publish_ns = i;
      if (const auto st = w->append(m, payload); st != journal::AppendStatus::kOk) {
        std::fprintf(stderr, "append %llu: %s %s\n", static_cast<unsigned long long>(i),
                     std::string(journal::append_status_name(st)).c_str(), w->last_error().c_str());
        return 1;
      }
    }
    if (auto r = w->close(); !r) {
      std::fprintf(stderr, "close: %s\n", r.message().c_str());
      return 1;
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("wrote %llu events (%.2f GB) in %.1f s\n",
                static_cast<unsigned long long>(a.events),
                static_cast<double>(a.events * kRecordBytes) / 1e9, s);
  }

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> received{0};
  std::thread sub;
  std::optional<Bus> subscriber;
  if (a.subscriber) {
    auto s = Bus::attach(config.name, {.name = "count", .wait = WaitStrategy::kSpinYield});
    if (!s) {
      std::fprintf(stderr, "subscriber: %s\n", s.message().c_str());
      return 1;
    }
    subscriber.emplace(std::move(*s));
    (void)subscriber->on("md.*", [&](const EventView&) {
      received.store(received.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    });
    sub = std::thread([&] {
      while (!stop.load()) (void)subscriber->poll_wait(4096, std::chrono::milliseconds(5));
    });
  }

  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(a.cli.c_str(), a.cli.c_str(), "replay", a.dir.c_str(), "--bus", config.name.c_str(),
            "--speed", "max", static_cast<char*>(nullptr));
    std::perror("exec");
    ::_exit(127);
  }
  std::vector<Mem> samples;
  int status = 0;
  rusage ru{};
  for (;;) {
    const pid_t r = ::wait4(pid, &status, WNOHANG, &ru);
    if (r == pid) break;
    samples.push_back(read_mem(pid));
    samples.back().t = std::chrono::duration<double>(Clock::now() - t0).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  if (a.subscriber) {
    // Everything was published when the child exited; the subscriber may still be draining.
    const auto until = Clock::now() + std::chrono::seconds(30);
    while (received.load() < a.events && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop.store(true);
    subscriber->stop();
    sub.join();
  }
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf(
      "replay exit %d: %llu events in %.2f s wall = %.2f M/s; child CPU %.2f s "
      "(user %.2f, sys %.2f) = %.2f M/s per CPU s\n",
      WIFEXITED(status) ? WEXITSTATUS(status) : -1, static_cast<unsigned long long>(a.events), wall,
      static_cast<double>(a.events) / wall / 1e6, cpu,
      static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6,
      static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6,
      static_cast<double>(a.events) / cpu / 1e6);
  if (a.subscriber) {
    std::printf("subscriber received %llu of %llu\n",
                static_cast<unsigned long long>(received.load()),
                static_cast<unsigned long long>(a.events));
  }
  // Samples after the first second: start-up (the bus attach) is not the steady state.
  Mem lo{~0ull, ~0ull, ~0ull, 0, 0}, hi{};
  std::uint64_t peak = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Mem& m = samples[i];
    if (m.rss_kb == 0) continue;  // exiting
    peak = std::max(peak, m.hwm_kb);
    if (m.t < 1.0) continue;
    lo.rss_kb = std::min(lo.rss_kb, m.rss_kb);
    lo.anon_kb = std::min(lo.anon_kb, m.anon_kb);
    lo.file_kb = std::min(lo.file_kb, m.file_kb);
    hi.rss_kb = std::max(hi.rss_kb, m.rss_kb);
    hi.anon_kb = std::max(hi.anon_kb, m.anon_kb);
    hi.file_kb = std::max(hi.file_kb, m.file_kb);
  }
  std::printf(
      "replayer memory, %zu samples (100 ms apart or more): VmRSS %llu..%llu kB (RssAnon "
      "%llu..%llu, RssFile %llu..%llu) after the first second; VmHWM %llu kB\n",
      samples.size(), static_cast<unsigned long long>(lo.rss_kb),
      static_cast<unsigned long long>(hi.rss_kb), static_cast<unsigned long long>(lo.anon_kb),
      static_cast<unsigned long long>(hi.anon_kb), static_cast<unsigned long long>(lo.file_kb),
      static_cast<unsigned long long>(hi.file_kb), static_cast<unsigned long long>(peak));
  for (std::size_t i = 0; i < samples.size(); i += std::max<std::size_t>(1, samples.size() / 10)) {
    std::printf("  t=%.1fs VmRSS %llu kB\n", samples[i].t,
                static_cast<unsigned long long>(samples[i].rss_kb));
  }
  if (!a.keep) {
    std::error_code ec;
    fs::remove_all(a.dir, ec);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
