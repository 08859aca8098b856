// shmbus-chaos: a supervisor, killable producers, subscribers, a steady producer and a barrier
// (a waiter and two participants) on one bus, each its own process, while a driver SIGKILLs
// and SIGSTOPs them at random (the supervisor too) and starts them again. At the end it checks what
// the bus promises and exits 1 if any check fails:
//   - every publish that returned kOk reached each permanent subscriber exactly once, in its
//     producer's order, intact (no loss, no duplicate, no reorder, no torn payload);
//   - a restarted (transient) subscriber saw no duplicate, hole or reorder after its first
//     event of each producer;
//   - no subscriber stayed stuck behind a claim (cursor below the tail, not moving, while not
//     stopped) longer than --stuck-limit-ms;
//   - the supervisor recovered every dead agent record, and the bus ends HEALTHY;
//   - barrier rounds kept closing while participants died (no gap past --stuck-limit-ms).
// --claim-delay-us widens the producers' claim -> commit window (a random sleep between
// filling a slot and committing it: claim()/commit() producers sleep themselves, publish()
// producers through the test-only hook in publish(), shm/publish_steps.hpp), so kills land
// inside it and the repair path (padding, quarantine, aborted commits) runs hundreds of times. Used
// by tests/chaos_test.cpp (short run, ctest label "chaos") and for the long runs recorded in
// RELIABILITY.md. --batch N: the killable publish() producers publish batches of N events
// (Bus::publish_batch), so kills land mid-batch too. This file: the command line and main(); the
// driver is chaos_driver.hpp.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>

#include <spdlog/spdlog.h>

#include "chaos_driver.hpp"

namespace {

using namespace shmbus;
using namespace shmbus::chaos;

void usage() {
  std::fprintf(stderr,
               "usage: shmbus-chaos [--kills N] [--max-seconds S] [--producers N]\n"
               "                    [--claim-delay-us US] [--no-supervisor-kills] [--no-stops]\n"
               "                    [--stuck-limit-ms MS] [--seed N] [--max-gap-ms MS]\n"
               "                    [--batch N] [--inject-loss] [--verbose]\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.seed = std::random_device{}();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--kills") {
      o.kills = std::strtoull(value(), nullptr, 10);
    } else if (a == "--max-seconds") {
      o.max_seconds = std::strtod(value(), nullptr);
    } else if (a == "--producers") {
      o.producers = std::max(1, std::atoi(value()));
    } else if (a == "--claim-delay-us") {
      o.claim_delay_us = std::max(0, std::atoi(value()));
    } else if (a == "--no-supervisor-kills") {
      o.kill_supervisor = false;
    } else if (a == "--no-stops") {
      o.stops = false;
    } else if (a == "--stuck-limit-ms") {
      o.stuck_limit_ms = std::strtoull(value(), nullptr, 10);
    } else if (a == "--seed") {
      o.seed = static_cast<unsigned>(std::strtoul(value(), nullptr, 10));
    } else if (a == "--batch") {
      o.batch = std::max(0, std::atoi(value()));
    } else if (a == "--inject-loss") {
      o.inject_loss = true;
    } else if (a == "--max-gap-ms") {
      o.max_gap_ms = std::max(1, std::atoi(value()));
    } else if (a == "--verbose") {
      o.verbose = true;
    } else {
      usage();
      return 2;
    }
  }
  auto* ledger = static_cast<Ledger*>(
      ::mmap(nullptr, sizeof(Ledger), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (ledger == MAP_FAILED) {
    std::perror("mmap");
    return 3;
  }
  new (ledger) Ledger();
  // The supervisor's children inherit this: its recoveries are counted, not logged one by one.
  if (!o.verbose) spdlog::set_level(spdlog::level::warn);
  const std::string bus = "chaos-" + std::to_string(::getpid());
  const int rc = Driver(o, *ledger, bus).run();
  (void)Bus::remove(bus, true);  // normally the supervisor removed it already
  return rc;
}
