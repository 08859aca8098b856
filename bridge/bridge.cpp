// Bridge: wires the bus agent, the NATS link, the exporter and the importers, and runs the
// dispatcher loop that never waits for the network.
#include "shmbus/bridge.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "bridge/core_importer.hpp"
#include "bridge/counters.hpp"
#include "bridge/durable_importer.hpp"
#include "bridge/exporter.hpp"
#include "bridge/nats_link.hpp"
#include "bridge/stats_file.hpp"
#include "bridge/subject_map.hpp"
#include "shm/clock.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::bridge {

using shmbus::detail::monotonic_ns;
using shmbus::detail::realtime_ns;

namespace {

std::string hostname() {
  char h[256] = {};
  if (::gethostname(h, sizeof h - 1) != 0) return "unknown";
  return h;
}

Result<void> make_dirs(const std::string& path) {
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      const std::string p = path.substr(0, i);
      if (::mkdir(p.c_str(), 0750) != 0 && errno != EEXIST) {
        return Error{Errc::kSystem, "cannot create " + p + ": " + std::strerror(errno)};
      }
    }
  }
  return {};
}

Result<void> validate(const BridgeOptions& o) {
  if (auto e = validate_bus_name(o.bus); !e.empty())
    return Error{Errc::kInvalidArgument, "--bus: " + e};
  if (auto e = detail::validate_bus_token(o.bus); !e.empty()) {
    return Error{Errc::kInvalidArgument, "--bus '" + o.bus + "' " + e};
  }
  for (const auto& b : o.from_buses) {
    if (auto e = detail::validate_bus_token(b); !e.empty()) {
      return Error{Errc::kInvalidArgument, "--from-bus '" + b + "' " + e};
    }
  }
  if (o.nats_urls.empty()) return Error{Errc::kInvalidArgument, "--nats: no URL"};
  // Its import agents are named <name>-in and <name>-in-<origin> (agent names: 31 at most).
  if (auto e = validate_agent_name(o.agent_name); !e.empty() || o.agent_name.size() > 28) {
    return Error{Errc::kInvalidArgument,
                 "--name '" + o.agent_name + "': " + (e.empty() ? "28 characters at most" : e)};
  }
  if (o.exports.empty() && o.imports.empty()) {
    return Error{Errc::kInvalidArgument, "nothing to bridge: give --export and/or --import"};
  }
  for (const auto* list : {&o.exports, &o.imports, &o.durable}) {
    for (const auto& p : *list) {
      if (auto e = validate_topic_pattern(p); !e.empty()) {
        return Error{Errc::kInvalidArgument, "bad topic pattern '" + p + "': " + e};
      }
    }
  }
  if (!o.durable.empty() && !o.imports.empty() && o.from_buses.empty()) {
    return Error{Errc::kInvalidArgument,
                 "durable imports read the origin bus's stream: name it with --from-bus"};
  }
  if (o.replicas < 1 || o.replicas > 5) return Error{Errc::kInvalidArgument, "--replicas: 1..5"};
  return {};
}

}  // namespace

struct Bridge::Impl {
  BridgeOptions opts;
  detail::Counters counters;
  detail::NatsLink link{counters};
  std::optional<Bus> bus;
  std::unique_ptr<detail::Exporter> exporter;
  // Core imports publish through an agent of their own, from the NATS client's delivery thread:
  // the main agent's registry cache and dispatching stay on the dispatcher thread alone.
  std::optional<Bus> core_bus;
  std::unique_ptr<detail::CoreImporter> core_in;
  std::vector<std::unique_ptr<detail::DurableImporter>> durable_in;
  detail::StatsFile stats_file;
  std::atomic<bool> stopping{false};
  std::thread setup_thread;
  std::uint64_t pid = 0;

  ~Impl() {
    stopping.store(true);
    if (setup_thread.joinable()) setup_thread.join();
    for (auto& d : durable_in) d->stop();
    if (core_in) core_in->unsubscribe();
    link.close();
  }

