// strategy-N: quotes -> signals and votes in barrier "decision" (see common/strategy.cpp).
#include <string>

#include "command_line.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CommonOptions common;
  StrategyOptions options;
  if (ParseOutcome done = parse_strategy(argc, argv, common, options)) return *done;
  return run_agent(common, "strategy-" + std::to_string(options.id),
                   [&](shmbus::Bus& bus) { return run_strategy(bus, options); });
}
