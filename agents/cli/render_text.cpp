// Text tables for status, agents and top (render_text.hpp).
#include "render_text.hpp"

#include <cstdarg>
#include <cstdio>

namespace shmbus::cli {

namespace {

void append(std::string& out, const char* format, ...) __attribute__((format(printf, 2, 3)));
void append(std::string& out, const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  if (n > 0)
    out.append(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n)
                                                             : sizeof buf - 1);
}

std::string duration(std::uint64_t ns) {
  char buf[32];
  if (ns < 10'000) {
    std::snprintf(buf, sizeof buf, "%lluns", static_cast<unsigned long long>(ns));
  } else if (ns < 10'000'000) {
    std::snprintf(buf, sizeof buf, "%lluus", static_cast<unsigned long long>(ns / 1000));
  } else if (ns < 10'000'000'000ull) {
    std::snprintf(buf, sizeof buf, "%llums", static_cast<unsigned long long>(ns / 1'000'000));
  } else {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(ns / 1'000'000'000));
  }
  return buf;
}

std::string per_ring(const std::array<std::uint64_t, kPriorityCount>& v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%llu/%llu/%llu/%llu", static_cast<unsigned long long>(v[0]),
                static_cast<unsigned long long>(v[1]), static_cast<unsigned long long>(v[2]),
                static_cast<unsigned long long>(v[3]));
  return buf;
}

std::string mask_letters(std::uint8_t mask) {
  std::string out;
  const char letters[] = "CHNL";
  for (std::uint32_t r = 0; r < kPriorityCount; ++r) out += (mask & (1u << r)) ? letters[r] : '-';
  return out;
}

unsigned long long u(std::uint64_t v) {
  return static_cast<unsigned long long>(v);
}

void header_lines(std::string& out, const BusSnapshot& s) {
  append(out, "bus %s  health %s  segment %.1f MiB  agents %zu  topics %zu\n", s.bus_name.c_str(),
         std::string(health_name(s.bus_health)).c_str(),
         static_cast<double>(s.segment_bytes) / (1024.0 * 1024.0), s.agents.size(),
         s.topics.size());
  if (!s.corrupt_agent_records.empty()) {
    std::string which;
    for (std::uint32_t i : s.corrupt_agent_records) {
      which += (which.empty() ? "" : ", ") + std::to_string(i);
    }
    append(out, "CORRUPT: %zu agent records hold no valid state (indexes %s)\n",
           s.corrupt_agent_records.size(), which.c_str());
  }
  if (s.supervisor_alive) {
    append(out, "supervisor pid %u alive, heartbeat %s ago, epoch %llu\n", s.supervisor_pid,
           duration(s.supervisor_heartbeat_age_ns).c_str(), u(s.supervisor_epoch));
  } else {
    const std::string last =
        s.supervisor_pid != 0 ? " (last pid " + std::to_string(s.supervisor_pid) + ")" : "";
    append(out, "supervisor not running%s\n", last.c_str());
  }
  append(out, "counters: claims_padded %llu  agents_recovered %llu  agents_untethered %llu\n",
         u(s.claims_padded), u(s.agents_recovered), u(s.agents_untethered));
}

void ring_table(std::string& out, const BusSnapshot& s, const BusSnapshot* prev) {
  append(out, "%-8s %9s %12s %12s %8s %7s %-8s %10s\n", "RING", "CAPACITY", "TAIL", "SLOWEST",
         "FILL", "FILL%", "LEVEL", prev ? "EVENTS/S" : "PADDED");
  const double secs = prev && s.taken_mono_ns > prev->taken_mono_ns
                          ? static_cast<double>(s.taken_mono_ns - prev->taken_mono_ns) / 1e9
                          : 0.0;
  for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
    const RingSnapshot& ring = s.rings[r];
    std::string last;
    if (prev) {
      const std::uint64_t before = prev->rings[r].tail;
      const double rate =
          secs > 0 && ring.tail >= before ? static_cast<double>(ring.tail - before) / secs : 0.0;
      last = std::to_string(static_cast<unsigned long long>(rate));
    } else {
      last = std::to_string(u(ring.padded));
    }
    append(out, "%-8s %9u %12llu %12llu %8llu %6.1f%% %-8s %10s\n",
           std::string(priority_name(ring.priority)).c_str(), ring.capacity, u(ring.tail),
           u(ring.slowest), u(ring.fill), ring.fill_pct,
           std::string(backpressure_level_name(ring.level)).c_str(), last.c_str());
  }
}

