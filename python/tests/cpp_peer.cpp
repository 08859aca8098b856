// shmbus_py_peer: the C++ side of the Python tests and benchmarks, a real agent process.
//   produce BUS TOPIC COUNT [INTERVAL_US]   publishes COUNT catalog::Quote with values quote_of(i)
//   produce64 BUS TOPIC COUNT [INTERVAL_US] publishes COUNT 64-byte payloads (i in the first 8
//                                           bytes) on a 64-byte topic; benchmarks
//   consume BUS PATTERN COUNT TIMEOUT_MS    prints "ready", then one line per event: its producer
//                                           sequence and every field decoded through the
//                                           catalogue field list ("name=value ...")
//   latency[-block] BUS PATTERN COUNT TIMEOUT_MS  busy-spin (futex-blocking) subscriber; prints
//                                           one-way latency percentiles (sender's
//                                           CLOCK_MONOTONIC stamp in bytes 8..15 of a 64-byte
//                                           payload to handler, ns)
//   count BUS PATTERN COUNT TIMEOUT_MS      busy-spin subscriber that only counts: the
//                                           throughput sink of the benchmarks
// Exit code 0 when COUNT events were handled, 1 on timeout or a bad argument.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "shmbus/bus.hpp"
#include "shmbus/catalog.hpp"

using namespace shmbus;

