// The supervisor's Prometheus endpoint (supervisor/metrics_collector.*, SupervisorConfig::
// metrics_address): a supervisor run in-process serves /metrics on an ephemeral loopback port;
// the test attaches agents, publishes a known number of events, closes a barrier round and
// scrapes over a plain socket, checking the series against the bus. Also: the endpoint binds
// loopback unless told otherwise, and the shmbus-supervisor binary serves it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmbus/barrier.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/supervisor.hpp"
#include "testing/test_support.hpp"

namespace shmbus {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
namespace {

using namespace std::chrono_literals;
using shmbus::testing::Child;
using shmbus::testing::eventually;
using shmbus::testing::SegmentGuard;
using shmbus::testing::unique_bus_name;

using Labels = std::map<std::string, std::string>;

/// One sample of the text exposition format: name{labels} value.
struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

/// GET /metrics from 127.0.0.1:port over HTTP/1.0 (the server closes after the body). Returns
/// the body of a 200 answer; nullopt on any failure.
std::optional<std::string> scrape(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        response.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  const auto head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos || response.rfind("HTTP/1.", 0) != 0 ||
      response.find(" 200 ") > response.find("\r\n")) {
    return std::nullopt;
  }
  return response.substr(head_end + 4);
}

std::vector<Sample> parse(const std::string& body) {
  std::vector<Sample> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (i != std::string::npos && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const auto eq = line.find('=', i);
        const auto q2 = line.find('"', eq + 2);  // label values here hold no quotes
        s.labels[line.substr(i, eq - i)] = line.substr(eq + 2, q2 - eq - 2);
        i = q2 + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;
    }
    s.value = std::stod(line.substr(line.find_first_not_of(' ', i)));
    out.push_back(std::move(s));
  }
  return out;
}

/// The value of the one sample of `name` whose labels include `labels`; nullopt when none.
std::optional<double> value(const std::vector<Sample>& samples, const std::string& name,
                            const Labels& labels) {
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) return s.value;
  }
  return std::nullopt;
}

SupervisorConfig test_config(const std::string& bus, const std::string& metrics) {
  SupervisorConfig c;
  c.bus.name = bus;
  c.bus.ring_capacity = {512, 1024, 2048, 4096};
  c.bus.history_depth = 0;
  c.bus.max_agents = 16;
  c.bus.max_topics = 64;
  c.check_period = 5ms;
  c.metrics_address = metrics;
  return c;
}

struct Listener {
  std::string address;  ///< hex, as in /proc/net/tcp ("0100007F" is 127.0.0.1)
  bool v6 = false;
};

/// The socket inodes process `pid` holds open (its /proc/<pid>/fd links "socket:[N]").
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && target.starts_with("socket:[") && target.ends_with("]")) {
      out.insert(target.substr(8, target.size() - 9));
    }
  }
  return out;
}

/// Sockets listening on `port` (state 0A) in /proc/net/tcp and tcp6, any process; with `pid`,
/// only those whose inode process `pid` holds (other tests running alongside may listen on the
/// same port number on another address, or on 9464, the default).
std::vector<Listener> listeners(std::uint16_t port, std::optional<pid_t> pid) {
  std::vector<Listener> out;
  std::set<std::string> mine;
  if (pid) mine = socket_inodes(*pid);
  char want[8];
  std::snprintf(want, sizeof want, "%04X", port);
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retrnsmt, uid, timeout, inode;
      f >> sl >> local >> remote >> state >> queues >> timer >> retrnsmt >> uid >> timeout >> inode;
      const auto colon = local.rfind(':');
      if (state == "0A" && colon != std::string::npos && local.substr(colon + 1) == want &&
          (!pid || mine.contains(inode))) {
        out.push_back({local.substr(0, colon), std::string(path).ends_with("6")});
      }
    }
  }
  return out;
}

