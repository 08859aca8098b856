// The `shmbus` CLI as a user runs it: status/agents JSON against a bus the test built, tail and
// publish against a subscriber in the test, `errors` after another process's handler failed,
// documented exit codes, `top` under a pseudo-terminal, and the payload codec's field lists
// against the catalogue structs.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "payload_json.hpp"
#include "shm/segment.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/catalog.hpp"
#include "shmbus/fields.hpp"
#include "shmbus/inspect.hpp"
#include "testing/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using shmbus::testing::SegmentGuard;
using shmbus::testing::unique_bus_name;

std::string cli_path() {
  return shmbus::testing::bin_dir() + "/agents/cli/shmbus";
}

struct CliRun {
  int code = -1;  // exit code, 128+signal, or -1 on timeout
  std::string out;
  std::string err;
};

/// Runs the CLI with `args`, collecting stdout and stderr; kills it after `timeout`.
CliRun run_cli(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 20s) {
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) return {};
  const std::string path = cli_path();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    std::vector<char*> argv{const_cast<char*>(path.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CliRun run;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) {
      timed_out = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) return run;
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::vector<std::byte> bytes_of(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

/// A bus created by the test (embedded mode: no supervisor), removed at the end.
struct TestBus {
  explicit TestBus(const std::string& tag, const std::string& agent = "creator")
      : guard(unique_bus_name(tag)) {
    shmbus::BusConfig config;
    config.name = guard.name();
    config.ring_capacity = {64, 128, 256, 512};
    config.history_depth = 32;  // at most half of the smallest ring
    auto created = shmbus::Bus::create(config, {.name = agent});
    EXPECT_TRUE(created.ok()) << created.message();
    if (created) bus.emplace(std::move(created.value()));
  }
  SegmentGuard guard;
  std::optional<shmbus::Bus> bus;
  const std::string& name() const { return guard.name(); }
};

// ---- status / agents -------------------------------------------------------------------------

TEST(CliStatusTest, JsonReportsAgentsRingsAndPublishedCounts) {
  TestBus t("clistatus");
  ASSERT_TRUE(t.bus);
  auto second = shmbus::Bus::attach(t.name(), {.name = "second"});
  ASSERT_TRUE(second.ok()) << second.message();
  ASSERT_TRUE(second->on("x.*", [](const shmbus::EventView&) {}).ok());
  auto topic = t.bus->register_topic("x.events", 8);
  ASSERT_TRUE(topic.ok());
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_EQ(t.bus->publish(*topic, &i, sizeof i), shmbus::PublishStatus::kOk);
  }

  const CliRun r = run_cli({"status", "--json", "--bus", t.name()});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["bus"], t.name());
  ASSERT_EQ(j["rings"].size(), 4u);
  const std::uint32_t caps[] = {64, 128, 256, 512};
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(j["rings"][i]["capacity"], caps[i]);
  EXPECT_EQ(j["rings"][2]["priority"], "NORMAL");
  EXPECT_EQ(j["rings"][2]["tail"], 5);
  // "second" subscribed and has not dispatched: it is the slowest tethered cursor, 5 behind.
  EXPECT_EQ(j["rings"][2]["fill"], 5);
  EXPECT_EQ(j["supervisor"]["alive"], false);
  ASSERT_EQ(j["agents"].size(), 2u);
  std::map<std::string, json> agents;
  for (const json& a : j["agents"]) agents[a["name"]] = a;
  ASSERT_TRUE(agents.count("creator") && agents.count("second"));
  EXPECT_EQ(agents["creator"]["totals"]["published"], 5);
  EXPECT_EQ(agents["creator"]["published"][2], 5);
  EXPECT_EQ(agents["creator"]["pid"], ::getpid());
  EXPECT_EQ(agents["second"]["lag"][2], 5);
  EXPECT_TRUE(agents["second"]["alive"].get<bool>());
  bool found_topic = false;
  for (const json& tj : j["topics"]) {
    if (tj["name"] == "x.events") {
      found_topic = true;
      EXPECT_EQ(tj["payload_size"], 8);
    }
  }
  EXPECT_TRUE(found_topic);
  EXPECT_TRUE(j["counters"].contains("claims_padded"));
}

