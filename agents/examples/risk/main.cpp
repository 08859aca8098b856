// risk: pre-trade checks of order.new (see common/risk.cpp).
#include <CLI/CLI.hpp>

#include "examples.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CLI::App app{"risk: checks order.new, publishes risk.check (CRITICAL), forwards passed orders"};
  CommonOptions common;
  RiskOptions options;
  add_common_options(app, common);
  app.add_option("--max-qty", options.max_qty, "largest order quantity")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return run_agent(common, "risk", [&](shmbus::Bus& bus) { return run_risk(bus, options); });
}