/// `latency` null: no latency column (status/agents); else "p50/p99 (samples)" per agent.
void agent_table(std::string& out, const BusSnapshot& s, const std::vector<AgentLatency>* latency) {
  append(out, "%-4s %-20s %7s %-9s %7s %-5s %-5s %-23s %10s %10s %6s %6s %6s%s\n", "IDX", "AGENT",
         "PID", "HEALTH", "HB_AGE", "READ", "TETH", "LAG C/H/N/L", "PUBLISHED", "DELIVERED", "SHED",
         "FULL", "MISSED", latency ? "  LATENCY p50/p99" : "");
  for (const AgentSnapshot& a : s.agents) {
    std::string lat;
    if (latency) {
      lat = "  -";
      for (const AgentLatency& l : *latency) {
        if (l.index != a.index || l.samples == 0) continue;
        lat = "  <" + duration(l.p50_ns) + "/<" + duration(l.p99_ns) + " (" +
              std::to_string(u(l.samples)) + ")";
      }
    }
    append(out, "%-4u %-20s %7u %-9s %7s %-5s %-5s %-23s %10llu %10llu %6llu %6llu %6llu%s\n",
           a.index, a.name.c_str(), a.pid,
           a.alive ? std::string(health_name(a.health)).c_str() : "gone",
           duration(a.heartbeat_age_ns).c_str(), mask_letters(a.reading_mask).c_str(),
           mask_letters(a.tethered_mask).c_str(), per_ring(a.lag).c_str(),
           u(AgentSnapshot::total(a.published)), u(AgentSnapshot::total(a.delivered)),
           u(AgentSnapshot::total(a.shed)), u(AgentSnapshot::total(a.full)),
           u(AgentSnapshot::total(a.missed)), lat.c_str());
  }
}

}  // namespace

std::string render_barriers(const BusSnapshot& s) {
  std::string out;
  if (!s.barriers_error.empty()) {
    append(out, "barriers: unavailable (%s)\n", s.barriers_error.c_str());
    return out;
  }
  if (s.barriers.empty()) return out;
  append(out, "%-16s %8s %9s %9s %9s %6s %-16s %s\n", "BARRIER", "ROUND", "ARRIVED", "COMPLETED",
         "TIMED_OUT", "LATE", "WAITER", "MISSING");
  for (const BarrierStatus& b : s.barriers) {
    std::string missing;
    for (const std::string& m : b.missing) missing += (missing.empty() ? "" : ",") + m;
    const std::string arrived = std::to_string(b.arrived) + "/" + std::to_string(b.participants);
    const std::string waiter = b.waiter.empty() ? "-" : b.waiter + (b.waiter_alive ? "" : "(gone)");
    append(out, "%-16s %8llu %9s %9llu %9llu %6llu %-16s %s\n", b.name.c_str(), u(b.generation),
           arrived.c_str(), u(b.completed), u(b.timed_out), u(b.late), waiter.c_str(),
           missing.c_str());
  }
  return out;
}

std::string render_status(const BusSnapshot& s) {
  std::string out;
  header_lines(out, s);
  out += "\n";
  ring_table(out, s, nullptr);
  if (!s.barriers.empty() || !s.barriers_error.empty()) {
    out += "\n";
    out += render_barriers(s);
  }
  return out;
}

std::string render_agents(const BusSnapshot& s) {
  std::string out;
  agent_table(out, s, nullptr);
  return out;
}

std::string render_top(const BusSnapshot& s, const BusSnapshot* previous,
                       const std::vector<AgentLatency>& latency) {
  std::string out;
  out += "shmbus top  (press q to quit)\n";
  header_lines(out, s);
  out += "\n";
  ring_table(out, s, previous);
  out += "\n";
  agent_table(out, s, &latency);
  const std::string barriers = render_barriers(s);
  if (!barriers.empty()) out += "\n" + barriers;
  return out;
}

}  // namespace shmbus::cli
