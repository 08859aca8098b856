// Fuzz target: the ring reader and the history reader over a segment image. RingReader is what
// every subscriber runs on slots that any producer process wrote (seq words, lengths, tails);
// read_history copies out the events a late joiner or a tool asks for. Each event handed out
// is read to its last payload byte, so a length that escapes its slot shows up under ASan.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_segment.hpp"
#include "shm/history.hpp"
#include "shm/ring/ring_reader.hpp"
#include "shm/segment.hpp"
#include "shm/topic_registry.hpp"

namespace {

std::uint64_t touch(const std::byte* p, std::uint32_t n) {
  std::uint64_t sum = 0;
  for (std::uint32_t i = 0; i < n; ++i) sum += static_cast<std::uint64_t>(p[i]);
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size);
  auto seg = detail::Segment::open(fs.bus_name(), std::chrono::nanoseconds(0));
  if (!seg) return 0;
  detail::Segment& s = **seg;
  volatile std::uint64_t sink = 0;
  for (std::uint32_t r = 0; r < detail::kRingCount; ++r) {
    const std::uint32_t cap = s.config().ring_capacity[r];
    // Agent record 0 plays the subscriber; its history reaches back over the whole ring.
    detail::RingReader reader(&s, r, 0);
    reader.activate(cap);
    // Bounded: a reader that never runs dry over a ring's worth of positions is a hang.
    for (std::uint32_t i = 0; i < 2 * cap + 2; ++i) {
      (void)reader.pending();
      detail::ReadEvent ev;
      if (!reader.next(ev)) break;
      if (ev.length > s.config().max_payload_bytes) __builtin_trap();
      sink = sink + touch(ev.payload, ev.length) + ev.header->topic_id + ev.header->producer_seq;
      reader.advance();
    }
    reader.store_cursor();
    sink = sink + reader.take_missed();
  }
  detail::TopicRegistry topics(s);
  auto history = detail::read_history(s, topics, "*", 64);
  if (history) {
    for (const OwnedEvent& e : *history) {
      sink = sink + e.payload.size() + e.topic_name.size();
    }
  }
  (void)sink;
  return 0;
}
