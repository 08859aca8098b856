// logger: counts every event, one line per second (see common/logger.cpp).
#include <string>

#include "command_line.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CommonOptions common;
  if (ParseOutcome done = parse_logger(argc, argv, common)) return *done;
  return run_agent(common, "logger", [](shmbus::Bus& bus) { return run_logger(bus); });
}
