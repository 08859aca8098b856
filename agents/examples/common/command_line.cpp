// Command lines of the example agents (command_line.hpp): the one file of the examples that
// includes CLI11.
#include "command_line.hpp"

#include <CLI/CLI.hpp>

namespace shmbus::examples {

namespace {

// --bus, --log-level and --attach-timeout-s, shared by every agent.
void add_common_options(CLI::App& app, CommonOptions& options) {
  app.add_option("--bus", options.bus, "bus name")->capture_default_str();
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  app.add_option("--attach-timeout-s", options.attach_timeout_s,
                 "wait this long for the bus to exist")
      ->capture_default_str();
}

// CLI11_PARSE without the return: prints help or the error, and gives main()'s exit code.
ParseOutcome parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return std::nullopt;
}

}  // namespace

ParseOutcome parse_md_feed(int argc, char** argv, CommonOptions& common, MdFeedOptions& options) {
  CLI::App app{"md_feed: synthetic quotes/trades on md.quote.<SYM> / md.trade.<SYM>"};
  add_common_options(app, common);
  app.add_option("--rate", options.rate, "quotes per second")->capture_default_str();
  app.add_option("--symbols", options.symbols, "instruments")->capture_default_str();
  app.add_option("--trade-every", options.trade_every, "one trade per N quotes (0: none)")
      ->capture_default_str();
  return parse(app, argc, argv);
}

ParseOutcome parse_strategy(int argc, char** argv, CommonOptions& common,
                            StrategyOptions& options) {
  CLI::App app{"strategy: turns quotes into strategy.signal and votes in barrier \"decision\""};
  add_common_options(app, common);
  app.add_option("--id", options.id, "strategy number; the agent is strategy-ID")
      ->required()
      ->check(CLI::Range(1, 64));
  app.add_option("--vote-interval-ms", options.vote_interval_ms, "at most one vote this often")
      ->capture_default_str();
  app.add_option("--fail-every", options.fail_every,
                 "inject faults: every N-th quote starts a burst of throwing handler calls (0: "
                 "none); a burst longer than the bus's max_handler_failures gets the handler "
                 "unsubscribed, and the strategy subscribes it again")
      ->capture_default_str();
  app.add_option("--fail-burst", options.fail_burst, "throwing calls in a row per injected fault")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  return parse(app, argc, argv);
}

ParseOutcome parse_cio(int argc, char** argv, CommonOptions& common, CioOptions& options) {
  CLI::App app{"cio: waits barrier \"decision\" rounds, publishes decisions and order.new"};
  add_common_options(app, common);
  app.add_option("--strategies", options.strategies, "participants strategy-1..N")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  app.add_option("--round-timeout-ms", options.round_timeout_ms, "deadline of a round")
      ->capture_default_str();
  return parse(app, argc, argv);
}

ParseOutcome parse_risk(int argc, char** argv, CommonOptions& common, RiskOptions& options) {
  CLI::App app{"risk: checks order.new, publishes risk.check (CRITICAL), forwards passed orders"};
  add_common_options(app, common);
  app.add_option("--max-qty", options.max_qty, "largest order quantity")->capture_default_str();
  return parse(app, argc, argv);
}

ParseOutcome parse_execution(int argc, char** argv, CommonOptions& common,
                             ExecutionOptions& options) {
  CLI::App app{"execution: fills approved orders (order.accepted, order.filled)"};
  add_common_options(app, common);
  app.add_option("--fee-per-unit-e6", options.fee_per_unit_e6, "fee per unit, currency x 1e6")
      ->capture_default_str();
  return parse(app, argc, argv);
}

ParseOutcome parse_logger(int argc, char** argv, CommonOptions& common) {
  CLI::App app{"logger: counts every event on the bus, prints a line per second"};
  add_common_options(app, common);
  return parse(app, argc, argv);
}

}  // namespace shmbus::examples
