// Fuzz target: attach-time validation (Segment::open) of a segment image: header, magic,
// version, layout hash, config, region table and ring headers. Anything it accepts must be
// safe to index with the validated geometry, so the target then touches the last byte of
// every region the plan names.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_segment.hpp"
#include "shm/segment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  auto& fs = fuzz::FuzzSegment::instance();
  // No waits skipped: a zero ready word or a short file is part of what is validated, and a
  // zero ready_wait keeps each input fast.
  fs.load(data, size, {.skip_waits = false});
  auto seg = detail::Segment::open(fs.bus_name(), std::chrono::nanoseconds(0));
  if (!seg) {
    if (seg.code() == Errc::kOk || seg.message().empty()) __builtin_trap();  // an error names why
    return 0;
  }
  const detail::Segment& s = **seg;
  const detail::RegionPlan& p = s.plan();
  if (p.total_size == 0 || p.total_size > s.size()) __builtin_trap();
  volatile std::byte sink{};
  sink = s.base()[p.total_size - 1];
  for (std::uint32_t r = 0; r < detail::kRingCount; ++r) {
    sink = *reinterpret_cast<const std::byte*>(&s.slot(r, s.config().ring_capacity[r] - 1));
    sink = s.ring_slots(r)[std::size_t{s.config().ring_capacity[r]} * p.slot_stride - 1];
  }
  sink = *reinterpret_cast<const std::byte*>(&s.agent(s.config().max_agents - 1));
  sink = *reinterpret_cast<const std::byte*>(&s.topic(s.config().max_topics - 1));
  (void)sink;
  return 0;
}
