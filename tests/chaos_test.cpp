// The chaos tool (tools/chaos, shmbus-chaos) as a real process: a short run of random SIGKILLs
// and SIGSTOPs of producers, subscribers and the supervisor must end with every invariant it
// checks holding (exit 0), and its checker must catch a loss injected on purpose (exit 1).
// The long runs (1,000+ kills) are recorded in RELIABILITY.md.
#include <stdio.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "testing/test_support.hpp"

namespace {

struct ChaosRun {
  int exit_code = -1;
  std::string output;
};

// Runs shmbus-chaos with `args` and collects its output. The tool bounds its own run time
// (--max-seconds, then bounded drain and recovery waits); ctest's timeout is the backstop.
ChaosRun run_chaos(const std::string& args) {
  const std::string cmd =
      shmbus::testing::bin_dir() + "/tools/chaos/shmbus-chaos " + args + " 2>&1";
  ChaosRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) r.output += buf;
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::uint64_t figure(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return 0;
  return std::stoull(m[1].str());
}

TEST(ChaosTest, RandomKillsAndStopsLoseDuplicateReorderAndTearNothing) {
  // About 5 s on two idle cores (an action every 0.5-15 ms); sanitizer builds kill less.
  const std::uint64_t kills = std::max<std::uint64_t>(60, shmbus::testing::scaled(300));
  const ChaosRun r = run_chaos("--kills " + std::to_string(kills) +
                               " --max-seconds 40 --max-gap-ms 15 --claim-delay-us 300");
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("chaos: PASS"), std::string::npos);
  // The run did what it is for: kills, some of producers holding a claimed slot, whose slots
  // recovery then closed (padded).
  EXPECT_GE(figure(r.output, R"(kills (\d+) \()"), kills / 2);
  EXPECT_GT(figure(r.output, R"(producers (\d+), of which)"), 0u);
  EXPECT_GT(figure(r.output, R"(of which (\d+) holding a claimed slot)"), 0u);
  EXPECT_GT(figure(r.output, R"((\d+) claims padded)"), 0u);
  EXPECT_GT(figure(r.output, R"(barrier: voter kills \d+, rounds (\d+))"), 0u);
  EXPECT_GT(figure(r.output, R"(events acknowledged (\d+))"), 0u);
}

TEST(ChaosTest, CheckerReportsAnInjectedLoss) {
  // A subscriber that drops one event on purpose: the checker must see the hole and fail.
  const ChaosRun r = run_chaos("--kills 10 --max-seconds 5 --no-supervisor-kills --inject-loss");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("chaos: FAIL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("holes or reorders"), std::string::npos) << r.output;
}

}  // namespace
