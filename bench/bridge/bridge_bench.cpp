// shmbus-bridge-bench: bus -> NATS -> bus through two shmbus-bridge processes, beside plain core
// NATS pub/sub with the same client library in the same run, and the durable export rate beside
// the client's own asynchronous JetStream publish. Starts its own nats-server (-js) on a free
// loopback port. 64-byte messages. Prints one line per figure and a ratio summary.
//   shmbus-bridge-bench [--bridge PATH] [--latency N] [--throughput N] [--durable N]
//                       [--export-wait block|yield|spin] [--latency-wait W]
//                       [--throughput-wait W] [--batch N]
// Each phase runs the bridges tuned for it, as plain NATS is: the latency phase with
// --send-asap (plain: SendAsap), the throughput phase with the client's buffering (plain: the
// same). --latency-wait / --throughput-wait: how the exporting bridge's dispatcher waits in
// that phase (shmbus-bridge --wait); --export-wait sets both. --batch: the exporting bridge's
// batch size (shmbus-bridge --batch; 1 = one event per message). Each is passed on only when
// given, so the bench also drives bridges older than them.
#include <arpa/inet.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "shmbus/bridge_stats.hpp"
#include "shmbus/bus.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

template <typename F>
bool wait_until(F f, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (!f()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

struct Stats {
  double p50_us = 0, p999_us = 0;
};
Stats percentiles(std::vector<std::uint64_t>& v) {
  std::sort(v.begin(), v.end());
  Stats s;
  if (v.empty()) return s;
  s.p50_us = double(v[v.size() / 2]) / 1e3;
  s.p999_us = double(v[std::min(v.size() - 1, v.size() * 999 / 1000)]) / 1e3;
  return s;
}

struct Msg64 {
  std::uint64_t ts;
  std::uint64_t seq;
  char pad[48];
};
static_assert(sizeof(Msg64) == 64);

// ---- plain core NATS ------------------------------------------------------------------------
struct PlainSub {
  std::atomic<std::uint64_t> got{0};
  std::atomic<std::uint64_t> last_lat{0};
  static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* c) {
    auto* self = static_cast<PlainSub*>(c);
    Msg64 x{};
    std::memcpy(&x, natsMsg_GetData(m), sizeof x);
    self->last_lat.store(now_ns() - x.ts, std::memory_order_relaxed);
    self->got.fetch_add(1, std::memory_order_release);
    natsMsg_Destroy(m);
  }
};

natsConnection* connect(const std::string& url, bool asap) {
  natsOptions* o = nullptr;
  natsOptions_Create(&o);
  natsOptions_SetURL(o, url.c_str());
  natsOptions_SetSendAsap(o, asap);
  natsConnection* nc = nullptr;
  natsConnection_Connect(&nc, o);
  natsOptions_Destroy(o);
  return nc;
}

// Latency with `asap` (each message written at once, as `shmbus-bridge --send-asap`), throughput
// with the client's default buffering (as the bridge without it).
void plain_nats(const std::string& url, bool asap, std::uint64_t lat_n, std::uint64_t tp_n,
                Stats& lat, double& rate) {
  natsConnection* pub = connect(url, asap);
  natsConnection* subc = connect(url, asap);
  PlainSub ps;
  natsSubscription* sub = nullptr;
  natsConnection_Subscribe(&sub, subc, "plain.x", &PlainSub::on_msg, &ps);
  natsSubscription_SetPendingLimits(sub, -1, -1);
  natsConnection_Flush(subc);
  // Latency: one message at a time, the next once the previous arrived.
  std::vector<std::uint64_t> v;
  v.reserve(lat_n);
  Msg64 m{};
  for (std::uint64_t i = 0; i < lat_n; ++i) {
    const std::uint64_t before = ps.got.load();
    m.ts = now_ns();
    m.seq = i;
    natsConnection_Publish(pub, "plain.x", &m, sizeof m);
    while (ps.got.load(std::memory_order_acquire) == before) std::this_thread::yield();
    v.push_back(ps.last_lat.load());
  }
  lat = percentiles(v);
  // Throughput: as fast as the client takes them, until the subscriber has them all.
  const std::uint64_t base = ps.got.load();
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < tp_n; ++i) natsConnection_Publish(pub, "plain.x", &m, sizeof m);
  natsConnection_Flush(pub);
  wait_until([&] { return ps.got.load() - base >= tp_n; }, 120s);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  rate = double(ps.got.load() - base) / secs;
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(pub);
  natsConnection_Destroy(subc);
}

