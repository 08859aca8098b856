// cio: decides from the "decision" barrier rounds and sends orders (see common/cio.cpp).
#include <CLI/CLI.hpp>

#include "examples.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CLI::App app{"cio: waits barrier \"decision\" rounds, publishes decisions and order.new"};
  CommonOptions common;
  CioOptions options;
  add_common_options(app, common);
  app.add_option("--strategies", options.strategies, "participants strategy-1..N")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  app.add_option("--round-timeout-ms", options.round_timeout_ms, "deadline of a round")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return run_agent(common, "cio", [&](shmbus::Bus& bus) { return run_cio(bus, options); });
}
