// BenchRunner: cases, repetitions, one process pair per run.
#include "bench_runner.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>

#include "clock.hpp"
#include "preemptions.hpp"
#include "process_pair.hpp"
#include "report.hpp"
#include "resource_names.hpp"
#include "shared_mapping.hpp"
#include "transport_registry.hpp"

namespace shmbus::bench {

std::vector<const TransportEntry*> select_transports(const BenchOptions& options) {
  const auto& registry = transport_registry();
  std::vector<const TransportEntry*> selected;
  const bool all = options.transports.empty() ||
                   std::find(options.transports.begin(), options.transports.end(), "all") !=
                       options.transports.end();
  if (all) {
    for (const TransportEntry& entry : registry) selected.push_back(&entry);
    return selected;
  }
  for (const std::string& name : options.transports) {
    auto it = std::find_if(registry.begin(), registry.end(),
                           [&](const TransportEntry& e) { return e.info.name == name; });
    if (it == registry.end()) {
      std::string message = "unknown transport '" + name + "'";
      for (std::string_view missing : transports_not_built()) {
        if (missing.starts_with(name + ":")) message += " (" + std::string(missing) + ")";
      }
      throw std::invalid_argument(message + "; --list shows the available ones");
    }
    selected.push_back(&*it);
  }
  return selected;
}

RunResult run_once(const TransportEntry& entry, Mode mode, std::size_t message_bytes,
                   const BenchOptions& options, const CpuPlan& cpus,
                   const std::filesystem::path& scratch) {
  RunResult result;
  const std::uint64_t start_ns = monotonic_now_ns();

  SharedMapping control_memory(sizeof(ControlBlock));
  auto* control = new (control_memory.data()) ControlBlock{};
  SharedMapping one_way;
  SharedMapping round_trip;
  ChildContext ctx;
  ctx.mode = mode;
  ctx.message_bytes = message_bytes;
  ctx.warmup = options.warmup_for(mode);
  ctx.messages = options.messages_for(mode);
  ctx.gap_ns = options.gap_ns;
  ctx.fault = options.fault;
  ctx.control = control;
  if (mode == Mode::kLatency) {
    one_way = SharedMapping(options.messages * sizeof(std::uint64_t));
    round_trip = SharedMapping(options.messages * sizeof(std::uint64_t));
    ctx.one_way_ns = reinterpret_cast<std::uint64_t*>(one_way.data());
    ctx.round_trip_ns = reinterpret_cast<std::uint64_t*>(round_trip.data());
  }

  ChannelConfig config;
  config.message_bytes = message_bytes;
  config.capacity = options.capacity;
  config.resource_prefix = next_resource_prefix();
  config.scratch_dir = scratch;

  std::unique_ptr<Channel> channel;
  try {
    channel = entry.open_channel(config);
  } catch (const std::exception& e) {
    result.error = std::string("setup failed: ") + e.what();
    return result;
  }

  auto child_main = [&](bool producer) -> int {
    try {
      if (producer) {
        channel->run_producer(ctx);
        control->producer_preemptions = involuntary_context_switches();
      } else {
        channel->run_consumer(ctx);
        control->consumer_preemptions = involuntary_context_switches();
      }
      return 0;
    } catch (const std::exception& e) {
      write_error_text(producer ? control->producer_error : control->consumer_error, e.what());
      return 2;
    }
  };

  PairOptions pair;
  pair.producer_cpu = cpus.producer_cpu;
  pair.consumer_cpu = cpus.consumer_cpu;
  pair.stall_timeout_ns = static_cast<std::uint64_t>(options.stall_timeout_s * 1e9);
  pair.hard_timeout_ns = static_cast<std::uint64_t>(options.timeout_s * 1e9);
  PairOutcome outcome;
  try {
    outcome = run_process_pair([&] { return child_main(true); }, [&] { return child_main(false); },
                               *control, [&] { channel->on_children_attached(); }, pair);
  } catch (const std::exception& e) {
    result.error = e.what();
    return result;
  }
  channel.reset();  // unlink whatever is still named, in the parent
  result.wall_s = static_cast<double>(monotonic_now_ns() - start_ns) / 1e9;

  if (!outcome.ok()) {
    result.error = outcome.describe() + "; consumer had handled about " +
                   std::to_string(control->progress.load()) + " of " + std::to_string(ctx.total()) +
                   " messages";
    if (control->producer_error[0] != '\0') {
      result.error += "; producer: " + std::string(control->producer_error);
    }
    if (control->consumer_error[0] != '\0') {
      result.error += "; consumer: " + std::string(control->consumer_error);
    }
    return result;
  }
  if (mode == Mode::kLatency) {
    result.one_way = summarize_latencies({ctx.one_way_ns, options.messages});
    result.rtt_half = scaled(summarize_latencies({ctx.round_trip_ns, options.messages}), 0.5);
  } else {
    result.interval_messages = control->interval_messages;
    result.interval_s = static_cast<double>(control->interval_ns) / 1e9;
    result.messages_per_s = result.interval_s > 0
                                ? static_cast<double>(result.interval_messages) / result.interval_s
                                : 0;
  }
  result.producer_preemptions = control->producer_preemptions;
  result.consumer_preemptions = control->consumer_preemptions;
  result.ok = true;
  return result;
}

std::vector<CaseResult> run_benchmarks(const BenchOptions& options,
                                       const std::vector<const TransportEntry*>& transports,
                                       const CpuPlan& cpus, const std::filesystem::path& scratch,
                                       std::FILE* log) {
  std::vector<CaseResult> cases;
  std::vector<const TransportEntry*> entries;
  for (Mode mode : options.modes) {
    for (std::size_t payload : options.payloads_for(mode)) {
      for (const TransportEntry* entry : transports) {
        const bool supported =
            mode == Mode::kLatency ? entry->info.latency : entry->info.throughput;
        if (!supported) continue;
        CaseResult c;
        c.transport = entry->info;
        c.mode = mode;
        c.requested_message_bytes = payload;
        c.message_bytes = std::min(payload, entry->info.max_message_bytes);
        cases.push_back(std::move(c));
        entries.push_back(entry);
      }
    }
  }
  for (int run = 0; run < options.runs && !interrupted(); ++run) {
    for (std::size_t i = 0; i < cases.size() && !interrupted(); ++i) {
      CaseResult& c = cases[i];
      c.runs.push_back(run_once(*entries[i], c.mode, c.message_bytes, options, cpus, scratch));
      print_run_line(log, c, c.runs.back(), run, options.runs);
      for (const std::string& leaked : leftover_shm_objects()) {
        std::fprintf(log, "  LEAK: %s left in /dev/shm after %s\n", leaked.c_str(),
                     c.transport.name.c_str());
      }
    }
  }
  return cases;
}

}  // namespace shmbus::bench
