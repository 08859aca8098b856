// JSON of bus snapshots and barrier status (snapshot_json.hpp).
#include "snapshot_json.hpp"

#include <string>

namespace shmbus::cli {

namespace {

using nlohmann::json;

json per_ring(const std::array<std::uint64_t, kPriorityCount>& v) {
  return json::array({v[0], v[1], v[2], v[3]});
}

json ring_names(std::uint8_t mask) {
  json out = json::array();
  for (std::uint32_t r = 0; r < kPriorityCount; ++r) {
    if ((mask & (1u << r)) != 0)
      out.push_back(std::string(priority_name(static_cast<Priority>(r))));
  }
  return out;
}

std::int64_t ns_count(std::chrono::nanoseconds d) {
  return static_cast<std::int64_t>(d.count());
}

}  // namespace

json agent_to_json(const AgentSnapshot& a) {
  json totals = {{"published", AgentSnapshot::total(a.published)},
                 {"delivered", AgentSnapshot::total(a.delivered)},
                 {"consumed", AgentSnapshot::total(a.consumed)},
                 {"shed", AgentSnapshot::total(a.shed)},
                 {"full", AgentSnapshot::total(a.full)},
                 {"rate_limited", AgentSnapshot::total(a.rate_limited)},
                 {"aborted", AgentSnapshot::total(a.aborted)},
                 {"missed", AgentSnapshot::total(a.missed)}};
  return json{{"index", a.index},
              {"epoch", a.epoch},
              {"name", a.name},
              {"pid", a.pid},
              {"alive", a.alive},
              {"health", std::string(health_name(a.health))},
              {"heartbeat_age_ns", a.heartbeat_age_ns},
              {"handler_errors", a.handler_errors},
              {"handler_error_streak", a.handler_error_streak},
              {"max_delivery_latency_ns", a.max_delivery_latency_ns},
              {"rate_limit_per_s", a.rate_limit_per_s},
              {"reading", ring_names(a.reading_mask)},
              {"tethered", ring_names(a.tethered_mask)},
              // per-ring arrays are indexed by priority: CRITICAL, HIGH, NORMAL, LOW
              {"lag", per_ring(a.lag)},
              {"published", per_ring(a.published)},
              {"delivered", per_ring(a.delivered)},
              {"consumed", per_ring(a.consumed)},
              {"shed", per_ring(a.shed)},
              {"full", per_ring(a.full)},
              {"rate_limited", per_ring(a.rate_limited)},
              {"aborted", per_ring(a.aborted)},
              {"missed", per_ring(a.missed)},
              {"totals", totals},
              {"last_error", a.last_error}};
}

json barrier_to_json(const BarrierStatus& b) {
  json detail = json::array();
  for (const BarrierParticipantStatus& p : b.detail) {
    detail.push_back({{"name", p.name},
                      {"arrived", p.arrived},
                      {"dropped", p.dropped},
                      {"attached", p.attached},
                      {"accepted", p.accepted}});
  }
  return json{{"name", b.name},
              {"generation", b.generation},
              {"closing", b.closing},
              {"participants", b.participants},
              {"arrived", b.arrived},
              {"missing", b.missing},
              {"dropped", b.dropped},
              {"detail", detail},
              {"timeout_ns", ns_count(b.timeout)},
              {"time_left_ns", b.time_left ? json(ns_count(*b.time_left)) : json(nullptr)},
              {"completed", b.completed},
              {"timed_out", b.timed_out},
              {"late", b.late},
              {"drops", b.drops},
              {"waiter", b.waiter},
              {"waiter_alive", b.waiter_alive},
              {"last_generation", b.last_generation},
              {"last_complete", b.last_complete},
              {"last_arrived", b.last_arrived}};
}

json snapshot_to_json(const BusSnapshot& s) {
  const BusConfig& c = s.config;
  json rings = json::array();
  for (const RingSnapshot& r : s.rings) {
    rings.push_back({{"priority", std::string(priority_name(r.priority))},
                     {"capacity", r.capacity},
                     {"tail", r.tail},
                     {"slowest", r.slowest},
                     {"has_tethered", r.has_tethered},
                     {"fill", r.fill},
                     {"fill_pct", r.fill_pct},
                     {"level", std::string(backpressure_level_name(r.level))},
                     {"padded", r.padded},
                     {"quarantined", r.quarantined}});
  }
  json agents = json::array();
  for (const AgentSnapshot& a : s.agents) agents.push_back(agent_to_json(a));
  json topics = json::array();
  for (const TopicSnapshot& t : s.topics) {
    topics.push_back({{"id", t.id},
                      {"name", t.name},
                      {"payload_size", t.payload_size},
                      {"schema_version", t.schema_version},
                      {"published", t.published}});
  }
  json barriers = json::array();
  for (const BarrierStatus& b : s.barriers) barriers.push_back(barrier_to_json(b));
  return json{{"bus", s.bus_name},
              {"segment_bytes", s.segment_bytes},
              {"creation_time_ns", s.creation_time_ns},
              {"health", std::string(health_name(s.bus_health))},
              {"supervisor",
               {{"pid", s.supervisor_pid},
                {"alive", s.supervisor_alive},
                {"heartbeat_age_ns", s.supervisor_heartbeat_age_ns},
                {"epoch", s.supervisor_epoch}}},
              {"config",
               {{"ring_capacity", c.ring_capacity},
                {"max_payload_bytes", c.max_payload_bytes},
                {"max_agents", c.max_agents},
                {"max_topics", c.max_topics},
                {"history_depth", c.history_depth},
                {"max_barriers", c.max_barriers},
                {"max_barrier_participants", c.max_barrier_participants}}},
              {"rings", rings},
              {"agents", agents},
              {"corrupt_agent_records", s.corrupt_agent_records},
              {"topics", topics},
              {"counters",
               {{"claims_padded", s.claims_padded},
                {"agents_recovered", s.agents_recovered},
                {"agents_untethered", s.agents_untethered}}},
              {"barriers", barriers},
              {"barriers_error", s.barriers_error}};
}

}  // namespace shmbus::cli
