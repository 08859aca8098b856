// logger: counts every event, one line per second (see common/logger.cpp).
#include <CLI/CLI.hpp>

#include "examples.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CLI::App app{"logger: counts every event on the bus, prints a line per second"};
  CommonOptions common;
  add_common_options(app, common);
  CLI11_PARSE(app, argc, argv);
  return run_agent(common, "logger", [](shmbus::Bus& bus) { return run_logger(bus); });
}
