// execution: simulated venue (see common/execution.cpp).
#include <string>

#include "command_line.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CommonOptions common;
  ExecutionOptions options;
  if (ParseOutcome done = parse_execution(argc, argv, common, options)) return *done;
  return run_agent(common, "execution",
                   [&](shmbus::Bus& bus) { return run_execution(bus, options); });
}
