// Fuzz target: a whole subscriber over a segment image, through the public API: Bus::attach
// (validation, agent registration beside whatever records the image holds), a dispatcher
// started in the ring history, topic lookups and filtering for every event it reads, handlers
// that throw (dead letters, the error log, the sys.error event it then publishes into rings
// whose cursors and tails are the input's), history(), and the detach; every event is also
// decoded as `shmbus tail` decodes it. This is the path every
// agent runs on memory other processes wrote.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "fuzz_segment.hpp"
#include "payload_json.hpp"
#include "shmbus/bus.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmbus;
  using namespace std::chrono_literals;
  auto& fs = fuzz::FuzzSegment::instance();
  fs.load(data, size, {.skip_waits = true, .fresh_control_mutex = true});
  AgentOptions o;
  o.name = "fuzz";
  o.wait = WaitStrategy::kSpinYield;
  o.full_policy = FullPolicy::kReturn;  // a full ring is an outcome, never a wait here
  o.publish_timeout = 0ns;
  o.attach_wait = 0ns;
  o.start_from_history = true;
  o.max_handler_failures = 3;
  o.handler_budget = 0ns;
  auto bus = Bus::attach(fs.bus_name(), o);
  if (!bus) return 0;
  volatile std::size_t sink = 0;
  auto touch = [&](const EventView& v) {
    for (std::byte b : v.payload) sink = sink + static_cast<std::size_t>(b);
    // What `shmbus tail` prints: the payload decoded by its topic's field list.
    sink = sink + cli::decode_payload(v.topic_name, v.payload).dump().size();
  };
  (void)bus->on_any([&](const EventView& v) {
    touch(v);
    if (!v.payload.empty() && (static_cast<unsigned>(v.payload[0]) & 1u) != 0) {
      throw std::runtime_error("fuzz handler failure");  // dead letter + error log + sys.error
    }
  });
  (void)bus->on("md.*", touch);
  // Bounded: a ring's worth of events per ring at most, a few rounds.
  for (int round = 0; round < 4; ++round) sink = sink + bus->poll(1024);
  if (auto h = bus->history("*", 16)) sink = sink + h->size();
  (void)sink;
  return 0;
}