namespace {

std::uint64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

/// The i-th quote of a test stream; python/tests/test_cross_process.py computes the same.
catalog::Quote quote_of(std::uint64_t i) {
  catalog::Quote q{};
  catalog::set_symbol(q.symbol, "SYM" + std::to_string(i % 7));
  catalog::set_symbol(q.venue, "XNAS");
  q.bid_price_e9 = 100'000'000'000 + static_cast<std::int64_t>(i);
  q.ask_price_e9 = q.bid_price_e9 + 250'000'000;
  q.bid_qty = static_cast<std::int64_t>(i);
  q.ask_qty = -3 * static_cast<std::int64_t>(i);
  q.exchange_time_ns = i * 1000;
  q.recv_mono_ns = 0;
  q.seq = i;
  q.bid_orders = static_cast<std::uint32_t>(i % 1000);
  q.ask_orders = 0xFFFFFFFFu - static_cast<std::uint32_t>(i);
  return q;
}

std::string decode_line(const EventView& e) {
  std::string line = "seq=" + std::to_string(e.id.sequence);
  const catalog::CatalogEntry* entry = catalog::find_catalog_entry(e.topic_name);
  if (entry == nullptr || e.payload.size() != entry->payload_size) {
    return line + " bytes=" + std::to_string(e.payload.size());
  }
  for (const FieldDesc& f : entry->fields) {
    const std::byte* p = e.payload.data() + f.offset;
    if (f.kind == FieldKind::kReserved) continue;
    line += " " + std::string(f.name) + "=";
    if (f.kind == FieldKind::kText) {
      const char* s = reinterpret_cast<const char*>(p);
      line += std::string(s, strnlen(s, f.size));
      continue;
    }
    for (std::size_t i = 0; i < f.count; ++i) {
      if (i > 0) line += ",";
      if (f.kind == FieldKind::kSigned) {
        std::int64_t v = 0;
        std::memcpy(&v, p + i * f.size, f.size);
        const unsigned shift = static_cast<unsigned>(64 - f.size * 8);
        if (shift != 0) {
          v = static_cast<std::int64_t>(static_cast<std::uint64_t>(v) << shift) >> shift;
        }
        line += std::to_string(v);
      } else {
        std::uint64_t v = 0;
        std::memcpy(&v, p + i * f.size, f.size);
        line += std::to_string(v);
      }
    }
  }
  return line;
}

void pace(std::uint64_t interval_us) {
  if (interval_us == 0) return;
  const std::uint64_t until = mono_ns() + interval_us * 1000;
  while (mono_ns() < until) {
  }
}

int produce64(const std::string& bus_name, const std::string& topic, std::uint64_t count,
              std::uint64_t interval_us) {
  AgentOptions o;
  o.name = "cpp-producer64";
  auto bus = Bus::attach(bus_name, o);
  if (!bus) {
    std::fprintf(stderr, "attach: %s\n", bus.message().c_str());
    return 1;
  }
  auto t = bus->register_topic(topic, 64);
  if (!t) {
    std::fprintf(stderr, "topic: %s\n", t.message().c_str());
    return 1;
  }
  std::array<std::byte, 64> payload{};
  for (std::uint64_t i = 0; i < count; ++i) {
    std::memcpy(payload.data(), &i, sizeof i);
    const std::uint64_t stamp = mono_ns();  // clock_gettime, carried in the message
    std::memcpy(payload.data() + 8, &stamp, sizeof stamp);
    while (bus->publish(*t, payload.data(), payload.size()) != PublishStatus::kOk) {
      std::this_thread::yield();
    }
    pace(interval_us);
  }
  std::printf("done %llu\n", static_cast<unsigned long long>(count));
  return 0;
}

int produce(const std::string& bus_name, const std::string& topic, std::uint64_t count,
            std::uint64_t interval_us) {
  AgentOptions o;
  o.name = "cpp-producer";
  auto bus = Bus::attach(bus_name, o);
  if (!bus) {
    std::fprintf(stderr, "attach: %s\n", bus.message().c_str());
    return 1;
  }
  auto t = bus->topic<catalog::Quote>(topic);
  if (!t) {
    std::fprintf(stderr, "topic: %s\n", t.message().c_str());
    return 1;
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    catalog::Quote q = quote_of(i);
    q.recv_mono_ns = mono_ns();
    // kWait policy: a full ring waits up to the publish timeout; retry what did not go.
    while (bus->publish(*t, q) != PublishStatus::kOk) std::this_thread::yield();
    pace(interval_us);
  }
  std::printf("done %llu\n", static_cast<unsigned long long>(count));
  return 0;
}

/// What a consumer does with each event: print it (consume), stamp its latency (latency,
/// latency-block), or only count it (count: a throughput sink, busy-spinning, that does per
/// event what the peers' receivers do, nothing but take it).
enum class Sink { kPrint, kLatency, kCount };

int consume(const std::string& bus_name, const std::string& pattern, std::uint64_t count,
            std::uint64_t timeout_ms, Sink sink, bool block) {
  const bool latency = sink == Sink::kLatency;
  AgentOptions o;
  o.name = sink == Sink::kPrint ? "cpp-consumer" : latency ? "cpp-latency" : "cpp-count";
  o.wait = sink != Sink::kPrint && !block ? WaitStrategy::kBusySpin : WaitStrategy::kBlock;
  o.handler_budget = std::chrono::nanoseconds(0);
  auto bus = Bus::attach(bus_name, o);
  if (!bus) {
    std::fprintf(stderr, "attach: %s\n", bus.message().c_str());
    return 1;
  }
  std::uint64_t seen = 0;
  std::vector<std::uint64_t> lat;
  lat.reserve(latency ? count : 0);
  auto sub = bus->on(pattern, [&](const EventView& e) {
    ++seen;
    if (latency) {
      // The sender's CLOCK_MONOTONIC stamp in bytes 8..15 of a 64-byte payload (the reference
      // method of DESIGN.md), else the publish timestamp of the event.
      std::uint64_t sent = e.timestamp_ns;
      if (e.payload.size() == 64) std::memcpy(&sent, e.payload.data() + 8, sizeof sent);
      lat.push_back(mono_ns() - sent);
    } else if (sink == Sink::kPrint) {
      std::printf("%s\n", decode_line(e).c_str());
    }
  });
  if (!sub) {
    std::fprintf(stderr, "subscribe: %s\n", sub.message().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  const std::uint64_t deadline = mono_ns() + timeout_ms * 1'000'000;
  while (seen < count && mono_ns() < deadline) {
    (void)bus->poll_wait(1024, std::chrono::milliseconds(20));
  }
  if (latency && !lat.empty()) {
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double q) {
      return lat[std::min(lat.size() - 1,
                          static_cast<std::size_t>(q * static_cast<double>(lat.size())))];
    };
    std::printf("latency_ns p50=%llu p99=%llu p999=%llu n=%zu\n",
                static_cast<unsigned long long>(pct(0.5)),
                static_cast<unsigned long long>(pct(0.99)),
                static_cast<unsigned long long>(pct(0.999)), lat.size());
  }
  std::fflush(stdout);
  return seen >= count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(
        stderr,
        "usage: shmbus_py_peer produce BUS TOPIC COUNT [INTERVAL_US]\n"
        "       shmbus_py_peer consume|latency|latency-block|count BUS PATTERN COUNT TIMEOUT_MS\n");
    return 1;
  }
  const std::string mode = argv[1];
  const std::uint64_t count = std::stoull(argv[4]);
  if (mode == "produce64") {
    return produce64(argv[2], argv[3], count, argc > 5 ? std::stoull(argv[5]) : 0);
  }
  if (mode == "produce") {
    return produce(argv[2], argv[3], count, argc > 5 ? std::stoull(argv[5]) : 0);
  }
  if ((mode == "consume" || mode == "latency" || mode == "latency-block" || mode == "count") &&
      argc > 5) {
    const Sink sink = mode == "consume" ? Sink::kPrint
                      : mode == "count" ? Sink::kCount
                                        : Sink::kLatency;
    return consume(argv[2], argv[3], count, std::stoull(argv[5]), sink, mode == "latency-block");
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 1;
}
