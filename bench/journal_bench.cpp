// The journal (shmbus/journal.hpp) beside the two floors the issue names, in the same run, on
// the same disk: appending 64-byte events to the mapped journal (sync none, every 5 ms, each
// CRITICAL record) vs. one write(2) per record and one write(2)+fdatasync per record of the same
// size; reading the journal back at max speed; and publish p50 on a bus with and without a
// journal recorder attached. Timed: the append / write / next / publish call. The directory is
// $JOURNAL_BENCH_DIR (default ./journal_bench_tmp, removed at the end); it must be on the disk
// you want to judge, not a tmpfs.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shmbus/bus.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/journal_recorder.hpp"

namespace {

namespace fs = std::filesystem;
using namespace shmbus;

std::string bench_dir(const std::string& name) {
  const char* base = std::getenv("JOURNAL_BENCH_DIR");
  const fs::path dir = fs::path(base != nullptr ? base : "journal_bench_tmp") / name;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir.parent_path(), ec);
  return dir.string();
}

constexpr std::size_t kPayload = 64;
const std::string kTopic = "md.quote.ESZ6";
// The same bytes per record as the journal writes: 72-byte header + topic + payload, 8-aligned.
constexpr std::size_t kRecordBytes = (72 + 13 + kPayload + 7) / 8 * 8;

