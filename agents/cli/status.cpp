// `shmbus status`, `shmbus agents` and `shmbus barrier status`: one inspect_bus snapshot (or
// barrier listing) printed as text or JSON.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "render_text.hpp"
#include "shmbus/barrier.hpp"
#include "shmbus/bridge_stats.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/journal_recorder.hpp"
#include "snapshot_json.hpp"

namespace shmbus::cli {

int report_error(const Error& error) {
  std::fprintf(stderr, "shmbus: %s\n", error.message.c_str());
  switch (error.code) {
    case Errc::kNotFound:
      return kExitNoBus;
    case Errc::kInvalidArgument:
      return kExitUsage;
    default:
      return kExitError;
  }
}

namespace {

// Segment text (agent names, errors) is input: invalid UTF-8 is replaced, never thrown on.
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

int print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitError;
}

// Events the journal agent has not read yet, summed over rings: its agent record's lag (0 when
// no live agent of that name).
std::uint64_t journal_ring_lag(const BusSnapshot& s, const std::string& agent) {
  for (const AgentSnapshot& a : s.agents) {
    if (a.name == agent && a.alive) return AgentSnapshot::total(a.lag);
  }
  return 0;
}

nlohmann::json journals_to_json(const BusSnapshot& s, const std::vector<journal::BusJournal>& js) {
  nlohmann::json out = nlohmann::json::array();
  for (const journal::BusJournal& j : js) {
    const journal::RecorderStats& st = j.stats;
    out.push_back({{"agent", j.agent},
                   {"dir", j.dir},
                   {"running", j.running},
                   {"records", st.records},
                   {"bytes", st.bytes},
                   {"last_event_id", st.last_event_id},
                   {"ring_lag_events", journal_ring_lag(s, j.agent)},
                   {"lag_ns", st.lag_ns},
                   {"syncs", st.syncs},
                   {"sync_ns_avg", st.sync_ns_avg},
                   {"sync_ns_max", st.sync_ns_max},
                   {"shed", AgentSnapshot::total(st.shed)},
                   {"held_events", st.held_events},
                   {"held_ns", st.held_ns},
                   {"missed", st.missed},
                   {"error", j.error}});
  }
  return out;
}

std::string render_journals(const BusSnapshot& s, const std::vector<journal::BusJournal>& js) {
  if (js.empty()) return {};
  std::string out = "\njournals\n";
  for (const journal::BusJournal& j : js) {
    const journal::RecorderStats& st = j.stats;
    char line[512];
    std::snprintf(line, sizeof line,
                  "  journal %s %s  records %" PRIu64 "  bytes %" PRIu64 "  ring lag %" PRIu64
                  "  lag %.3f ms  sync avg %.3f ms max %.3f ms  shed %" PRIu64 "  held %" PRIu64
                  "  dir %s%s%s\n",
                  j.agent.c_str(), j.running ? "running" : "stopped", st.records, st.bytes,
                  journal_ring_lag(s, j.agent), static_cast<double>(st.lag_ns) / 1e6,
                  static_cast<double>(st.sync_ns_avg) / 1e6,
                  static_cast<double>(st.sync_ns_max) / 1e6, AgentSnapshot::total(st.shed),
                  st.held_events, j.dir.c_str(),
                  j.error.empty() ? "" : "  error: ", j.error.c_str());
    out += line;
  }
  return out;
}

nlohmann::json direction_to_json(const bridge::DirectionStats& d) {
  return {{"messages", d.messages}, {"bytes", d.bytes},           {"lag_ns", d.lag_ns},
          {"shed", d.shed},         {"acked", d.acked},           {"pending", d.pending},
          {"retries", d.retries},   {"duplicates", d.duplicates}, {"rejected", d.rejected}};
}

nlohmann::json bridges_to_json(const BusSnapshot& s, const std::vector<bridge::BusBridge>& bs) {
  nlohmann::json out = nlohmann::json::array();
  for (const bridge::BusBridge& b : bs) {
    const bridge::BridgeStats& st = b.stats;
    out.push_back({{"agent", b.agent},
                   {"dir", b.dir},
                   {"running", b.running},
                   {"connected", st.connected != 0},
                   {"reconnects", st.reconnects},
                   {"disconnects", st.disconnects},
                   {"export", direction_to_json(st.out)},
                   {"import", direction_to_json(st.in)},
                   {"ring_lag_events", journal_ring_lag(s, b.agent)},
                   {"missed", st.missed},
                   {"loops_dropped", st.loops_dropped},
                   {"reject_subject", st.reject_subject},
                   {"reject_version", st.reject_version},
                   {"reject_too_large", st.reject_too_large},
                   {"reject_other", st.reject_other},
                   {"last_error", std::string(st.last_error)},
                   {"error", b.error}});
  }
  return out;
}

std::string render_bridges(const BusSnapshot& s, const std::vector<bridge::BusBridge>& bs) {
  if (bs.empty()) return {};
  std::string out = "\nbridges\n";
  for (const bridge::BusBridge& b : bs) {
    const bridge::BridgeStats& st = b.stats;
    char line[1024];
    std::snprintf(line, sizeof line,
                  "  bridge %s %s %s  reconnects %" PRIu64 "  ring lag %" PRIu64
                  "\n"
                  "    export  messages %" PRIu64 "  bytes %" PRIu64 "  lag %.3f ms  shed %" PRIu64
                  "  acked %" PRIu64 "  pending %" PRIu64 "  retries %" PRIu64
                  "\n"
                  "    import  messages %" PRIu64 "  bytes %" PRIu64 "  lag %.3f ms  shed %" PRIu64
                  "  duplicates %" PRIu64 "  rejected %" PRIu64 "  loops %" PRIu64 "\n%s%s%s",
                  b.agent.c_str(), b.running ? "running" : "stopped",
                  st.connected != 0 ? "connected" : "disconnected", st.reconnects,
                  journal_ring_lag(s, b.agent), st.out.messages, st.out.bytes,
                  static_cast<double>(st.out.lag_ns) / 1e6, AgentSnapshot::total(st.out.shed),
                  st.out.acked, st.out.pending, st.out.retries, st.in.messages, st.in.bytes,
                  static_cast<double>(st.in.lag_ns) / 1e6, AgentSnapshot::total(st.in.shed),
                  st.in.duplicates, st.in.rejected, st.loops_dropped,
                  st.last_error[0] != '\0' ? "    last error: " : "", st.last_error,
                  st.last_error[0] != '\0' ? "\n" : "");
    out += line;
    if (!b.error.empty()) out += "    error: " + b.error + "\n";
  }
  return out;
}

}  // namespace

