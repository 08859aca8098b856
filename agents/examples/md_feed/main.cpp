// md_feed: synthetic quotes and trades (see common/md_feed.cpp).
#include <CLI/CLI.hpp>

#include "examples.hpp"

int main(int argc, char** argv) {
  using namespace shmbus::examples;
  CLI::App app{"md_feed: synthetic quotes/trades on md.quote.<SYM> / md.trade.<SYM>"};
  CommonOptions common;
  MdFeedOptions options;
  add_common_options(app, common);
  app.add_option("--rate", options.rate, "quotes per second")->capture_default_str();
  app.add_option("--symbols", options.symbols, "instruments")->capture_default_str();
  app.add_option("--trade-every", options.trade_every, "one trade per N quotes (0: none)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return run_agent(common, "md_feed", [&](shmbus::Bus& bus) { return run_md_feed(bus, options); });
}
