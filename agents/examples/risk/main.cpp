// risk: pre-trade checks of order.new (see common/risk.cpp).
#include <string>

#include "command_line.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CommonOptions common;
  RiskOptions options;
  if (ParseOutcome done = parse_risk(argc, argv, common, options)) return *done;
  return run_agent(common, "risk", [&](shmbus::Bus& bus) { return run_risk(bus, options); });
}