// The snapshot was printed; damaged agent records still make the command fail (exit 5), with
// a line on stderr, so a script never reads "agents 0" as a healthy empty bus.
int corrupt_records_exit(const BusSnapshot& s, int printed) {
  if (s.corrupt_agent_records.empty()) return printed;
  std::fprintf(stderr, "shmbus: bus %s: %zu agent records are corrupt (see the CORRUPT line)\n",
               s.bus_name.c_str(), s.corrupt_agent_records.size());
  return kExitError;
}

int run_status(const StatusOptions& options) {
  auto snap = inspect_bus(options.bus);
  if (!snap) return report_error(snap.error());
  const auto journals = journal::list_bus_journals(options.bus);
  const auto bridges = bridge::list_bus_bridges(options.bus);
  if (options.json) {
    nlohmann::json j = snapshot_to_json(*snap);
    j["journals"] = journals_to_json(*snap, journals);
    j["bridges"] = bridges_to_json(*snap, bridges);
    return corrupt_records_exit(*snap, print(j.dump(2, ' ', false, kReplace) + "\n"));
  }
  return corrupt_records_exit(*snap, print(render_status(*snap) + render_journals(*snap, journals) +
                                           render_bridges(*snap, bridges)));
}

int run_agents(const StatusOptions& options) {
  auto snap = inspect_bus(options.bus);
  if (!snap) return report_error(snap.error());
  if (options.json) {
    nlohmann::json agents = nlohmann::json::array();
    for (const AgentSnapshot& a : snap->agents) agents.push_back(agent_to_json(a));
    return corrupt_records_exit(*snap, print(agents.dump(2, ' ', false, kReplace) + "\n"));
  }
  return corrupt_records_exit(*snap, print(render_agents(*snap)));
}

int run_barrier_status(const BarrierOptions& options) {
  // inspect_bus first: it tells a missing bus (exit 2) from a missing barrier (exit 5).
  auto snap = inspect_bus(options.bus);
  if (!snap) return report_error(snap.error());
  if (!snap->barriers_error.empty()) {
    return report_error(make_error(Errc::kSystem, snap->barriers_error));
  }
  if (!options.name.empty()) {
    std::vector<BarrierStatus> one;
    for (BarrierStatus& b : snap->barriers) {
      if (b.name == options.name) one.push_back(std::move(b));
    }
    if (one.empty()) {
      std::fprintf(stderr, "shmbus: bus %s has no barrier '%s'\n", options.bus.c_str(),
                   options.name.c_str());
      return kExitError;
    }
    snap->barriers = std::move(one);
  }
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const BarrierStatus& b : snap->barriers) out.push_back(barrier_to_json(b));
    return print(out.dump(2, ' ', false, kReplace) + "\n");
  }
  if (snap->barriers.empty()) return print("no barriers on bus " + options.bus + "\n");
  return print(render_barriers(*snap));
}

}  // namespace shmbus::cli