/// Sockets this process, or process `pid`, listens on at `port`.
std::vector<Listener> listeners(std::uint16_t port, pid_t pid = ::getpid()) {
  return listeners(port, std::optional<pid_t>(pid));
}

/// True when anything on this host listens on `port` (any process, any address).
bool port_in_use(std::uint16_t port) {
  return !listeners(port, std::nullopt).empty();
}

/// A port nothing listens on right now (the kernel's pick for a socket closed at once).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool tick_until(Supervisor& sup, const std::function<bool()>& cond,
                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    sup.tick();
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
}

TEST(MetricsTest, ServesSeriesMatchingTheBus) {
  const std::string name = unique_bus_name("met");
  SegmentGuard guard(name);
  auto sup = Supervisor::start(test_config(name, "127.0.0.1:0"));
  ASSERT_TRUE(sup) << sup.message();
  const std::uint16_t port = sup->metrics_port();
  ASSERT_NE(port, 0);

  auto pub = Bus::attach(name, AgentOptions{.name = "pub"});
  ASSERT_TRUE(pub) << pub.message();
  auto sub = Bus::attach(name, AgentOptions{.name = "sub"});
  ASSERT_TRUE(sub) << sub.message();
  auto topic = pub->register_topic("md.quote", sizeof(std::uint64_t));
  ASSERT_TRUE(topic) << topic.message();
  std::uint64_t received = 0;
  ASSERT_TRUE(sub->on("md.quote", [&](const EventView&) { ++received; }));

  constexpr std::uint64_t kNormal = 300, kHigh = 7;
  for (std::uint64_t i = 0; i < kNormal; ++i) {
    ASSERT_EQ(pub->publish(*topic, &i, sizeof i), PublishStatus::kOk);
  }
  for (std::uint64_t i = 0; i < kHigh; ++i) {
    ASSERT_EQ(pub->publish(*topic, &i, sizeof i, Priority::kHigh), PublishStatus::kOk);
  }
  ASSERT_TRUE(eventually(
      [&] {
        sub->poll();
        return received == kNormal + kHigh;
      },
      10s));

  // One barrier round, completed: pub is the only participant and also the waiter.
  ASSERT_TRUE(create_barrier(*pub, "decide", std::vector<std::string>{"pub"}, 5s));
  auto barrier = Barrier::open(*pub, "decide");
  ASSERT_TRUE(barrier) << barrier.message();
  ASSERT_TRUE(barrier->become_waiter());
  const std::byte signal[1] = {std::byte{1}};
  ASSERT_EQ(barrier->arrive(signal), ArriveStatus::kAccepted);
  auto round = barrier->wait(5s);
  ASSERT_TRUE(round) << round.message();
  ASSERT_TRUE(round->complete);

  // Both agents judged healthy by the supervisor.
  std::vector<Sample> m;
  ASSERT_TRUE(tick_until(
      *sup,
      [&] {
        auto body = scrape(port);
        if (!body) return false;
        m = parse(*body);
        // Under a sanitizer the delivery latency alone can make an agent DEGRADED (2).
        const double worst = kSanitized ? 2.0 : 1.0;
        auto ok = [&](const char* agent) {
          const std::optional<double> h = value(m, "shmbus_agent_health", {{"agent", agent}});
          return h.has_value() && *h >= 1.0 && *h <= worst;
        };
        return ok("pub") && ok("sub");
      },
      10s))
      << "agents not reported healthy";

  const Labels bus{{"bus", name}};
  EXPECT_EQ(value(m, "shmbus_supervisor_up", bus), 1.0);
  EXPECT_EQ(value(m, "shmbus_events_published_total",
                  {{"bus", name}, {"agent", "pub"}, {"ring", "normal"}}),
            static_cast<double>(kNormal));
  EXPECT_EQ(value(m, "shmbus_events_published_total",
                  {{"bus", name}, {"agent", "pub"}, {"ring", "high"}}),
            static_cast<double>(kHigh));
  EXPECT_EQ(value(m, "shmbus_events_delivered_total", {{"agent", "sub"}, {"ring", "normal"}}),
            static_cast<double>(kNormal));
  EXPECT_EQ(value(m, "shmbus_events_shed_total", {{"agent", "pub"}, {"ring", "normal"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_events_dropped_total", {{"agent", "pub"}, {"ring", "normal"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_events_failed_total", {{"agent", "sub"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_topic_published_total", {{"topic", "md.quote"}}),
            static_cast<double>(kNormal + kHigh));
  EXPECT_EQ(value(m, "shmbus_ring_capacity", {{"ring", "critical"}}), 512.0);
  EXPECT_EQ(value(m, "shmbus_ring_capacity", {{"ring", "normal"}}), 2048.0);
  EXPECT_EQ(value(m, "shmbus_ring_capacity", {{"ring", "low"}}), 4096.0);
  // Everything consumed: no fill, no lag, level NORMAL.
  EXPECT_EQ(value(m, "shmbus_ring_fill_events", {{"ring", "normal"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_ring_fill_ratio", {{"ring", "normal"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_ring_backpressure_level", {{"ring", "normal"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_agent_lag_events", {{"agent", "sub"}, {"ring", "normal"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_agent_up", {{"agent", "pub"}}), 1.0);
  EXPECT_EQ(value(m, "shmbus_agent_up", {{"agent", "sub"}}), 1.0);
  EXPECT_EQ(value(m, "shmbus_agent_up", {{"agent", "supervisor"}}), 1.0);
  // The latency histogram of the subscriber counts every delivery; +Inf equals _count.
  const Labels sub_agent{{"agent", "sub"}};
  EXPECT_EQ(value(m, "shmbus_delivery_latency_seconds_count", sub_agent),
            static_cast<double>(kNormal + kHigh));
  EXPECT_EQ(value(m, "shmbus_delivery_latency_seconds_bucket", {{"agent", "sub"}, {"le", "+Inf"}}),
            static_cast<double>(kNormal + kHigh));
  EXPECT_TRUE(value(m, "shmbus_delivery_latency_seconds_sum", sub_agent).has_value());
  // Bucket bounds are the log2 buckets: 64 ns << b, in seconds.
  bool has_first_bound = false;
  for (const Sample& s : m) {
    if (s.name == "shmbus_delivery_latency_seconds_bucket" && s.labels.at("le") != "+Inf") {
      has_first_bound = has_first_bound || std::abs(std::stod(s.labels.at("le")) - 64e-9) < 1e-15;
    }
  }
  EXPECT_TRUE(has_first_bound) << "no bucket le=64 ns";
  // Buckets are cumulative: never decreasing.
  double last = 0;
  for (const Sample& s : m) {
    if (s.name != "shmbus_delivery_latency_seconds_bucket" || s.labels.at("agent") != "sub") {
      continue;
    }
    EXPECT_GE(s.value, last) << "le=" << s.labels.at("le");
    last = s.value;
  }
  EXPECT_EQ(value(m, "shmbus_barrier_rounds_completed_total", {{"barrier", "decide"}}), 1.0);
  EXPECT_EQ(value(m, "shmbus_barrier_rounds_timed_out_total", {{"barrier", "decide"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_barrier_generation", {{"barrier", "decide"}}),
            static_cast<double>(round->generation + 1));
  EXPECT_EQ(value(m, "shmbus_claims_padded_total", bus), 0.0);
  EXPECT_EQ(value(m, "shmbus_agents_recovered_total", bus), 0.0);

  ASSERT_TRUE(sup->shutdown());
  EXPECT_FALSE(scrape(port).has_value()) << "endpoint still serving after shutdown";
}

TEST(MetricsTest, BarePortBindsLoopbackOnly) {
  const std::string name = unique_bus_name("metlo");
  SegmentGuard guard(name);
  EXPECT_EQ(std::string(kDefaultMetricsAddress), "127.0.0.1:9464");
  EXPECT_TRUE(SupervisorConfig{}.metrics_address.empty()) << "the library opens no port unasked";
  auto sup = Supervisor::start(test_config(name, "0"));
  ASSERT_TRUE(sup) << sup.message();
  const std::uint16_t port = sup->metrics_port();
  ASSERT_NE(port, 0);
  const std::vector<Listener> ls = listeners(port);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_FALSE(ls[0].v6);
  EXPECT_EQ(ls[0].address, "0100007F") << "bound to a non-loopback address";
  EXPECT_TRUE(scrape(port).has_value());
}

TEST(MetricsTest, RejectsMalformedAddress) {
  SupervisorConfig c = test_config(unique_bus_name("metbad"), "127.0.0.1:http");
  EXPECT_NE(validate_supervisor_config(c), "");
  c.metrics_address = "127.0.0.1:70000";
  EXPECT_NE(validate_supervisor_config(c), "");
  c.metrics_address = "[::1]:9464";
  EXPECT_EQ(validate_supervisor_config(c), "");
}

std::string supervisor_binary() {
  return shmbus::testing::bin_dir() + "/agents/supervisor/shmbus-supervisor";
}

TEST(MetricsTest, BinaryServesMetricsOnGivenPort) {
  const std::string name = unique_bus_name("metbin");
  SegmentGuard guard(name);
  const std::uint16_t port = free_port();
  Child sup = Child::exec(supervisor_binary(), {"--bus", name, "--metrics-address",
                                                std::to_string(port), "--log-level", "warn"});
  std::vector<Sample> m;
  ASSERT_TRUE(eventually(
      [&] {
        auto body = scrape(port);
        if (!body) return false;
        m = parse(*body);
        return value(m, "shmbus_supervisor_up", {{"bus", name}}) == 1.0;
      },
      20s));
  EXPECT_EQ(value(m, "shmbus_agent_up", {{"agent", "supervisor"}}), 1.0);
  const std::vector<Listener> ls = listeners(port, sup.pid());
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0].address, "0100007F");
  sup.kill(SIGTERM);
  EXPECT_EQ(sup.wait(20s), 0);
}

// Without --metrics-address the binary listens on 127.0.0.1:9464, never on every interface.
TEST(MetricsTest, BinaryDefaultsToLoopback) {
  if (port_in_use(9464)) GTEST_SKIP() << "port 9464 already in use here";
  const std::string name = unique_bus_name("metdef");
  SegmentGuard guard(name);
  Child sup = Child::exec(supervisor_binary(), {"--bus", name, "--log-level", "warn"});
  ASSERT_TRUE(eventually([&] { return !listeners(9464, sup.pid()).empty(); }, 20s));
  for (const Listener& l : listeners(9464, sup.pid())) {
    EXPECT_FALSE(l.v6);
    EXPECT_EQ(l.address, "0100007F");
  }
  sup.kill(SIGTERM);
  EXPECT_EQ(sup.wait(20s), 0);
}

TEST(MetricsTest, BinaryNoMetricsOpensNoPort) {
  const std::string name = unique_bus_name("metoff");
  SegmentGuard guard(name);
  const std::uint16_t port = free_port();
  Child sup =
      Child::exec(supervisor_binary(), {"--bus", name, "--metrics-address", std::to_string(port),
                                        "--no-metrics", "--log-level", "warn"});
  // Bus health is first judged in the first tick, after start() would have bound the port.
  ASSERT_TRUE(eventually(
      [&] {
        auto snap = inspect_bus(name);
        return snap && snap->bus_health != sys::HealthState::kUnknown;
      },
      20s));
  EXPECT_TRUE(listeners(port, sup.pid()).empty());
  sup.kill(SIGTERM);
  EXPECT_EQ(sup.wait(20s), 0);
}

// A journal agent running on the bus shows up on /metrics (found through its registration, the
// supervisor is not told its directory): records, bytes, ring lag, sync, shed and held series.
TEST(MetricsTest, ExposesTheJournalAgentsSeries) {
  const std::string name = unique_bus_name("metj");
  SegmentGuard guard(name);
  auto sup = Supervisor::start(test_config(name, "127.0.0.1:0"));
  ASSERT_TRUE(sup) << sup.message();
  const std::uint16_t port = sup->metrics_port();
  ASSERT_NE(port, 0);
  auto pub = Bus::attach(name, AgentOptions{.name = "pub"});
  ASSERT_TRUE(pub) << pub.message();
  auto topic = pub->register_topic("order.filled", sizeof(std::uint64_t));
  ASSERT_TRUE(topic) << topic.message();

  std::string tmpl = "/tmp/shmbus_metj_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl.data());
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
  } remove_dir{dir};
  Child journal = Child::exec(shmbus::testing::bin_dir() + "/agents/journal/shmbus-journal",
                              {"--bus", name, "--dir", dir, "--name", "jm", "--file-mb", "1",
                               "--no-resume", "--sync", "critical", "--topics", "order.*"});
  struct Unregister {  // a failed assertion SIGKILLs the agent, which leaves its link behind
    std::string link;
    ~Unregister() { ::unlink(link.c_str()); }
  } unregister{"/dev/shm/shmbus-journal." + name + "@jm"};
  const Labels jl{{"bus", name}, {"journal", "jm"}};
  std::vector<Sample> m;
  auto scrape_until = [&](const std::function<bool()>& cond) {
    return tick_until(
        *sup,
        [&] {
          auto body = scrape(port);
          if (!body) return false;
          m = parse(*body);
          return cond();
        },
        10s);
  };
  ASSERT_TRUE(scrape_until([&] { return value(m, "shmbus_journal_up", jl) == 1.0; }))
      << "the journal agent never registered";
  constexpr std::uint64_t kEvents = 50;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    ASSERT_EQ(pub->publish(*topic, &i, sizeof i, i == 0 ? Priority::kCritical : Priority::kNormal),
              PublishStatus::kOk);
  }
  ASSERT_TRUE(scrape_until([&] {
    // The agent's cursors (ring lag) are stored after its STATS: both settle.
    return value(m, "shmbus_journal_records_total", jl) == static_cast<double>(kEvents) &&
           value(m, "shmbus_journal_ring_lag_events", jl) == 0.0;
  })) << "records "
      << value(m, "shmbus_journal_records_total", jl).value_or(-1) << " of " << kEvents
      << ", ring lag " << value(m, "shmbus_journal_ring_lag_events", jl).value_or(-1);
  EXPECT_GT(value(m, "shmbus_journal_bytes_total", jl).value_or(0), 8.0 * kEvents);
  EXPECT_GE(value(m, "shmbus_journal_syncs_total", jl).value_or(0), 1.0) << "--sync critical";
  EXPECT_TRUE(value(m, "shmbus_journal_sync_seconds_max", jl).has_value());
  EXPECT_TRUE(value(m, "shmbus_journal_lag_seconds", jl).has_value());
  EXPECT_EQ(value(m, "shmbus_journal_shed_total", {{"journal", "jm"}, {"ring", "normal"}}), 0.0);
  EXPECT_EQ(value(m, "shmbus_journal_held_events_total", jl), 0.0);
  EXPECT_EQ(value(m, "shmbus_journal_missed_total", jl), 0.0);

  journal.kill(SIGTERM);
  ASSERT_EQ(journal.wait(20s), 0);
  ASSERT_TRUE(scrape_until([&] { return !value(m, "shmbus_journal_up", jl).has_value(); }))
      << "a stopped journal is still listed";
}

}  // namespace
}  // namespace shmbus
