// JSON report: configuration, machine, and per case every run plus median, min,
// max and ratio to the floor. Durations in nanoseconds, rates in messages/s.
#include <nlohmann/json.hpp>

#include "latency_json.hpp"

#include "report.hpp"
#include "transport_registry.hpp"

namespace shmbus::bench {
namespace {

using nlohmann::json;

struct Metric {
  const char* key;
  double (*get)(const RunResult&);
};

constexpr Metric kLatencyMetrics[] = {
    {"p50_ns", [](const RunResult& r) { return r.one_way.p50_ns; }},
    {"p99_ns", [](const RunResult& r) { return r.one_way.p99_ns; }},
    {"p99_9_ns", [](const RunResult& r) { return r.one_way.p999_ns; }},
    {"p99_99_ns", [](const RunResult& r) { return r.one_way.p9999_ns; }},
    {"max_ns", [](const RunResult& r) { return r.one_way.max_ns; }},
    {"mean_ns", [](const RunResult& r) { return r.one_way.mean_ns; }},
    {"rtt_half_p50_ns", [](const RunResult& r) { return r.rtt_half.p50_ns; }},
    {"rtt_half_p99_9_ns", [](const RunResult& r) { return r.rtt_half.p999_ns; }},
};
constexpr Metric kThroughputMetrics[] = {
    {"messages_per_s", [](const RunResult& r) { return r.messages_per_s; }},
};

}  // namespace

std::string json_report(const std::vector<CaseResult>& cases, const ReportContext& ctx) {
  const BenchOptions& o = ctx.options;
  json doc;
  doc["tool"] = "shmbus-ipc-bench";
  doc["machine"] = {{"cpu_model", ctx.machine.cpu_model}, {"online_cpus", ctx.machine.online_cpus},
                    {"kernel", ctx.machine.kernel},       {"compiler", ctx.machine.compiler},
                    {"build", ctx.machine.build},         {"optimized", ctx.machine.optimized},
                    {"boost", ctx.machine.boost_version}, {"zeromq", ctx.machine.zmq_version}};
  json cpus = json::object();
  if (ctx.cpus.producer_cpu) cpus["producer"] = *ctx.cpus.producer_cpu;
  if (ctx.cpus.consumer_cpu) cpus["consumer"] = *ctx.cpus.consumer_cpu;
  if (!ctx.cpus.note.empty()) cpus["note"] = ctx.cpus.note;
  doc["config"] = {
      {"messages", o.messages_for(Mode::kLatency)},
      {"warmup", o.warmup_for(Mode::kLatency)},
      {"throughput_messages", o.messages_for(Mode::kThroughput)},
      {"throughput_warmup", o.warmup_for(Mode::kThroughput)},
      {"runs", o.runs},
      {"capacity", o.capacity},
      {"latency_pacing",
       "one message in flight: producer waits for the consumer's ack, then idles gap_ns"},
      {"gap_ns", o.gap_ns},
      {"cpus", cpus},
      {"floor", kFloorTransport},
  };
  doc["not_built"] = json::array();
  for (std::string_view missing : ctx.not_built) doc["not_built"].push_back(missing);

  json results = json::array();
  for (const CaseResult& c : cases) {
    json item = {{"transport", c.transport.name},
                 {"description", c.transport.description},
                 {"wait", c.transport.wait},
                 {"mode", to_string(c.mode)},
                 {"message_bytes", c.message_bytes},
                 {"requested_message_bytes", c.requested_message_bytes},
                 {"ok_runs", c.ok_runs()}};
    json runs = json::array();
    for (const RunResult& r : c.runs) {
      json run = {{"ok", r.ok},
                  {"wall_s", r.wall_s},
                  {"producer_preemptions", r.producer_preemptions},
                  {"consumer_preemptions", r.consumer_preemptions}};
      if (!r.ok) run["error"] = r.error;
      if (r.ok && c.mode == Mode::kLatency) {
        run["one_way"] = latency_json(r.one_way);
        run["rtt_half"] = latency_json(r.rtt_half);
      } else if (r.ok) {
        run["messages_per_s"] = r.messages_per_s;
        run["interval_messages"] = r.interval_messages;
        run["interval_s"] = r.interval_s;
      }
      runs.push_back(std::move(run));
    }
    item["runs"] = std::move(runs);
    const CaseResult* floor = find_floor_case(cases, c);
    json median = json::object(), min = json::object(), max = json::object(),
         ratio = json::object();
    const auto metrics = c.mode == Mode::kLatency ? std::span<const Metric>(kLatencyMetrics)
                                                  : std::span<const Metric>(kThroughputMetrics);
    for (const Metric& m : metrics) {
      const Spread s = c.aggregate(m.get);
      if (!s.valid) continue;
      median[m.key] = s.median;
      min[m.key] = s.min;
      max[m.key] = s.max;
      if (floor != nullptr) {
        const double base = floor->aggregate(m.get).median;
        if (base > 0) ratio[m.key] = s.median / base;
      }
    }
    item["median"] = std::move(median);
    item["min"] = std::move(min);
    item["max"] = std::move(max);
    item["ratio_to_floor"] = std::move(ratio);
    results.push_back(std::move(item));
  }
  doc["results"] = std::move(results);
  return doc.dump(2) + "\n";
}

}  // namespace shmbus::bench
