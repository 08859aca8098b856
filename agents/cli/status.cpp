// `shmbus status`, `shmbus agents` and `shmbus barrier status`: one inspect_bus snapshot (or
// barrier listing) printed as text or JSON.
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "render_text.hpp"
#include "shmbus/barrier.hpp"
#include "shmbus/inspect.hpp"
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
  if (options.json) {
    return corrupt_records_exit(
        *snap, print(snapshot_to_json(*snap).dump(2, ' ', false, kReplace) + "\n"));
  }
  return corrupt_records_exit(*snap, print(render_status(*snap)));
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
