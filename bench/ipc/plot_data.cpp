// gnuplot data files: latency.dat (transport, p50, p99, p99.9 in µs, for the
// first latency message size) and throughput.dat (a header line of sizes, then
// transport and M msg/s per size; "?" where not measured).
#include <fstream>
#include <map>
#include <stdexcept>

#include "report.hpp"

namespace shmbus::bench {

void write_plot_data(const std::filesystem::path& dir, const std::vector<CaseResult>& cases) {
  std::filesystem::create_directories(dir);
  std::ofstream latency(dir / "latency.dat");
  latency << "# transport p50_us p99_us p99.9_us (median of runs)\n";
  std::size_t latency_bytes = 0;
  for (const CaseResult& c : cases) {
    if (c.mode != Mode::kLatency || c.ok_runs() == 0) continue;
    if (latency_bytes == 0) latency_bytes = c.requested_message_bytes;
    if (c.requested_message_bytes != latency_bytes) continue;
    latency << '"' << c.transport.name << "\" "
            << c.aggregate([](const RunResult& r) { return r.one_way.p50_ns; }).median / 1000 << ' '
            << c.aggregate([](const RunResult& r) { return r.one_way.p99_ns; }).median / 1000 << ' '
            << c.aggregate([](const RunResult& r) { return r.one_way.p999_ns; }).median / 1000
            << '\n';
  }

  std::vector<std::string> order;
  std::vector<std::size_t> sizes;
  std::map<std::string, std::map<std::size_t, double>> rates;
  for (const CaseResult& c : cases) {
    if (c.mode != Mode::kThroughput) continue;
    if (!rates.contains(c.transport.name)) order.push_back(c.transport.name);
    if (std::find(sizes.begin(), sizes.end(), c.requested_message_bytes) == sizes.end()) {
      sizes.push_back(c.requested_message_bytes);
    }
    const Spread s = c.aggregate([](const RunResult& r) { return r.messages_per_s; });
    auto& row = rates[c.transport.name];
    if (s.valid) row[c.requested_message_bytes] = s.median / 1e6;
  }
  std::ofstream throughput(dir / "throughput.dat");
  // Uncommented header: gnuplot's columnhead() takes the series titles from it.
  throughput << "transport";
  for (std::size_t size : sizes) throughput << " \"" << size << " B\"";
  throughput << '\n';
  for (const std::string& name : order) {
    throughput << '"' << name << '"';
    for (std::size_t size : sizes) {
      auto it = rates[name].find(size);
      if (it == rates[name].end()) {
        throughput << " ?";
      } else {
        throughput << ' ' << it->second;
      }
    }
    throughput << '\n';
  }
  if (!latency || !throughput)
    throw std::runtime_error("cannot write plot data in " + dir.string());
}

}  // namespace shmbus::bench
