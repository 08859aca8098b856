// Fuzz target: the dead-letter area's readers over a segment image: the copies that
// list_dead_letters (and `shmbus` tools) make of every committed entry, and the totals.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_segment.hpp"
#include "shm/dead_letter_area.hpp"
#include "shm/segment.hpp"
#include "shmbus/dead_letters.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size);
  auto seg = detail::Segment::open(fs.bus_name(), std::chrono::nanoseconds(0));
  if (!seg) return 0;
  const detail::DeadLetterArea area(**seg);
  volatile std::size_t sink = 0;
  for (const detail::DeadLetterCopy& c : area.read()) {
    if (c.payload.size() > (**seg).config().max_payload_bytes) __builtin_trap();
    sink = sink + c.payload.size() + c.handler.size() + c.reason.size();
  }
  sink = sink + area.written() + area.dropped();
  // The public entry points, by bus name, as tools call them.
  if (auto letters = list_dead_letters(fs.bus_name())) sink = sink + letters->size();
  if (auto totals = dead_letter_totals(fs.bus_name())) sink = sink + totals->written;
  (void)sink;
  return 0;
}
