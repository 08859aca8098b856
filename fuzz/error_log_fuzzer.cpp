// Fuzz target: the error log's readers over a segment image: ErrorLog::read (every committed
// entry, checksums, texts) and recent_errors, what `shmbus errors` prints.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_segment.hpp"
#include "shm/error_log.hpp"
#include "shm/segment.hpp"
#include "shmbus/inspect.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size);
  auto seg = detail::Segment::open(fs.bus_name(), std::chrono::nanoseconds(0));
  if (!seg) return 0;
  const detail::ErrorLog log(**seg);
  volatile std::size_t sink = 0;
  for (const detail::ErrorLogCopy& c : log.read()) {
    sink = sink + c.agent_name.size() + c.handler.size() + c.text.size();
  }
  for (const detail::ErrorLogCopy& c : log.read(2)) sink = sink + c.index;
  if (auto errors = recent_errors(fs.bus_name(), 3)) {
    if (errors->size() > 3) __builtin_trap();
    for (const ErrorRecord& r : *errors) sink = sink + r.message.size();
  }
  (void)sink;
  return 0;
}
