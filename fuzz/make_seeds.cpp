// Seed corpus for the fuzz targets: runs a small bus in this process (an embedded supervisor,
// a producer and a subscriber) through the states whose bytes the readers must understand, and
// writes a copy of the real segment at each one. Every target takes a segment image, so every
// corpus directory gets the same seeds. Trailing zero bytes are cut (the harness zero-extends
// an image to the size its header names), which keeps the files small.
//   shmbus_fuzz_seeds DIR...     (scripts/fuzz.sh --seeds runs it for fuzz/corpus/<target>)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "shm/segment.hpp"
#include "shmbus/barrier.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/supervisor.hpp"

namespace {

using namespace shmbus;
using namespace std::chrono_literals;

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

// Copies the segment file, without its trailing zeros, to DIR/<name>.seg for every DIR.
void snapshot(const std::string& bus, const std::string& name,
              const std::vector<std::string>& dirs) {
  std::ifstream in(detail::shm_file_path(bus), std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(bytes.size() >= sizeof(detail::SegmentHeader), "segment too small");
  std::size_t end = bytes.size();
  while (end > sizeof(detail::SegmentHeader) && bytes[end - 1] == 0) --end;
  for (const std::string& dir : dirs) {
    std::ofstream out(dir + "/" + name + ".seg", std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(end));
    check(out.good(), "write " + dir + "/" + name + ".seg");
  }
  std::printf("%s: %zu bytes (segment %zu)\n", name.c_str(), end, bytes.size());
}

int run(const std::vector<std::string>& dirs) {
  const std::string bus_name = "fuzzseed-" + std::to_string(::getpid());
  SupervisorConfig sc;
  sc.bus.name = bus_name;
  sc.bus.ring_capacity = {64, 64, 64, 64};
  sc.bus.max_payload_bytes = 128;  // the sys.* payloads need 128
  sc.bus.max_agents = 4;
  sc.bus.max_topics = 16;
  sc.bus.history_depth = 8;
  sc.bus.max_barriers = 2;
  sc.bus.max_barrier_participants = 3;
  sc.bus.barrier_signal_bytes = 16;
  sc.bus.dead_letter_capacity = 4;
  sc.bus.error_log_capacity = 4;
  auto sup = Supervisor::start(sc);
  check(bool(sup), "supervisor: " + (sup ? std::string() : sup.message()));
  struct Remove {
    std::string name;
    ~Remove() { (void)Bus::remove(name, true); }
  } remove{bus_name};

  AgentOptions po;
  po.name = "prod";
  po.wait = WaitStrategy::kBlock;
  auto prod = Bus::attach(bus_name, po);
  check(bool(prod), "attach prod");
  AgentOptions so = po;
  so.name = "sub";
  so.max_handler_failures = 0;
  auto sub = Bus::attach(bus_name, so);
  check(bool(sub), "attach sub");
  auto quote = prod->register_topic("md.quote.ESZ6", 16);
  auto text = prod->register_topic("fz.text", 0);
  auto fail = prod->register_topic("fz.fail", 8);
  check(quote && text && fail, "topics");
  std::uint64_t delivered = 0;
  check(bool(sub->on("md.*", [&](const EventView&) { ++delivered; })), "on md.*");
  check(bool(sub->on("fz.text", [&](const EventView&) { ++delivered; })), "on fz.text");
  check(
      bool(sub->on("fz.fail", [](const EventView&) { throw std::runtime_error("seed failure"); })),
      "on fz.fail");
  sup->tick();
  snapshot(bus_name, "fresh", dirs);

  // Traffic on every ring, past one lap of the rings, so positions wrap and slots are reused.
  char payload[128] = {};
  for (int i = 0; i < 100; ++i) {
    for (Priority p : {Priority::kCritical, Priority::kHigh, Priority::kNormal, Priority::kLow}) {
      payload[0] = static_cast<char>(i);
      (void)prod->publish(*quote, payload, 16, p);
      (void)prod->publish(*text, payload, static_cast<std::size_t>(i % 100), p);
    }
    sub->poll();
    if (i % 10 == 0) sup->tick();
  }
  sub->poll();
  sup->tick();
  snapshot(bus_name, "traffic", dirs);

  // Failing handlers: dead letters and error-log entries (more than their capacity of 4).
  for (int i = 0; i < 6; ++i) {
    (void)prod->publish(*fail, payload, 8, Priority::kHigh);
    sub->poll();
  }
  sup->tick();
  snapshot(bus_name, "failures", dirs);

  // A barrier with a completed round, and one that is half full.
  const std::vector<std::string> parts = {"prod", "sub"};
  check(bool(create_barrier(*prod, "decision", parts, 1s)), "create barrier");
  auto waiter = Barrier::open(*sub, "decision");
  auto voter = Barrier::open(*prod, "decision");
  check(waiter && voter, "open barrier");
  check(bool(waiter->become_waiter()), "become waiter");
  const std::byte signal[8] = {std::byte{1}, std::byte{2}};
  (void)voter->arrive(signal);
  (void)waiter->arrive(signal);
  auto round = waiter->wait(100ms);
  check(bool(round), "barrier round");
  (void)voter->arrive(signal);
  sup->tick();
  snapshot(bus_name, "barrier", dirs);

  // A claim held open (claimed, not committed): what a producer killed mid-publish leaves.
  Claim c = prod->claim(*quote, 16, Priority::kNormal);
  check(c.ok(), "claim");
  snapshot(bus_name, "open_claim", dirs);
  (void)prod->commit(c);
  sub->poll();
  std::printf("delivered %llu events\n", static_cast<unsigned long long>(delivered));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR...\n", argv[0]);
    return 2;
  }
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shmbus_fuzz_seeds: %s\n", e.what());
    return 1;
  }
}