// ---- errors ----------------------------------------------------------------------------------

TEST(CliErrorsTest, ShowsAHandlerFailureOfAnotherProcessAfterItHappened) {
  TestBus t("clierr");
  ASSERT_TRUE(t.bus);
  {
    const CliRun none = run_cli({"errors", "--bus", t.name()});
    ASSERT_EQ(none.code, 0) << none.err;
    EXPECT_NE(none.out.find("no errors"), std::string::npos) << none.out;
  }
  // Another process attaches, its handler throws on the one event it gets, and it leaves.
  const std::string bus_name = t.name();
  shmbus::testing::Child failing = shmbus::testing::Child::fork([&bus_name] {
    // No handler budget: a slow first throw would log a second (handler_slow) entry.
    auto bus = shmbus::Bus::attach(bus_name, {.name = "thrower", .handler_budget = 0ns});
    if (!bus) return 10;
    auto sub = bus->on(
        "x.fail", [](const shmbus::EventView&) -> void { throw std::runtime_error("boom 42"); },
        {.name = "explodes"});
    if (!sub) return 11;
    auto topic = bus->register_topic("x.fail", 8);
    if (!topic) return 12;
    const std::uint64_t v = 7;
    if (bus->publish(*topic, &v, sizeof v) != shmbus::PublishStatus::kOk) return 13;
    return bus->poll_wait(16, 5s) >= 1 ? 0 : 14;
  });
  ASSERT_EQ(failing.wait(20s), 0);

  // Run afterwards, by a process that never saw the sys.error event go by.
  const CliRun r = run_cli({"errors", "--json", "--bus", t.name()});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 1u) << r.out;
  EXPECT_EQ(j[0]["kind"], "handler_exception");
  EXPECT_EQ(j[0]["agent"], "thrower");
  EXPECT_EQ(j[0]["handler"], "explodes");
  EXPECT_EQ(j[0]["message"], "boom 42");
  EXPECT_EQ(j[0]["count"], 1);
  EXPECT_EQ(j[0]["event_sequence"], 1);

  const CliRun text = run_cli({"errors", "--bus", t.name(), "--count", "1"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("thrower  handler_exception  handler=explodes"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("boom 42"), std::string::npos) << text.out;
}

TEST(CliErrorsTest, MissingBusIsTwo) {
  const CliRun r = run_cli({"errors", "--bus", unique_bus_name("nobus")});
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST(CliStatusTest, TextAndAgentsCommandsNameEveryAgent) {
  TestBus t("clitext");
  ASSERT_TRUE(t.bus);
  const CliRun status = run_cli({"status", "--bus", t.name()});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find("CRITICAL"), std::string::npos);
  EXPECT_NE(status.out.find("supervisor not running"), std::string::npos);
  const CliRun agents = run_cli({"agents", "--bus", t.name()});
  ASSERT_EQ(agents.code, 0) << agents.err;
  EXPECT_NE(agents.out.find("creator"), std::string::npos);
  const CliRun agents_json = run_cli({"agents", "--json", "--bus", t.name()});
  ASSERT_EQ(agents_json.code, 0) << agents_json.err;
  const json j = json::parse(agents_json.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "creator");
}

// ---- tail ------------------------------------------------------------------------------------

TEST(CliTailTest, PrintsPublishedEventsWithDecodedPayloads) {
  TestBus t("clitail");
  ASSERT_TRUE(t.bus);
  auto quotes = t.bus->topic<shmbus::catalog::Quote>("md.quote.TST");
  ASSERT_TRUE(quotes.ok());
  for (int i = 0; i < 5; ++i) {  // five in history, --count 3: exactly three lines
    shmbus::catalog::Quote q{};
    shmbus::catalog::set_symbol(q.symbol, "TST");
    q.bid_price_e9 = 100'000'000'000 + i;
    q.seq = static_cast<std::uint64_t>(i + 1);
    ASSERT_EQ(t.bus->publish(*quotes, q, shmbus::Priority::kHigh), shmbus::PublishStatus::kOk);
  }
  const CliRun r = run_cli({"tail", "--bus", t.name(), "--topic", "md.quote.*", "--from-history",
                            "--count", "3", "--timeout-ms", "10000"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const json e = json::parse(line);
    EXPECT_EQ(e["topic"], "md.quote.TST");
    EXPECT_EQ(e["priority"], "HIGH");
    EXPECT_EQ(e["payload"]["symbol"], "TST");
    EXPECT_EQ(e["payload"]["seq"], n + 1);
    EXPECT_EQ(e["payload"]["bid_price_e9"], 100'000'000'000 + n);
    EXPECT_EQ(e["producer"], t.bus->agent_index());
    EXPECT_TRUE(e.contains("timestamp_ns"));
    ++n;
  }
  EXPECT_EQ(n, 3) << r.out;
}

TEST(CliTailTest, PrintsNonCatalogPayloadsAsHexAndStopsAtTimeout) {
  TestBus t("clitailhex");
  ASSERT_TRUE(t.bus);
  auto raw = t.bus->register_topic("custom.raw");
  ASSERT_TRUE(raw.ok());
  const std::byte payload[] = {std::byte{0x01}, std::byte{0xab}, std::byte{0xff}};
  ASSERT_EQ(t.bus->publish(*raw, payload, sizeof payload), shmbus::PublishStatus::kOk);
  const auto start = std::chrono::steady_clock::now();
  const CliRun r = run_cli({"tail", "--bus", t.name(), "--from-history", "--timeout-ms", "300"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  const json e = json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(e["topic"], "custom.raw");
  EXPECT_EQ(e["payload"]["hex"], "01abff");
}

// ---- publish ---------------------------------------------------------------------------------

TEST(CliPublishTest, CatalogJsonReachesSubscriber) {
  TestBus t("clipub");
  ASSERT_TRUE(t.bus);
  ASSERT_TRUE(t.bus->on("order.new", [](const shmbus::EventView&) {}).ok());
  const CliRun r = run_cli({"publish", "order.new", "--json",
                            R"({"client_order_id": 7, "qty": 5, "price_e9": -3, "symbol": "ESZ6",
                             "side": 1})",
                            "--priority", "high", "--bus", t.name()});
  ASSERT_EQ(r.code, 0) << r.err;
  auto got = t.bus->wait_for("order.new", 10s);
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_EQ(got->priority, shmbus::Priority::kHigh);
  shmbus::catalog::NewOrder o;
  ASSERT_TRUE(got->view().copy_to(o));
  EXPECT_EQ(o.client_order_id, 7u);
  EXPECT_EQ(o.qty, 5);
  EXPECT_EQ(o.price_e9, -3);
  EXPECT_EQ(shmbus::catalog::symbol_view(o.symbol), "ESZ6");
  EXPECT_EQ(o.side, shmbus::catalog::Side::kBuy);
  EXPECT_EQ(o.type, shmbus::catalog::OrderType::kUnknown);  // missing fields are zero
}

TEST(CliPublishTest, HexAndStringPayloadsReachSubscriber) {
  TestBus t("clipubhex");
  ASSERT_TRUE(t.bus);
  ASSERT_TRUE(t.bus->on("custom.*", [](const shmbus::EventView&) {}).ok());
  ASSERT_EQ(
      run_cli({"publish", "custom.blob", "--json", R"({"hex": "0102ff"})", "--bus", t.name()}).code,
      0);
  auto hex = t.bus->wait_for("custom.blob", 10s);
  ASSERT_TRUE(hex.ok()) << hex.message();
  const std::vector<std::byte> expect{std::byte{1}, std::byte{2}, std::byte{0xff}};
  EXPECT_EQ(hex->payload, expect);
  ASSERT_EQ(run_cli({"publish", "custom.text", "--json", R"("hello")", "--bus", t.name()}).code, 0);
  auto text = t.bus->wait_for("custom.text", 10s);
  ASSERT_TRUE(text.ok()) << text.message();
  EXPECT_EQ(text->payload, bytes_of("hello"));
}

// ---- exit codes ------------------------------------------------------------------------------

TEST(CliExitCodeTest, MissingBusIsTwo) {
  const std::string bus = unique_bus_name("nobus");
  EXPECT_EQ(run_cli({"status", "--bus", bus}).code, 2);
  EXPECT_EQ(run_cli({"agents", "--bus", bus}).code, 2);
  EXPECT_EQ(run_cli({"top", "--bus", bus, "--iterations", "1"}).code, 2);
  EXPECT_EQ(run_cli({"tail", "--bus", bus, "--timeout-ms", "100"}).code, 2);
  EXPECT_EQ(run_cli({"barrier", "status", "--bus", bus}).code, 2);
  const CliRun pub = run_cli({"publish", "x.y", "--json", R"("a")", "--bus", bus});
  EXPECT_EQ(pub.code, 2);
  EXPECT_NE(pub.err.find(bus), std::string::npos) << pub.err;
}

TEST(CliExitCodeTest, BadTopicIsThree) {
  TestBus t("clibadtopic");
  ASSERT_TRUE(t.bus);
  EXPECT_EQ(run_cli({"publish", "bad..topic", "--json", R"("a")", "--bus", t.name()}).code, 3);
  EXPECT_EQ(run_cli({"tail", "--bus", t.name(), "--topic", "a.*.b", "--timeout-ms", "100"}).code,
            3);
  // An existing fixed-size topic cannot take a payload of another size.
  ASSERT_TRUE(t.bus->register_topic("fixed.eight", 8).ok());
  EXPECT_EQ(
      run_cli({"publish", "fixed.eight", "--json", R"({"hex": "01"})", "--bus", t.name()}).code, 3);
}

TEST(CliExitCodeTest, BadJsonIsFour) {
  TestBus t("clibadjson");
  ASSERT_TRUE(t.bus);
  const CliRun unparsable =
      run_cli({"publish", "order.new", "--json", "{qty: 1", "--bus", t.name()});
  EXPECT_EQ(unparsable.code, 4);
  EXPECT_NE(unparsable.err.find("not valid JSON"), std::string::npos) << unparsable.err;
  const CliRun unknown =
      run_cli({"publish", "order.new", "--json", R"({"quantity": 1})", "--bus", t.name()});
  EXPECT_EQ(unknown.code, 4);
  EXPECT_NE(unknown.err.find("quantity"), std::string::npos) << unknown.err;
  EXPECT_EQ(run_cli({"publish", "order.new", "--json", R"({"side": 300})", "--bus", t.name()}).code,
            4);
  EXPECT_EQ(run_cli({"publish", "custom.x", "--json", R"({"hex": "zz"})", "--bus", t.name()}).code,
            4);
}

// A hostile topic name is echoed escaped and cut: no terminal escape sequence reaches the
// user's terminal, and a 10 KB name is not printed in full.
TEST(CliHardeningTest, BadTopicNamesAreEchoedEscapedAndCut) {
  TestBus t("cliesc");
  ASSERT_TRUE(t.bus);
  const std::string escape = "evil\x1b[2J\x1b]0;owned\x07.topic";
  const CliRun esc = run_cli({"publish", escape, "--json", R"("a")", "--bus", t.name()});
  EXPECT_EQ(esc.code, 3);
  EXPECT_EQ(esc.err.find('\x1b'), std::string::npos) << "raw ESC on stderr";
  EXPECT_EQ(esc.err.find('\x07'), std::string::npos) << "raw BEL on stderr";
  EXPECT_NE(esc.err.find("\\x1b"), std::string::npos) << esc.err;
  const CliRun tail = run_cli({"tail", "--bus", t.name(), "--topic", escape, "--timeout-ms", "50"});
  EXPECT_EQ(tail.code, 3);
  EXPECT_EQ(tail.err.find('\x1b'), std::string::npos) << "raw ESC on stderr";
  const std::string huge(10000, 'a');
  const CliRun big = run_cli({"publish", huge, "--json", R"("a")", "--bus", t.name()});
  EXPECT_EQ(big.code, 3);
  EXPECT_LT(big.err.size(), 400u) << "a 10 KB name echoed in full";
  EXPECT_NE(big.err.find("10000"), std::string::npos) << big.err;
}

// An enum field outside its enumerators is refused, naming the range; nothing is published.
TEST(CliHardeningTest, EnumOutOfRangeIsRefusedNamingTheRange) {
  TestBus t("clienum");
  ASSERT_TRUE(t.bus);
  std::uint64_t received = 0;
  ASSERT_TRUE(t.bus->on("order.new", [&](const shmbus::EventView&) { ++received; }).ok());
  const CliRun r = run_cli({"publish", "order.new", "--json",
                            R"({"client_order_id": 1, "qty": 5, "side": 99})", "--bus", t.name()});
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("side"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0..2"), std::string::npos) << r.err;
  const CliRun ok = run_cli({"publish", "order.new", "--json",
                             R"({"client_order_id": 1, "qty": 5, "side": 2})", "--bus", t.name()});
  EXPECT_EQ(ok.code, 0) << ok.err;
  while (t.bus->poll() != 0) {
  }
  EXPECT_EQ(received, 1u) << "only the in-range order is published";
}

// too_large names the bus's limit and the payload's size.
TEST(CliHardeningTest, TooLargeNamesTheLimit) {
  TestBus t("clibig");
  ASSERT_TRUE(t.bus);
  const std::string hex(2 * 500, 'a');  // 500 bytes > the default 192
  const CliRun r = run_cli(
      {"publish", "custom.big", "--json", R"({"hex": ")" + hex + R"("})", "--bus", t.name()});
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("too_large"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("500"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("192"), std::string::npos) << r.err;
}

// Damaged agent records are reported and make status fail, rather than "agents 0" and exit 0.
TEST(CliHardeningTest, StatusReportsCorruptAgentRecordsAndFails) {
  TestBus t("clicorrupt");
  ASSERT_TRUE(t.bus);
  {
    auto seg = shmbus::detail::Segment::open(t.name());
    ASSERT_TRUE(seg) << seg.message();
    for (std::uint32_t i = 1; i < 4; ++i) seg.value()->agent(i).state.store(0xDEADBEEF);
  }
  const CliRun text = run_cli({"status", "--bus", t.name()});
  EXPECT_EQ(text.code, 5);
  EXPECT_NE(text.out.find("CORRUPT: 3 agent records"), std::string::npos) << text.out;
  EXPECT_NE(text.err.find("corrupt"), std::string::npos) << text.err;
  const CliRun j = run_cli({"status", "--json", "--bus", t.name()});
  EXPECT_EQ(j.code, 5);
  const json parsed = json::parse(j.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << j.out;
  EXPECT_EQ(parsed["corrupt_agent_records"], json({1, 2, 3}));
}

// ---- permissions across users (root only: setpriv runs the CLI as another uid) ----------------

std::string supervisor_path() {
  return shmbus::testing::bin_dir() + "/agents/supervisor/shmbus-supervisor";
}

// Starts a supervisor for `bus` with extra arguments and waits until it runs the bus.
shmbus::testing::Child start_supervisor(const std::string& bus,
                                        const std::vector<std::string>& extra) {
  std::vector<std::string> args{"--bus", bus, "--no-metrics", "--log-level", "warn"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto sup = shmbus::testing::Child::exec(supervisor_path(), args);
  EXPECT_TRUE(shmbus::testing::eventually(
      [&] {
        auto seg = shmbus::detail::Segment::open(bus);
        return (seg && seg.value()->supervisor_alive()) || !sup.running();
      },
      10s));
  return sup;
}

// `shmbus status` as uid 65534 with group `gid` only.
CliRun status_as_other_user(const std::string& bus, const std::string& gid) {
  std::vector<std::string> args{
      "--reuid=65534", "--regid=" + gid, "--clear-groups", cli_path(), "status", "--bus", bus};
  // run_cli runs cli_path(); run setpriv through /bin/sh's exec instead.
  std::string cmd = "exec /usr/bin/setpriv";
  for (const std::string& a : args) cmd += " '" + a + "'";
  int out_pipe[2];
  if (::pipe(out_pipe) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(out_pipe[1], STDERR_FILENO);
    ::close(out_pipe[0]);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  CliRun run;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(out_pipe[0], buf, sizeof buf)) > 0)
    run.out.append(buf, static_cast<std::size_t>(n));
  ::close(out_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.err = run.out;
  return run;
}

TEST(CliPermissionTest, OwnerOnlyBusIsRefusedToAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the CLI as another uid (setpriv)";
  const std::string bus = unique_bus_name("perm0600");
  SegmentGuard guard(bus);
  auto sup = start_supervisor(bus, {});  // 0600 by default
  ASSERT_TRUE(sup.running());
  const CliRun r = status_as_other_user(bus, "12345");
  EXPECT_EQ(r.code, 5) << r.out;
  EXPECT_NE(r.out.find("ermission"), std::string::npos) << r.out;
  sup.kill(SIGTERM);
  EXPECT_EQ(sup.wait(10s), 0);
}

TEST(CliPermissionTest, GroupSharedBusWorksForAMemberOfTheGroupOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the CLI as another uid (setpriv)";
  const std::string bus = unique_bus_name("perm0660");
  SegmentGuard guard(bus);
  auto sup = start_supervisor(bus, {"--permissions", "0660", "--group", "12345"});
  ASSERT_TRUE(sup.running());
  struct stat st;
  ASSERT_EQ(::stat(shmbus::detail::shm_file_path(bus).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, 12345u);
  const CliRun member = status_as_other_user(bus, "12345");
  EXPECT_EQ(member.code, 0) << member.out;
  EXPECT_NE(member.out.find("bus " + bus), std::string::npos) << member.out;
  const CliRun outsider = status_as_other_user(bus, "12346");
  EXPECT_EQ(outsider.code, 5) << outsider.out;
  sup.kill(SIGTERM);
  EXPECT_EQ(sup.wait(10s), 0);
}

TEST(CliExitCodeTest, UsageIsOneAndHelpIsZero) {
  EXPECT_EQ(run_cli({}).code, 1);
  EXPECT_EQ(run_cli({"status"}).code, 1);  // --bus is required
  EXPECT_EQ(run_cli({"frobnicate"}).code, 1);
  const CliRun help = run_cli({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("4 bad JSON"), std::string::npos) << help.out;
  EXPECT_EQ(run_cli({"tail", "--help"}).code, 0);
}

// ---- top -------------------------------------------------------------------------------------

/// Runs `shmbus top` on a pseudo-terminal; `on_output` sees everything drawn so far and returns
/// true once it wants to send `keys`. Returns what was drawn and the exit code.
CliRun run_top_on_pty(const std::vector<std::string>& args, const std::string& keys,
                      const std::function<bool(const std::string&)>& ready) {
  int master = -1;
  const std::string path = cli_path();
  winsize ws{};
  ws.ws_row = 50;
  ws.ws_col = 200;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(path.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  CliRun run;
  if (pid < 0) return run;
  bool sent = keys.empty();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{master, POLLIN, 0};
    if (::poll(&pfd, 1, 100) > 0) {
      char buf[4096];
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO once the child closed the terminal
      run.out.append(buf, static_cast<std::size_t>(n));
    }
    if (!sent && ready(run.out)) {
      sent = ::write(master, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size());
    }
  }
  ::close(master);
  int status = 0;
  // The terminal closes a moment before the process can be reaped.
  const bool exited =
      shmbus::testing::eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 5s);
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return run;  // code -1: still running at the deadline
  }
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

TEST(CliTopTest, DrawsRingAndAgentLinesOnATerminal) {
  TestBus t("clitop", "top-agent");
  ASSERT_TRUE(t.bus);
  const CliRun r = run_top_on_pty({"top", "--bus", t.name(), "--iterations", "2"}, "",
                                  [](const std::string&) { return false; });
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* want : {"RING", "CRITICAL", "HIGH", "NORMAL", "LOW", "AGENT", "LATENCY",
                           "top-agent", "\x1b[2J", "supervisor not running"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << "missing '" << want << "' in:\n" << r.out;
  }
}

TEST(CliTopTest, QuitsOnQ) {
  TestBus t("clitopq", "top-agent");
  ASSERT_TRUE(t.bus);
  const CliRun r = run_top_on_pty({"top", "--bus", t.name()}, "q", [](const std::string& out) {
    return out.find("top-agent") != std::string::npos;
  });
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\x1b[?25h"), std::string::npos);  // cursor shown again on the way out
}

// ---- payload codec ---------------------------------------------------------------------------

// The codec reads the field list each payload declares beside its members (CatalogEntry::fields);
// SHMBUS_PAYLOAD_PIN already checks each list at compile time, this checks the table the codec
// walks at run time.
TEST(CliPayloadCodecTest, FieldTablesCoverEveryCatalogStructExactly) {
  const auto catalog = shmbus::catalog::catalog();
  std::size_t i = 0;
  shmbus::catalog::visit_catalog_types([&](auto tag) {
    using T = typename decltype(tag)::type;
    ASSERT_LT(i, catalog.size());
    const auto& t = catalog[i++];
    EXPECT_EQ(t.topic, T::kTopic);
    EXPECT_EQ(t.payload_size, sizeof(T)) << t.topic;
    EXPECT_EQ(t.fields.data(), shmbus::fields_of<T>().data()) << t.topic;
    std::vector<int> covered(t.payload_size, 0);
    for (const auto& f : t.fields) {
      const std::size_t bytes = f.kind == shmbus::FieldKind::kText ? f.size : f.size * f.count;
      ASSERT_LE(f.offset + bytes, t.payload_size) << t.topic << "." << f.name;
      for (std::size_t b = f.offset; b < f.offset + bytes; ++b) ++covered[b];
    }
    for (std::size_t b = 0; b < t.payload_size; ++b) {
      EXPECT_EQ(covered[b], 1) << t.topic << ": byte " << b << " covered " << covered[b]
                               << " times";
    }
  });
  EXPECT_EQ(i, catalog.size());
}

TEST(CliPayloadCodecTest, RoundTripsCatalogStructs) {
  const json in = {{"symbol", "ESZ6"},
                   {"bid_price_e9", -5},
                   {"ask_price_e9", 7},
                   {"seq", 18446744073709551615ull},
                   {"bid_orders", 4294967295u}};
  auto bytes = shmbus::cli::encode_payload("md.quote.ESZ6", in);
  ASSERT_TRUE(bytes.ok()) << bytes.message();
  ASSERT_EQ(bytes->size(), sizeof(shmbus::catalog::Quote));
  const json out = shmbus::cli::decode_payload("md.quote.ESZ6", *bytes);
  for (const auto& [k, v] : in.items()) EXPECT_EQ(out[k], v) << k;
  EXPECT_EQ(out["ask_qty"], 0);
  EXPECT_FALSE(out.contains("reserved"));

  auto depth = shmbus::cli::encode_payload("md.book.depth", {{"bid_qty", {1, 2, 3, 4}}});
  ASSERT_TRUE(depth.ok()) << depth.message();
  EXPECT_EQ(shmbus::cli::decode_payload("md.book.depth", *depth)["bid_qty"], json({1, 2, 3, 4}));
}

TEST(CliPayloadCodecTest, RejectsValuesThatDoNotFit) {
  using shmbus::cli::encode_payload;
  EXPECT_FALSE(encode_payload("md.quote", {{"bid_orders", 4294967296ull}}).ok());
  EXPECT_FALSE(encode_payload("md.quote", {{"bid_orders", -1}}).ok());
  EXPECT_FALSE(encode_payload("md.quote", {{"symbol", "0123456789abcdef"}}).ok());  // 16 > 15
  EXPECT_FALSE(encode_payload("md.quote", {{"symbol", 3}}).ok());
  EXPECT_FALSE(encode_payload("md.quote", {{"reserved", 0}}).ok());
  EXPECT_FALSE(encode_payload("md.quote", json::array()).ok());
  EXPECT_FALSE(encode_payload("md.book.depth", {{"bid_qty", {1, 2, 3, 4, 5}}}).ok());
  EXPECT_FALSE(encode_payload("strategy.signal", {{"direction", 128}}).ok());
  EXPECT_TRUE(encode_payload("strategy.signal", {{"direction", -1}}).ok());
}

}  // namespace
