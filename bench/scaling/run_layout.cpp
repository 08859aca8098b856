// RunLayout: children per scenario, CPU sharing, and the figures of a run.
#include "run_layout.hpp"

#include <algorithm>
#include <span>

#include "scenario_children.hpp"

namespace shmbus::bench::scaling {
namespace {

static_assert(kMaxProcessesPerRole + 2 <= kMaxChildren,
              "the largest run (32 of one role + the others) must fit the control page");

double per_second(std::uint64_t events, std::uint64_t interval_ns) {
  return static_cast<double>(events) * 1e9 / static_cast<double>(interval_ns);
}

}  // namespace

std::vector<ChildPlan> plan_children(const RowSpec& row) {
  std::vector<ChildPlan> plan;
  switch (row.scenario) {
    case Scenario::kFanout:
      for (int k = 0; k < row.subscribers; ++k) {
        plan.push_back({Role::kFanoutSubscriber, k, true, "subscriber " + std::to_string(k)});
      }
      plan.push_back({Role::kFanoutProducer, 0, false, "producer"});
      break;
    case Scenario::kProducers:
      plan.push_back({Role::kMergeSubscriber, 0, true, "subscriber"});
      for (int k = 0; k < row.producers; ++k) {
        plan.push_back({Role::kShareProducer, k, false, "producer " + std::to_string(k)});
      }
      break;
    case Scenario::kPriority:
      plan.push_back({Role::kPrioritySubscriber, 0, true, "subscriber"});
      plan.push_back({Role::kCriticalProducer, 0, false, "critical producer"});
      if (row.flood) plan.push_back({Role::kFloodProducer, 0, false, "flood producer"});
      break;
  }
  return plan;
}

HarnessWait wait_plan(const std::vector<ChildPlan>& plan, std::size_t i, const CpuPlan& cpus) {
  if (cpus.producer_cpu && cpus.consumer_cpu) {
    const auto same_side = std::count_if(plan.begin(), plan.end(), [&](const ChildPlan& c) {
      return c.subscriber == plan[i].subscriber;
    });
    // Acks always come from the other side: subscribers ack, producers wait.
    return HarnessWait(same_side > 1, true);
  }
  return HarnessWait(plan.size() > allowed_cpus().size(), false);
}

void run_child(const ChildPlan& plan, const ChildEnv& env, bool paced) {
  switch (plan.role) {
    case Role::kFanoutSubscriber:
      return fanout_subscriber(env, paced);
    case Role::kFanoutProducer:
      return fanout_producer(env, paced);
    case Role::kMergeSubscriber:
      return merge_subscriber(env);
    case Role::kShareProducer:
      return share_producer(env);
    case Role::kPrioritySubscriber:
      return priority_subscriber(env);
    case Role::kCriticalProducer:
      return critical_producer(env);
    case Role::kFloodProducer:
      return flood_producer(env);
  }
}

void collect_figures(const RowSpec& row, const std::vector<ChildPlan>& plan,
                     const ScalingControl& control, std::uint64_t* samples, std::uint64_t messages,
                     ScalingRun& run) {
  for (std::size_t i = 0; i < plan.size(); ++i) {
    std::uint64_t& most =
        plan[i].subscriber ? run.subscriber_preemptions : run.producer_preemptions;
    most = std::max(most, control.reports[i].preemptions);
  }
  // Subscribers are slots [0, subscribers): the ones with a timed interval.
  const std::size_t subscribers = row.scenario == Scenario::kFanout ? row.subscribers : 1;
  for (std::size_t k = 0; k < subscribers; ++k) {
    if (row.measure == Measure::kThroughput || row.scenario == Scenario::kPriority) {
      if (control.reports[k].interval_ns == 0) {
        run.error = plan[k].name + " reported an empty timed interval";
        return;
      }
    }
  }

  if (row.measure == Measure::kThroughput) {
    std::vector<double> rates;
    std::uint64_t longest_ns = 0;
    for (std::size_t k = 0; k < subscribers; ++k) {
      const ChildReport& r = control.reports[k];
      rates.push_back(per_second(r.interval_events, r.interval_ns));
      longest_ns = std::max(longest_ns, r.interval_ns);
    }
    // Every subscriber handled the same N events: M × N were delivered once the slowest
    // subscriber's interval was over.
    run.rate_per_s = per_second(subscribers * messages, longest_ns);
    const Spread spread = spread_of(rates);
    run.subscriber_rate_min = spread.min;
    run.subscriber_rate_median = spread.median;
  } else {
    for (std::size_t k = 0; k < subscribers; ++k) {
      // Sorts this subscriber's slice; the summary over all samples sorts the whole array.
      const LatencySummary own = summarize_latencies({samples + k * messages, messages});
      run.slowest_subscriber_p50_ns = std::max(run.slowest_subscriber_p50_ns, own.p50_ns);
    }
    run.latency = summarize_latencies({samples, subscribers * messages});
  }

  if (row.scenario == Scenario::kPriority && row.flood) {
    const ChildReport& r = control.reports[0];
    run.low_rate_per_s = per_second(r.low_events, r.interval_ns);
    run.low_backlog_min = static_cast<double>(r.low_backlog_min);
    if (r.low_backlog_samples != 0) {
      const auto samples_count = static_cast<double>(r.low_backlog_samples);
      run.low_backlog_mean = static_cast<double>(r.low_backlog_sum) / samples_count;
      run.low_half_full_share = static_cast<double>(r.low_half_full) / samples_count;
    }
  }
  run.ok = true;
}

}  // namespace shmbus::bench::scaling