  BridgeStats snapshot() const {
    BridgeStats s;
    counters.copy_to(s);
    s.pid = pid;
    s.updated_ns = realtime_ns();
    return s;
  }

  // Creates (or finds) this bus's stream for its durable exports, then tells the exporter the
  // id of the stream's last message. Runs on its own thread: JetStream requests wait for
  // answers, the dispatcher must not.
  void setup_exports() {
    while (!stopping.load()) {
      if (!link.connected()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      jsCtx* js = link.jetstream();
      const std::string name = detail::stream_name(opts.bus);
      jsErrCode jerr = static_cast<jsErrCode>(0);
      jsStreamInfo* si = nullptr;
      natsStatus s = js_GetStreamInfo(&si, js, name.c_str(), nullptr, &jerr);
      if (s == NATS_NOT_FOUND) {
        std::vector<std::string> subjects;
        for (const auto& p : opts.durable) subjects.push_back(detail::subject_pattern(opts.bus, p));
        std::vector<const char*> cs;
        for (const auto& x : subjects) cs.push_back(x.c_str());
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = name.c_str();
        cfg.Subjects = cs.data();
        cfg.SubjectsLen = static_cast<int>(cs.size());
        cfg.Storage = js_FileStorage;
        cfg.Replicas = opts.replicas;
        cfg.Duplicates = std::int64_t{120} * 1'000'000'000;
        s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
        if (s == NATS_OK)
          spdlog::info("bridge: created stream {} ({} replicas)", name, opts.replicas);
      }
      if (s != NATS_OK) {
        counters.set_error("stream " + name + ": " + detail::nats_error_text(s));
        spdlog::warn("bridge: stream {}: {}; retrying", name, detail::nats_error_text(s));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      const std::uint64_t last = si->State.LastSeq;
      jsStreamInfo_Destroy(si);
      std::string last_id;
      if (last != 0) {
        natsMsg* m = nullptr;
        if (js_GetMsg(&m, js, name.c_str(), last, nullptr, &jerr) != NATS_OK) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        const char* id = nullptr;
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) last_id = id;
        natsMsg_Destroy(m);
      }
      exporter->stream_ready(last_id, last);
      return;
    }
  }
};

Bridge::Bridge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Bridge::Bridge(Bridge&&) noexcept = default;
Bridge& Bridge::operator=(Bridge&&) noexcept = default;
Bridge::~Bridge() = default;

Result<Bridge> Bridge::open(const BridgeOptions& options) {
  if (auto r = validate(options); !r) return r.error();
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.opts = options;
  if (m.opts.state_dir.empty()) {
    m.opts.state_dir = "/var/tmp/shmbus-bridge/" + m.opts.bus + "@" + m.opts.agent_name;
  }
  if (auto r = make_dirs(m.opts.state_dir); !r) return r.error();
  // One bridge per state directory: its high-water marks and STATS are that bridge's alone.
  if (auto r = m.stats_file.lock(m.opts.state_dir); !r) return r.error();
  m.pid = static_cast<std::uint64_t>(::getpid());

  AgentOptions ao;
  ao.name = m.opts.agent_name;
  ao.wait = m.opts.wait;
  ao.full_policy = FullPolicy::kReturn;
  ao.handler_budget = std::chrono::nanoseconds(0);
  ao.max_handler_failures = 0;
  ao.start_from_history = m.opts.resume_from_history && !m.opts.durable.empty();
  auto b = Bus::attach(m.opts.bus, ao);
  if (!b) return b.error();
  m.bus.emplace(std::move(*b));
  const std::uint64_t attach_ns = monotonic_ns();

  detail::LinkOptions lo;
  lo.urls = m.opts.nats_urls;
  lo.user = m.opts.user;
  lo.password = m.opts.password;
  lo.send_asap = m.opts.send_asap;
  lo.name = "shmbus-bridge " + m.opts.bus + "@" + m.opts.agent_name;
  lo.max_pending_async = std::int64_t{4} * m.opts.export_window + 1024;
  m.exporter = std::make_unique<detail::Exporter>(m.opts, m.counters, hostname());
  lo.ack_handler = &detail::Exporter::ack_handler;
  lo.ack_closure = m.exporter.get();
  if (auto r = m.link.open(lo); !r) return r.error();

  std::vector<std::uint32_t> own{m.bus->agent_index()};
  if (!m.opts.imports.empty() && !m.opts.durable.empty()) {
    for (const auto& origin : m.opts.from_buses) {
      auto d = std::make_unique<detail::DurableImporter>(m.opts, m.counters, m.link, origin);
      if (auto r = d->open(); !r) return r.error();
      own.push_back(d->agent_index());
      m.durable_in.push_back(std::move(d));
    }
  }
  if (!m.opts.imports.empty()) {
    AgentOptions co;
    co.name = m.opts.agent_name + "-in";
    co.full_policy = FullPolicy::kReturn;  // core imports never wait for a full ring
    co.handler_budget = std::chrono::nanoseconds(0);
    auto cb = Bus::attach(m.opts.bus, co);
    if (!cb) return cb.error();
    m.core_bus.emplace(std::move(*cb));
    own.push_back(m.core_bus->agent_index());
  }
  m.exporter->start(*m.bus, m.link, own, attach_ns);
  Impl* self = impl.get();
  for (const auto& p : m.opts.exports) {
    auto sub = m.bus->on(
        p, [self](const EventView& e) { self->exporter->on_event(e); },
        HandlerOptions{"bridge.export"});
    if (!sub) return sub.error();
  }
  m.bus->on_gap([self](Priority, std::uint64_t missed) {
    detail::Counters::inc(self->counters.missed, missed);
  });
  if (!m.opts.imports.empty()) {
    m.core_in = std::make_unique<detail::CoreImporter>(m.opts, m.counters, *m.core_bus);
    if (auto r = m.core_in->subscribe(m.link); !r) return r.error();
  }
  m.stats_file.open(m.opts.state_dir, m.opts.bus, m.opts.agent_name);
  m.stats_file.publish(m.snapshot());
  if (m.exporter->durable_enabled() && !m.opts.exports.empty()) {
    m.setup_thread = std::thread([self] { self->setup_exports(); });
  }
  for (auto& d : m.durable_in) d->start();
  return Bridge(std::move(impl));
}

Result<void> Bridge::run() {
  Impl& m = *impl_;
  std::uint64_t next_stats = 0;
  std::uint64_t auth_since = 0;
  Result<void> result;
  while (!m.stopping.load()) {
    if (m.opts.exports.empty()) {
      // No export subscription, so this agent reads nothing: asleep on the bus's futex it would
      // only make every publish on the bus (our own imports too) pay a FUTEX_WAKE, for nothing.
      m.bus->heartbeat();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } else {
      // A yielding dispatcher sleeps on the futex within 4 ms of its deadline: a longer one.
      m.bus->poll_wait(256,
                       std::chrono::milliseconds(m.opts.wait == WaitStrategy::kBlock ? 2 : 20));
    }
    const std::uint64_t now = monotonic_ns();
    m.exporter->service(now);
    if (now >= next_stats) {
      m.stats_file.publish(m.snapshot());
      next_stats = now + 50'000'000;
      // Refused credentials do not heal by retrying: after a grace period, give up loudly.
      if (m.link.auth_failed() && !m.link.connected()) {
        if (auth_since == 0) auth_since = now;
        if (now - auth_since > 1'000'000'000) {
          result = Error{Errc::kPermission,
                         "NATS refused the bridge's credentials: " + m.counters.last_error()};
          break;
        }
      } else {
        auth_since = 0;
      }
    }
  }
  // Drain what is ready, and give the durable window a moment to be acked.
  while (m.bus->poll(4096) != 0) {
  }
  m.exporter->drain(1000);
  m.stats_file.publish(m.snapshot());
  return result;
}

void Bridge::stop() noexcept {
  impl_->stopping.store(true);
  if (impl_->bus) impl_->bus->stop();
}

BridgeStats Bridge::stats() const noexcept {
  return impl_->snapshot();
}

}  // namespace shmbus::bridge
