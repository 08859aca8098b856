// cio: decides from the "decision" barrier rounds and sends orders (see common/cio.cpp).
#include <string>

#include "command_line.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CommonOptions common;
  CioOptions options;
  if (ParseOutcome done = parse_cio(argc, argv, common, options)) return *done;
  return run_agent(common, "cio", [&](shmbus::Bus& bus) { return run_cio(bus, options); });
}
