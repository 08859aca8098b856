// Markdown report: one latency table per message size and one throughput table,
// every figure "median (ratio to the floor)", plus the method in a few lines.
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "report.hpp"
#include "transport_registry.hpp"

namespace shmbus::bench {
namespace {

using MetricFn = double (*)(const RunResult&);

std::string with_ratio(const CaseResult& c, const CaseResult* floor, MetricFn metric,
                       std::string (*format)(double)) {
  const Spread s = c.aggregate(metric);
  if (!s.valid) return "failed";
  std::string cell = format(s.median);
  if (floor != nullptr) {
    const double base = floor->aggregate(metric).median;
    if (base > 0) cell += " (" + format_ratio(s.median / base) + ")";
  }
  return cell;
}

std::string transport_cell(const CaseResult& c) {
  std::string cell = "`" + c.transport.name + "`";
  if (c.message_bytes != c.requested_message_bytes) {
    cell += " (" + std::to_string(c.message_bytes) + " B)";
  }
  return cell;
}

/// Largest producer/consumer preemption counts over the runs: "0/0" means both pinned
/// processes had their cores to themselves for the whole run.
std::string preemptions_cell(const CaseResult& c) {
  std::uint64_t producer = 0, consumer = 0;
  for (const RunResult& r : c.runs) {
    if (!r.ok) continue;
    producer = std::max(producer, r.producer_preemptions);
    consumer = std::max(consumer, r.consumer_preemptions);
  }
  return std::to_string(producer) + "/" + std::to_string(consumer);
}

std::string runs_text(int runs) {
  return runs == 1 ? "1 run" : std::to_string(runs) + " runs";
}

}  // namespace

std::string markdown_report(const std::vector<CaseResult>& cases, const ReportContext& ctx) {
  const BenchOptions& o = ctx.options;
  std::ostringstream md;
  std::vector<std::string> failures;

  // Latency: one table per requested size.
  std::map<std::size_t, std::vector<const CaseResult*>> latency;
  for (const CaseResult& c : cases) {
    if (c.mode == Mode::kLatency) latency[c.requested_message_bytes].push_back(&c);
  }
  for (const auto& [bytes, rows] : latency) {
    md << "### One-way latency, " << bytes << "-byte messages\n\n"
       << "Median of " << runs_text(o.runs) << "; in brackets the ratio to `" << kFloorTransport
       << "` (the floor) in the same run.\n\n"
       << "| transport | consumer waits by | p50 | p99 | p99.9 | p99.99 | max | rtt/2 p50 | "
          "p50 min–max over runs | preempted |\n"
       << "|---|---|---|---|---|---|---|---|---|---|\n";
    for (const CaseResult* c : rows) {
      const CaseResult* floor = find_floor_case(cases, *c);
      md << "| " << transport_cell(*c) << " | " << c->transport.wait;
      for (MetricFn metric : {+[](const RunResult& r) { return r.one_way.p50_ns; },
                              +[](const RunResult& r) { return r.one_way.p99_ns; },
                              +[](const RunResult& r) { return r.one_way.p999_ns; },
                              +[](const RunResult& r) { return r.one_way.p9999_ns; },
                              +[](const RunResult& r) { return r.one_way.max_ns; },
                              +[](const RunResult& r) { return r.rtt_half.p50_ns; }}) {
        md << " | " << with_ratio(*c, floor, metric, format_duration_ns);
      }
      const Spread p50 = c->aggregate([](const RunResult& r) { return r.one_way.p50_ns; });
      md << " | "
         << (p50.valid ? format_duration_ns(p50.min) + " – " + format_duration_ns(p50.max) : "—")
         << " | " << preemptions_cell(*c) << " |\n";
      if (c->ok_runs() != c->runs.size()) {
        failures.push_back(c->transport.name + " latency " + std::to_string(bytes) +
                           " B: " + failed_runs_text(*c));
      }
    }
    md << "\n";
  }

  // Throughput: one table, a column per size.
  std::map<std::string, std::map<std::size_t, const CaseResult*>> throughput;
  std::vector<std::string> order;
  std::vector<std::size_t> sizes;
  for (const CaseResult& c : cases) {
    if (c.mode != Mode::kThroughput) continue;
    if (!throughput.contains(c.transport.name)) order.push_back(c.transport.name);
    throughput[c.transport.name][c.requested_message_bytes] = &c;
    if (std::find(sizes.begin(), sizes.end(), c.requested_message_bytes) == sizes.end()) {
      sizes.push_back(c.requested_message_bytes);
    }
  }
  if (!order.empty()) {
    md << "### Throughput, one producer to one consumer, unpaced\n\n"
       << "Messages/s, median of " << runs_text(o.runs) << " [min–max]; in brackets the ratio to `"
       << kFloorTransport << "`. The consumer checks every sequence number.\n\n"
       << "| transport | consumer waits by |";
    for (std::size_t size : sizes) md << " " << size << " B |";
    md << " preempted |\n|---|---|";
    for (std::size_t i = 0; i < sizes.size(); ++i) md << "---|";
    md << "---|\n";
    for (const std::string& name : order) {
      const auto& by_size = throughput[name];
      md << "| `" << name << "` | " << by_size.begin()->second->transport.wait << " |";
      for (std::size_t size : sizes) {
        auto it = by_size.find(size);
        if (it == by_size.end()) {
          md << " — |";
          continue;
        }
        const CaseResult& c = *it->second;
        const MetricFn rate = [](const RunResult& r) { return r.messages_per_s; };
        md << " " << with_ratio(c, find_floor_case(cases, c), rate, format_rate);
        const Spread s = c.aggregate(rate);
        if (s.valid) md << " [" << format_millions(s.min) << "–" << format_millions(s.max) << "]";
        md << " |";
        if (c.ok_runs() != c.runs.size()) {
          failures.push_back(name + " throughput " + std::to_string(size) +
                             " B: " + failed_runs_text(c));
        }
      }
      std::uint64_t producer = 0, consumer = 0;
      for (const auto& [size, c] : by_size) {
        for (const RunResult& r : c->runs) {
          if (!r.ok) continue;
          producer = std::max(producer, r.producer_preemptions);
          consumer = std::max(consumer, r.consumer_preemptions);
        }
      }
      md << " " << producer << "/" << consumer << " |\n";
    }
    md << "\n";
  }

  md << "Method: separate producer and consumer processes (fork), ";
  if (ctx.cpus.producer_cpu && ctx.cpus.consumer_cpu) {
    md << "pinned to CPUs " << *ctx.cpus.producer_cpu << " and " << *ctx.cpus.consumer_cpu;
  } else {
    md << "not pinned (" << ctx.cpus.note << ")";
  }
  md << "; " << format_thousands(o.messages_for(Mode::kLatency))
     << " measured messages per latency run after "
     << format_thousands(o.warmup_for(Mode::kLatency)) << " warm-up messages, "
     << format_thousands(o.messages_for(Mode::kThroughput)) << " per throughput run after "
     << format_thousands(o.warmup_for(Mode::kThroughput)) << "; runs interleaved across "
     << "transports. Latency: CLOCK_MONOTONIC stamped by the producer just before send, read by "
     << "the consumer just after receive; one message in flight (the producer waits for the "
     << "consumer's ack, then idles " << static_cast<double>(o.gap_ns) / 1000.0
     << " µs, so blocking consumers are asleep when a message arrives); rtt/2 is half the "
     << "producer's send-to-ack time. Throughput: back-to-back sends, rate over the messages "
     << "after the warm-up. Preempted: the most involuntary context switches of the "
     << "producer/consumer process in any run (getrusage); more than a handful means other "
     << "work shared their cores, and the tails show it. Queue depth " << o.capacity
     << " messages where configurable (UDS: default socket buffer). Build: " << ctx.machine.build
     << ".\n";
  for (std::string_view missing : ctx.not_built) md << "\nNot built: " << missing << ".\n";
  for (const std::string& failure : failures) md << "\nFailed: " << failure << "\n";
  return md.str();
}

}  // namespace shmbus::bench
