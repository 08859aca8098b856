// RunLayout: which processes one run of a row forks, in fork order (subscribers
// first, so subscriber k is slot k of the ScalingControl), which side of the
// pinning each is on, and whether its harness waits must yield; and, once the
// run is over, how the children's reports become the run's figures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "child_env.hpp"
#include "ipc/cpu_affinity.hpp"
#include "scaling_result.hpp"

namespace shmbus::bench::scaling {

enum class Role {
  kFanoutSubscriber,
  kFanoutProducer,
  kMergeSubscriber,
  kShareProducer,
  kPrioritySubscriber,
  kCriticalProducer,
  kFloodProducer,
};

struct ChildPlan {
  Role role = Role::kFanoutProducer;
  int rank = 0;             ///< index among the children of its role
  bool subscriber = false;  ///< pinned with the subscribers (else with the producers)
  std::string name;         ///< "subscriber 3", "flood producer": in messages
};

/// The children of one run of `row`.
std::vector<ChildPlan> plan_children(const RowSpec& row);

/// How child `i` waits for others (HarnessWait). It shares its CPU when, pinned, another
/// child is of its side, or, not pinned, the run has more children than allowed CPUs.
HarnessWait wait_plan(const std::vector<ChildPlan>& plan, std::size_t i, const CpuPlan& cpus);

/// Runs child `plan`'s part in the calling (forked) process; throws on failure.
void run_child(const ChildPlan& plan, const ChildEnv& env, bool paced);

/// Fills `run`'s figures from the reports and samples of a run in which every child
/// succeeded. Sets run.error (and leaves run.ok false) when the reports do not add up.
void collect_figures(const RowSpec& row, const std::vector<ChildPlan>& plan,
                     const ScalingControl& control, std::uint64_t* samples, std::uint64_t messages,
                     ScalingRun& run);

}  // namespace shmbus::bench::scaling
