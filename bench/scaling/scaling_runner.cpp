// ScalingRunner: rows, repetitions, and one process group per run.
#include "scaling_runner.hpp"

#include <sys/prctl.h>

#include <exception>
#include <new>
#include <optional>
#include <string>

#include "bench_bus.hpp"
#include "ipc/clock.hpp"
#include "ipc/preemptions.hpp"
#include "ipc/process_group.hpp"
#include "ipc/resource_names.hpp"
#include "ipc/shared_mapping.hpp"
#include "run_layout.hpp"
#include "scaling_report.hpp"

namespace shmbus::bench::scaling {
namespace {

/// The body of every child: its part, then its preemption count; a failure's text goes
/// into its report for the parent.
int child_main(const ChildPlan& plan, const ChildEnv& env, bool paced) {
  // A sleeping pacing gap (HarnessWait::idle_until) ends when asked, not up to 50 µs later.
  prctl(PR_SET_TIMERSLACK, 1UL);
  try {
    run_child(plan, env, paced);
    env.report().preemptions = involuntary_context_switches();
    return 0;
  } catch (const std::exception& e) {
    write_error_text(env.report().error, e.what());
    return 2;
  }
}

GroupWatch watch_of(ScalingControl& control, std::size_t children) {
  GroupWatch watch;
  watch.progress = [&control, children] {
    std::uint64_t sum = control.low_published.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < children; ++i) {
      sum += control.lines[i].progress.load(std::memory_order_relaxed) +
             control.lines[i].done.load(std::memory_order_relaxed) +
             control.acks[i].count.load(std::memory_order_relaxed);
    }
    return sum;
  };
  watch.all_ready = [&control, children] {
    for (std::size_t i = 0; i < children; ++i) {
      if (control.lines[i].ready.load(std::memory_order_acquire) == 0) return false;
    }
    return true;
  };
  watch.on_ready = [&control] { control.go.store(1, std::memory_order_release); };
  return watch;
}

}  // namespace

std::vector<RowSpec> plan_rows(const ScalingOptions& options) {
  std::vector<RowSpec> rows;
  for (Scenario scenario : options.scenarios) {
    switch (scenario) {
      case Scenario::kFanout:
        for (Measure measure : {Measure::kThroughput, Measure::kLatency}) {
          for (int m : options.subscribers) {
            rows.push_back({.scenario = scenario, .measure = measure, .subscribers = m});
          }
        }
        break;
      case Scenario::kProducers:
        for (int p : options.producers) {
          rows.push_back({.scenario = scenario, .measure = Measure::kThroughput, .producers = p});
        }
        break;
      case Scenario::kPriority:
        for (bool flood : {false, true}) {
          rows.push_back({.scenario = scenario, .measure = Measure::kLatency, .flood = flood});
        }
        break;
    }
  }
  return rows;
}

ScalingRun run_once(const RowSpec& row, const ScalingOptions& options, const CpuPlan& cpus) {
  ScalingRun run;
  const std::uint64_t start_ns = monotonic_now_ns();
  const std::vector<ChildPlan> plan = plan_children(row);
  const bool paced = row.measure == Measure::kLatency;

  SharedMapping control_memory;
  SharedMapping sample_memory;
  std::optional<BenchBus> bus;
  try {
    control_memory = SharedMapping(sizeof(ScalingControl));
    if (paced) {
      const std::size_t sets = row.scenario == Scenario::kFanout ? row.subscribers : 1;
      sample_memory = SharedMapping(sets * options.messages * sizeof(std::uint64_t));
    }
    bus.emplace(next_resource_prefix(),
                BusGeometry{.payload_bytes = options.payload,
                            .ring_capacity = options.capacity,
                            .children = static_cast<std::uint32_t>(plan.size())});
  } catch (const std::exception& e) {
    run.error = std::string("setup failed: ") + e.what();
    return run;
  }
  auto* control = new (control_memory.data()) ScalingControl{};

  ChildEnv base;
  base.control = control;
  base.bus_name = bus->name();
  base.data_topic = bus->data_topic();
  base.low_topic = bus->low_topic();
  base.critical_topic = bus->critical_topic();
  base.payload_bytes = options.payload;
  base.warmup = options.effective_warmup();
  base.messages = options.messages;
  base.gap_ns =
      row.scenario == Scenario::kPriority ? options.critical_gap_ns() : options.fanout_gap_ns();
  base.ring_capacity = options.capacity;
  base.low_work_ns = options.low_work_ns;
  base.subscriber_wait = options.wait;
  base.subscribers = row.subscribers;
  base.producers = row.producers;
  base.samples = paced ? reinterpret_cast<std::uint64_t*>(sample_memory.data()) : nullptr;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (plan[i].role == Role::kFloodProducer) base.flood_slot = i;
  }

  std::vector<ChildSpec> specs;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    ChildEnv env = base;
    env.slot = i;
    env.rank = plan[i].rank;
    env.wait = wait_plan(plan, i, cpus);
    const ChildPlan& child = plan[i];
    specs.push_back({child.name, [env, &child, paced] { return child_main(child, env, paced); },
                     child.subscriber ? cpus.consumer_cpu : cpus.producer_cpu});
  }

  GroupOutcome outcome;
  try {
    outcome = run_process_group(
        specs, watch_of(*control, plan.size()),
        {.stall_timeout_ns = static_cast<std::uint64_t>(options.stall_timeout_s * 1e9),
         .hard_timeout_ns = static_cast<std::uint64_t>(options.timeout_s * 1e9)});
  } catch (const std::exception& e) {
    run.error = e.what();
    return run;
  }
  bus.reset();  // every child is gone: remove the segment now, before the leak check
  run.wall_s = static_cast<double>(monotonic_now_ns() - start_ns) / 1e9;

  if (!outcome.ok()) {
    run.error = outcome.describe();
    for (std::size_t i = 0; i < plan.size(); ++i) {
      if (control->reports[i].error[0] != '\0') {
        run.error += "; " + plan[i].name + ": " + control->reports[i].error;
      }
    }
    return run;
  }
  collect_figures(row, plan, *control, base.samples, options.messages, run);
  return run;
}

std::vector<RowResult> run_rows(const ScalingOptions& options, const CpuPlan& cpus,
                                std::FILE* log) {
  std::vector<RowResult> rows;
  for (const RowSpec& spec : plan_rows(options)) rows.push_back({spec, {}});
  for (int run = 0; run < options.runs && !interrupted(); ++run) {
    for (RowResult& row : rows) {
      if (interrupted()) break;
      row.runs.push_back(run_once(row.spec, options, cpus));
      print_run_line(log, row, row.runs.back(), run, options.runs);
      for (const std::string& leaked : leftover_shm_objects()) {
        std::fprintf(log, "  LEAK: %s left in /dev/shm after %s\n", leaked.c_str(),
                     row.spec.label().c_str());
      }
    }
  }
  return rows;
}

}  // namespace shmbus::bench::scaling
