// shmbus: inspect and poke a live bus. status / agents / top / errors read the segment without
// registering; tail and publish attach as a short-lived agent. The commands live in this
// directory's library (commands.hpp); this file only parses arguments.
#include <CLI/CLI.hpp>
#include <string>

#include "commands.hpp"
#include "journal_commands.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::cli;
  CLI::App app{"shmbus: inspect, tail and publish on a shared-memory event bus"};
  app.footer("Exit codes: 0 ok, 1 usage, 2 no such bus, 3 bad topic, 4 bad JSON, 5 other error.");
  app.require_subcommand(1);
  std::string bus;
  auto bus_option = [&bus](CLI::App* cmd) {
    cmd->add_option("--bus", bus, "bus name (segment /dev/shm/shmbus.NAME)")->required();
  };

  StatusOptions status;
  auto* status_cmd = app.add_subcommand("status", "rings, agents, counters and barriers");
  bus_option(status_cmd);
  status_cmd->add_flag("--json", status.json, "print JSON");

  StatusOptions agents;
  auto* agents_cmd = app.add_subcommand("agents", "one line per attached agent");
  bus_option(agents_cmd);
  agents_cmd->add_flag("--json", agents.json, "print JSON");

  TopOptions top;
  auto* top_cmd = app.add_subcommand("top", "live view, redrawn every 500 ms; q quits");
  bus_option(top_cmd);
  top_cmd->add_option("--iterations", top.iterations, "draw this many frames, then exit");

  TailOptions tail;
  auto* tail_cmd = app.add_subcommand("tail", "print events as JSON lines (attaches as tail-PID)");
  bus_option(tail_cmd);
  tail_cmd->add_option("--topic", tail.pattern, "topic pattern: name, prefix.* or *");
  tail_cmd->add_flag("--from-history", tail.from_history, "start with the history kept per ring");
  tail_cmd->add_option("--count", tail.count, "exit after N events");
  tail_cmd->add_option("--timeout-ms", tail.timeout_ms, "exit after T ms");

  PublishOptions publish;
  auto* publish_cmd = app.add_subcommand("publish", "publish one event (attaches as pub-PID)");
  bus_option(publish_cmd);
  publish_cmd->add_option("topic", publish.topic, "topic name")->required();
  publish_cmd
      ->add_option("--json", publish.json,
                   "payload: catalogue fields as an object, else {\"hex\":...} or a string")
      ->required();
  publish_cmd->add_option("--priority", publish.priority, "critical, high, normal (default), low");

  BarrierOptions barrier;
  auto* barrier_cmd = app.add_subcommand("barrier", "barriers of a bus");
  barrier_cmd->require_subcommand(1);
  auto* barrier_status = barrier_cmd->add_subcommand("status", "rounds, arrivals, waiter");
  bus_option(barrier_status);
  barrier_status->add_option("--name", barrier.name, "only this barrier");
  barrier_status->add_flag("--json", barrier.json, "print JSON");

  ErrorsOptions errors;
  auto* errors_cmd =
      app.add_subcommand("errors", "recent sys.error events kept in the bus (also past ones)");
  bus_option(errors_cmd);
  errors_cmd->add_option("--count", errors.count, "the newest N only");
  errors_cmd->add_flag("--json", errors.json, "print JSON");

  JournalCommands journal{app};  // record, replay, journal ls|show|export

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help (rc 0) or the error
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (journal.parsed()) return journal.run();
  if (*status_cmd) return run_status({bus, status.json});
  if (*agents_cmd) return run_agents({bus, agents.json});
  if (*top_cmd) return run_top({bus, top.iterations, top.period});
  if (*tail_cmd) return (tail.bus = bus, run_tail(tail));
  if (*publish_cmd) return (publish.bus = bus, run_publish(publish));
  if (*errors_cmd) return (errors.bus = bus, run_errors(errors));
  return (barrier.bus = bus, run_barrier_status(barrier));
}