double plain_js_async(const std::string& url, std::uint64_t n) {
  natsConnection* nc = nullptr;
  natsConnection_ConnectTo(&nc, url.c_str());
  jsCtx* js = nullptr;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 16384;
  natsConnection_JetStream(&js, nc, &jo);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subj[] = {"plainjs.>"};
  cfg.Name = "PLAINJS";
  cfg.Subjects = subj;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  jsErrCode jerr{};
  js_AddStream(nullptr, js, &cfg, nullptr, &jerr);
  Msg64 m{};
  char id[64];
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    // Same headers as the bridge's durable export: a message id for de-duplication.
    natsMsg* msg = nullptr;
    natsMsg_Create(&msg, "plainjs.x", nullptr, reinterpret_cast<const char*>(&m), sizeof m);
    std::snprintf(id, sizeof id, "plain.%llu", static_cast<unsigned long long>(i));
    natsMsgHeader_Set(msg, "Nats-Msg-Id", id);
    js_PublishMsgAsync(js, &msg, nullptr);
    natsMsg_Destroy(msg);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 120000;
  js_PublishAsyncComplete(js, &po);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return double(n) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shmbus-bridge-bench: bus -> NATS -> bus beside plain NATS"};
  std::string bridge_bin, nats_bin = "/usr/sbin/nats-server";  // Debian's place
  for (const char* p : {"/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
    if (::access(p, X_OK) == 0) nats_bin = p;
  }
  std::uint64_t lat_n = 20000, tp_n = 1'000'000, dur_n = 100'000;
  app.add_option("--bridge", bridge_bin, "path of shmbus-bridge")->required();
  app.add_option("--nats-server", nats_bin, "path of nats-server");
  app.add_option("--latency", lat_n, "messages for latency (one at a time)");
  app.add_option("--throughput", tp_n, "messages for throughput");
  app.add_option("--durable", dur_n, "messages for the durable export rate");
  std::string export_wait, latency_wait, throughput_wait, batch;  // passed on only when given
  app.add_option("--export-wait", export_wait,
                 "exporting bridge's --wait in both phases (block, yield, spin)");
  app.add_option("--latency-wait", latency_wait, "exporting bridge's --wait, latency phase");
  app.add_option("--throughput-wait", throughput_wait,
                 "exporting bridge's --wait, throughput and durable phases");
  app.add_option("--batch", batch, "exporting bridge's --batch (1: one event per message)");
  CLI11_PARSE(app, argc, argv);
  if (latency_wait.empty()) latency_wait = export_wait;
  if (throughput_wait.empty()) throughput_wait = export_wait;

  const std::string dir = "/tmp/shmbus-bridge-bench." + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const int port = free_port();
  const std::string url = "nats://127.0.0.1:" + std::to_string(port);
  const pid_t nats = spawn({nats_bin, "-a", "127.0.0.1", "-p", std::to_string(port), "-js", "-sd",
                            dir + "/js", "-l", dir + "/nats.log"});
  natsConnection* probe = nullptr;
  if (!wait_until([&] { return natsConnection_ConnectTo(&probe, url.c_str()) == NATS_OK; }, 10s)) {
    std::fprintf(stderr, "nats-server did not start\n");
    return 1;
  }
  natsConnection_Destroy(probe);

  Stats plain_lat, unused;
  double plain_rate = 0, unused_rate = 0;
  plain_nats(url, true, lat_n, 0, plain_lat, unused_rate);
  plain_nats(url, false, 0, tp_n, unused, plain_rate);
  const double js_rate = plain_js_async(url, dur_n);

  // Two buses, a bridge each: A exports md.* and order.*, B imports md.* (core).
  using namespace shmbus;
  const std::string a_name = "bba" + std::to_string(::getpid()),
                    b_name = "bbb" + std::to_string(::getpid());
  BusConfig ca;
  ca.name = a_name;
  ca.ring_capacity = {16384, 16384, 65536, 16384};
  ca.history_depth = 0;
  BusConfig cb = ca;
  cb.name = b_name;
  AgentOptions po;
  po.name = "pub";
  po.full_policy = FullPolicy::kWait;
  auto bus_a = Bus::create(ca, po);
  auto bus_b = Bus::create(cb, po);
  if (!bus_a || !bus_b) {
    std::fprintf(stderr, "bus: %s %s\n", bus_a.message().c_str(), bus_b.message().c_str());
    return 1;
  }
  AgentOptions so;
  so.name = "sub";
  so.wait = WaitStrategy::kSpinYield;
  so.handler_budget = 0ns;
  auto sub_b = Bus::attach(b_name, so);
  std::atomic<std::uint64_t> got{0}, last_lat{0};
  (void)sub_b->on("md.*", [&](const EventView& e) {
    Msg64 x{};
    std::memcpy(&x, e.payload.data(), sizeof x);
    last_lat.store(now_ns() - x.ts, std::memory_order_relaxed);
    got.fetch_add(1, std::memory_order_release);
  });
  std::atomic<bool> stop_sub{false};
  std::thread sub_thread([&] {
    while (!stop_sub.load()) sub_b->poll_wait(4096, 1ms);
  });
  auto md = bus_a->register_topic("md.x", sizeof(Msg64));
  auto order = bus_a->register_topic("order.x", sizeof(Msg64));
  Msg64 m{};
  pid_t bridge_a = 0, bridge_b = 0;
  const auto start_bridges = [&](bool asap) {
    std::vector<std::string> xa{bridge_bin, "--bus",       a_name,     "--nats",
                                url,        "--export",    "md.*",     "--export",
                                "order.*",  "--durable",   "order.*",  "--state-dir",
                                dir + "/a", "--no-resume", "--window", "65536"};
    const std::string& wait = asap ? latency_wait : throughput_wait;
    if (!wait.empty()) xa.insert(xa.end(), {"--wait", wait});
    if (!batch.empty()) xa.insert(xa.end(), {"--batch", batch});
    std::vector<std::string> xb{bridge_bin, "--bus", b_name,        "--nats",  url,
                                "--import", "md.*",  "--state-dir", dir + "/b"};
    if (asap) {
      xa.push_back("--send-asap");
      xb.push_back("--send-asap");
    }
    bridge_a = spawn(xa);
    bridge_b = spawn(xb);
    // Until a message goes through end to end (both bridges up, subscription in place).
    const std::uint64_t before = got.load();
    return wait_until(
        [&] {
          m.ts = now_ns();
          (void)bus_a->publish(*md, &m, sizeof m);
          return got.load() > before;
        },
        30s);
  };
  if (!start_bridges(true)) {
    std::fprintf(stderr, "no event crossed the bridges\n");
    return 1;
  }
  std::this_thread::sleep_for(100ms);
  std::vector<std::uint64_t> v;
  v.reserve(lat_n);
  for (std::uint64_t i = 0; i < lat_n; ++i) {
    const std::uint64_t before = got.load();
    m.ts = now_ns();
    m.seq = i;
    (void)bus_a->publish(*md, &m, sizeof m);
    // Wait as the plain NATS loop does (yielding, no sleep): both see the same pacing.
    const auto deadline = Clock::now() + 5s;
    while (got.load(std::memory_order_acquire) == before && Clock::now() < deadline) {
      std::this_thread::yield();
    }
    if (got.load(std::memory_order_acquire) == before) break;
    v.push_back(last_lat.load());
  }
  const Stats bridged_lat = percentiles(v);
  stop(bridge_a);
  stop(bridge_b);
  if (!start_bridges(false)) {
    std::fprintf(stderr, "no event crossed the bridges\n");
    return 1;
  }
  std::this_thread::sleep_for(100ms);
  const std::uint64_t base = got.load();
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < tp_n; ++i) (void)bus_a->publish(*md, &m, sizeof m);
  // Until every event arrived or nothing arrives for a second (shed ones never will).
  std::uint64_t seen = got.load();
  auto last_change = Clock::now();
  while (got.load() - base < tp_n && Clock::now() - last_change < 1s) {
    std::this_thread::sleep_for(1ms);
    if (got.load() != seen) {
      seen = got.load();
      last_change = Clock::now();
    }
  }
  const double tp_secs =
      std::chrono::duration<double>((got.load() - base >= tp_n ? Clock::now() : last_change) - t0)
          .count();
  const std::uint64_t arrived = got.load() - base;
  const double bridged_rate = double(arrived) / tp_secs;
  // Core topics shed rather than block: say where (A's client buffer, or B's bus ring full).
  std::uint64_t shed_a = 0, shed_b = 0;
  if (auto s = bridge::read_bridge_stats(dir + "/a")) {
    for (auto x : s->out.shed) shed_a += x;
  }
  if (auto s = bridge::read_bridge_stats(dir + "/b")) {
    for (auto x : s->in.shed) shed_b += x;
  }

  // Durable export: acked or shed (a full window sheds); the rate counts acks.
  const auto figures = [&](std::uint64_t& shed) {
    auto s = bridge::read_bridge_stats(dir + "/a");
    shed = 0;
    if (!s) return std::uint64_t{0};
    for (auto x : s->out.shed) shed += x;
    return s->out.acked;
  };
  std::uint64_t shed0 = 0, dur_shed = 0;
  const std::uint64_t acked0 = figures(shed0);
  const auto t1 = Clock::now();
  for (std::uint64_t i = 0; i < dur_n; ++i) (void)bus_a->publish(*order, &m, sizeof m);
  wait_until([&] { return figures(dur_shed) - acked0 + (dur_shed - shed0) >= dur_n; }, 300s);
  const std::uint64_t dur_acked = figures(dur_shed) - acked0;
  dur_shed -= shed0;
  const double dur_rate =
      double(dur_acked) / std::chrono::duration<double>(Clock::now() - t1).count();

  std::printf("plain core NATS      latency p50 %.1f us p99.9 %.1f us  throughput %.0f msg/s\n",
              plain_lat.p50_us, plain_lat.p999_us, plain_rate);
  std::printf(
      "bus->NATS->bus       latency p50 %.1f us p99.9 %.1f us  throughput %.0f msg/s "
      "(%llu of %llu arrived; shed by the exporter %llu, by the importer %llu)\n",
      bridged_lat.p50_us, bridged_lat.p999_us, bridged_rate,
      static_cast<unsigned long long>(arrived), static_cast<unsigned long long>(tp_n),
      static_cast<unsigned long long>(shed_a), static_cast<unsigned long long>(shed_b));
  std::printf("bridge A --wait      latency phase %s, throughput and durable phases %s\n",
              latency_wait.empty() ? "block (default)" : latency_wait.c_str(),
              throughput_wait.empty() ? "block (default)" : throughput_wait.c_str());
  std::printf("JetStream async pub  %.0f msg/s\n", js_rate);
  std::printf("durable export       %.0f msg/s (%llu acked, %llu shed)\n", dur_rate,
              static_cast<unsigned long long>(dur_acked),
              static_cast<unsigned long long>(dur_shed));
  std::printf(
      "ratios: throughput %.2fx plain, p50 +%.1f us, p99.9 +%.1f us, durable %.2fx async JS\n",
      bridged_rate / plain_rate, bridged_lat.p50_us - plain_lat.p50_us,
      bridged_lat.p999_us - plain_lat.p999_us, dur_rate / js_rate);
  stop_sub.store(true);
  sub_thread.join();
  stop(bridge_a);
  stop(bridge_b);
  stop(nats);
  std::filesystem::remove_all(dir);
  return 0;
}