void append_bench(benchmark::State& state, journal::SyncPolicy sync, Priority priority) {
  journal::JournalOptions o;
  o.dir = bench_dir("append");
  o.file_bytes = 256ull << 20;
  o.retain_bytes = 1ull << 30;  // keep the disk use bounded on long runs
  o.sync = sync;
  o.sync_interval = std::chrono::milliseconds(5);
  auto w = journal::Writer::open(o);
  if (!w) {
    state.SkipWithError(w.message().c_str());
    return;
  }
  std::vector<std::byte> payload(kPayload, std::byte{0x5a});
  journal::RecordMeta m;
  m.topic = kTopic;
  m.priority = priority;
  for (auto _ : state) {
    m.producer_seq++;
    if (w->append(m, payload) != journal::AppendStatus::kOk) {
      state.SkipWithError(w->last_error().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  const auto& st = w->stats();
  state.counters["syncs"] = static_cast<double>(st.syncs);
  state.counters["sync_avg_us"] =
      st.syncs == 0 ? 0.0
                    : static_cast<double>(st.sync_ns_total) / static_cast<double>(st.syncs) / 1e3;
  (void)w->close();
  fs::remove_all(o.dir);
}

void BM_Journal_Append64_SyncNone(benchmark::State& s) {
  append_bench(s, journal::SyncPolicy::kNone, Priority::kNormal);
}
void BM_Journal_Append64_Sync5ms(benchmark::State& s) {
  append_bench(s, journal::SyncPolicy::kInterval, Priority::kNormal);
}
// Every record CRITICAL under the per-CRITICAL policy: one msync per record.
void BM_Journal_Append64_SyncEachCritical(benchmark::State& s) {
  append_bench(s, journal::SyncPolicy::kCritical, Priority::kCritical);
}

void write_bench(benchmark::State& state, bool datasync) {
  const std::string dir = bench_dir("write");
  fs::create_directories(dir);
  const std::string path = dir + "/log";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    state.SkipWithError("open");
    return;
  }
  std::vector<char> rec(kRecordBytes, 'r');
  std::uint64_t written = 0;
  for (auto _ : state) {
    if (::write(fd, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size()) ||
        (datasync && ::fdatasync(fd) != 0)) {
      state.SkipWithError("write");
      break;
    }
    if ((written += rec.size()) >= (1ull << 30)) {  // bounded disk use
      if (::ftruncate(fd, 0) != 0) break;
      written = 0;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  ::close(fd);
  fs::remove_all(dir);
}
void BM_Write_PerRecord(benchmark::State& s) {
  write_bench(s, false);
}
void BM_WriteFdatasync_PerRecord(benchmark::State& s) {
  write_bench(s, true);
}

// Reads back a journal of 4 M 64-byte records (written once, outside the timing).
void BM_Journal_ReplayMax(benchmark::State& state) {
  static const std::string dir = [] {
    journal::JournalOptions o;
    o.dir = bench_dir("replay");
    o.file_bytes = 128ull << 20;
    auto w = journal::Writer::open(o);
    std::vector<std::byte> payload(kPayload, std::byte{0x33});
    journal::RecordMeta m;
    m.topic = kTopic;
    for (int i = 0; i < 4'000'000 && w; ++i) (void)w->append(m, payload);
    if (w) (void)w->close();
    return o.dir;
  }();
  auto r = journal::Reader::open(dir);
  if (!r) {
    state.SkipWithError(r.message().c_str());
    return;
  }
  journal::Record rec;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    auto got = r->next(rec);
    if (!got || !*got) {
      state.PauseTiming();
      r = journal::Reader::open(dir);
      state.ResumeTiming();
      continue;
    }
    sum += rec.payload.size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Publish latency (p50 of individually timed publishes) on an embedded bus whose one subscriber
// is either a plain handler (Arg 0) or a journal Recorder appending every event (Arg 1), each on
// its own thread and waiting by spin-then-yield, so neither makes the publisher wake it.
void BM_Publish64_Journal(benchmark::State& state) {
  const bool with_journal = state.range(0) == 1;
  BusConfig config;
  config.name = "jbench" + std::to_string(::getpid());
  config.ring_capacity = {4096, 4096, 65536, 4096};
  AgentOptions pub_opts{.name = "pub"};
  pub_opts.full_policy = FullPolicy::kWait;
  auto bus = Bus::create(config, pub_opts);
  if (!bus) {
    state.SkipWithError(bus.message().c_str());
    return;
  }
  const auto topic = bus->register_topic(kTopic, kPayload);
  std::unique_ptr<journal::Recorder> rec;
  std::unique_ptr<Bus> plain;
  std::thread consumer;
  std::atomic<bool> stop{false};
  const std::string dir = bench_dir("publish");
  if (with_journal) {
    journal::RecorderOptions ro;
    ro.bus = config.name;
    ro.agent_name = "journal";
    ro.journal.dir = dir;
    ro.journal.file_bytes = 256ull << 20;
    ro.journal.retain_bytes = 1ull << 30;
    ro.wait = WaitStrategy::kSpinYield;
    auto r = journal::Recorder::open(ro);
    if (!r) {
      state.SkipWithError(r.message().c_str());
      return;
    }
    rec = std::make_unique<journal::Recorder>(std::move(*r));
    consumer = std::thread([&] { (void)rec->run(); });
  } else {
    AgentOptions so{.name = "sub"};
    so.wait = WaitStrategy::kSpinYield;
    auto b = Bus::attach(config.name, so);
    if (!b) {
      state.SkipWithError(b.message().c_str());
      return;
    }
    plain = std::make_unique<Bus>(std::move(*b));
    (void)plain->on("*", [](const EventView&) {});
    consumer = std::thread([&] {
      while (!stop.load()) (void)plain->poll_wait(1024, std::chrono::milliseconds(5));
    });
  }
  std::vector<std::byte> payload(kPayload, std::byte{0x11});
  std::vector<std::uint32_t> ns;
  ns.reserve(1 << 22);
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto st = bus->publish(*topic, payload);
    const auto t1 = std::chrono::steady_clock::now();
    if (st != PublishStatus::kOk) {
      state.SkipWithError(std::string(publish_status_name(st)).c_str());
      break;
    }
    if (ns.size() < ns.capacity()) {
      ns.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (!ns.empty()) {
    std::sort(ns.begin(), ns.end());
    state.counters["p50_ns"] = ns[ns.size() / 2];
    state.counters["p99_ns"] = ns[ns.size() * 99 / 100];
  }
  stop.store(true);
  if (rec) rec->stop();
  if (plain) plain->stop();
  consumer.join();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace

BENCHMARK(BM_Journal_Append64_SyncNone)->MinTime(1.0);
BENCHMARK(BM_Journal_Append64_Sync5ms)->MinTime(1.0);
BENCHMARK(BM_Journal_Append64_SyncEachCritical)->MinTime(1.0);
BENCHMARK(BM_Write_PerRecord)->MinTime(1.0);
BENCHMARK(BM_WriteFdatasync_PerRecord)->MinTime(1.0);
BENCHMARK(BM_Journal_ReplayMax)->MinTime(1.0);
BENCHMARK(BM_Publish64_Journal)->Arg(0)->Arg(1)->MinTime(1.0);

BENCHMARK_MAIN();
