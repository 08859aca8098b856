// execution: simulated venue (see common/execution.cpp).
#include <CLI/CLI.hpp>

#include "examples.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CLI::App app{"execution: fills approved orders (order.accepted, order.filled)"};
  CommonOptions common;
  ExecutionOptions options;
  add_common_options(app, common);
  app.add_option("--fee-per-unit-e6", options.fee_per_unit_e6, "fee per unit, currency x 1e6")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return run_agent(common, "execution",
                   [&](shmbus::Bus& bus) { return run_execution(bus, options); });
}
