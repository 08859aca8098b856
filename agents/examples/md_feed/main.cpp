// md_feed: synthetic quotes and trades (see common/md_feed.cpp).
#include <string>

#include "command_line.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CommonOptions common;
  MdFeedOptions options;
  if (ParseOutcome done = parse_md_feed(argc, argv, common, options)) return *done;
  return run_agent(common, "md_feed", [&](shmbus::Bus& bus) { return run_md_feed(bus, options); });
}
