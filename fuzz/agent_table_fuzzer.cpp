// Fuzz target: the agent table's readers over a segment image: names, and the sweep that the
// supervisor (and a producer stuck behind a dead reader) runs, which reads every record's
// state, claims and cursors, and recovers the records whose liveness lock nobody holds (all of
// them here: no process holds the fuzz segment's locks).
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_segment.hpp"
#include "shm/agent_table.hpp"
#include "shm/segment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size, {.skip_waits = true, .fresh_control_mutex = true});
  auto seg = detail::Segment::open(fs.bus_name(), std::chrono::nanoseconds(0));
  if (!seg) return 0;
  detail::Segment& s = **seg;
  volatile std::size_t sink = 0;
  for (std::uint32_t i = 0; i < s.config().max_agents; ++i) {
    sink = sink + detail::agent_name(s.agent(i)).size();
  }
  for (const detail::RecoveredAgent& a : detail::sweep_dead_agents(s)) {
    if (a.index >= s.config().max_agents) __builtin_trap();
    sink = sink + a.name.size() + a.claims_padded;
  }
  (void)sink;
  return 0;
}
