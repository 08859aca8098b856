// strategy-N: quotes -> signals and votes in barrier "decision" (see common/strategy.cpp).
#include <CLI/CLI.hpp>

#include "examples.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CLI::App app{"strategy: turns quotes into strategy.signal and votes in barrier \"decision\""};
  CommonOptions common;
  StrategyOptions options;
  add_common_options(app, common);
  app.add_option("--id", options.id, "strategy number; the agent is strategy-ID")
      ->required()
      ->check(CLI::Range(1, 64));
  app.add_option("--vote-interval-ms", options.vote_interval_ms, "at most one vote this often")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return run_agent(common, "strategy-" + std::to_string(options.id),
                   [&](shmbus::Bus& bus) { return run_strategy(bus, options); });
}
