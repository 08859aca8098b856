// Fuzz target: the read-only inspection (inspect_bus) and everything the CLI renders from it:
// `status`, `agents`, `barrier status`, a `top` frame (with itself as the previous frame) and
// the JSON of `status --json`, dumped as the CLI dumps it; then the CLI commands themselves
// (`status`, `errors`, `barrier status`, text and JSON), their output sent to /dev/null.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "commands.hpp"
#include "fuzz_segment.hpp"
#include "render_text.hpp"
#include "shmbus/inspect.hpp"
#include "snapshot_json.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The commands print to stdout; libFuzzer reports on stderr.
  const int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) ::dup2(null, STDOUT_FILENO);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size);
  auto snap = inspect_bus(fs.bus_name());
  if (!snap) return 0;
  volatile std::size_t sink = 0;
  sink = sink + cli::render_status(*snap).size();
  sink = sink + cli::render_agents(*snap).size();
  sink = sink + cli::render_barriers(*snap).size();
  std::vector<cli::AgentLatency> latency;
  for (const AgentSnapshot& a : snap->agents) latency.push_back({a.index, 10, 1000, 4000});
  BusSnapshot earlier = *snap;
  earlier.taken_mono_ns = snap->taken_mono_ns > 500'000'000 ? snap->taken_mono_ns - 500'000'000 : 0;
  sink = sink + cli::render_top(*snap, &earlier, latency).size();
  sink = sink + cli::render_top(*snap, nullptr, {}).size();
  sink = sink + cli::snapshot_to_json(*snap)
                    .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                    .size();
  for (const bool json : {false, true}) {
    (void)cli::run_status({.bus = fs.bus_name(), .json = json});
    (void)cli::run_agents({.bus = fs.bus_name(), .json = json});
    (void)cli::run_errors({.bus = fs.bus_name(), .count = 0, .json = json});
    (void)cli::run_barrier_status({.bus = fs.bus_name(), .name = "", .json = json});
  }
  (void)sink;
  return 0;
}
