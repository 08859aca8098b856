// The barrier registry: creating and removing records under the control mutex, lock-free
// lookup, dropping participants whose agent died, and the status snapshot.
#include "shm/barrier_registry.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "shm/barrier_round.hpp"
#include "shm/clock.hpp"
#include "shm/control_mutex.hpp"

namespace shmbus::detail {

namespace {

bool name_equals(const char (&stored)[kBarrierNameBytes], std::string_view name) noexcept {
  return symbol_view(stored) == name;
}

void set_name(char (&dst)[kBarrierNameBytes], std::string_view src) noexcept {
  std::memset(dst, 0, sizeof(dst));
  if (!src.empty()) std::memcpy(dst, src.data(), std::min(src.size(), sizeof(dst) - 1));
}

}  // namespace

// ---- names ---------------------------------------------------------------------------------

std::string validate_barrier_name(std::string_view name) {
  if (name.empty()) return "barrier name is empty";
  if (name.size() > kMaxBarrierName) {
    return "barrier name '" + std::string(name.substr(0, 40)) + "...' is " +
           std::to_string(name.size()) + " characters; at most " + std::to_string(kMaxBarrierName);
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return "barrier name '" + std::string(name) +
             "' has a bad character (allowed: A-Z a-z 0-9 _ - .)";
    }
  }
  return {};
}

std::string barrier_name(const BarrierHeader& h) {
  return std::string(symbol_view(h.name));
}

std::string participant_name(const BarrierParticipant& p) {
  return std::string(symbol_view(p.name));
}

// ---- registry ------------------------------------------------------------------------------

Result<std::uint32_t> create_barrier(Segment& seg, std::string_view name,
                                     std::span<const std::string> participants,
                                     std::uint64_t timeout_ns) {
  if (auto e = validate_barrier_name(name); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  BarrierTable t(seg);
  const std::string what = "barrier '" + std::string(name) + "'";
  if (participants.empty() || participants.size() > t.max_participants()) {
    return make_error(Errc::kInvalidArgument, what + ": " + std::to_string(participants.size()) +
                                                  " participants; must be 1.." +
                                                  std::to_string(t.max_participants()) +
                                                  " (max_barrier_participants)");
  }
  for (std::size_t i = 0; i < participants.size(); ++i) {
    if (auto e = validate_agent_name(participants[i]); !e.empty()) {
      return make_error(Errc::kInvalidArgument, what + ": participant " + e);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (participants[j] == participants[i]) {
        return make_error(Errc::kInvalidArgument,
                          what + ": participant '" + participants[i] + "' listed twice");
      }
    }
  }
  if (timeout_ns == 0) return make_error(Errc::kInvalidArgument, what + ": timeout must be > 0");
  if (t.capacity() == 0) {
    return make_error(Errc::kCapacityExceeded, what + ": the bus has max_barriers = 0");
  }

  ControlLock lock(&seg.header().control_mutex);
  if (!lock.ok()) return make_error(lock.error_code(), "bus " + seg.bus_name() + ": " + lock.error());
  const auto n = static_cast<std::uint32_t>(participants.size());
  std::uint32_t free_index = kNoAgent;
  for (std::uint32_t b = 0; b < t.capacity(); ++b) {
    BarrierHeader& h = t.header(b);
    const auto st = static_cast<BarrierRecordState>(h.state.load(std::memory_order_acquire));
    if (st != BarrierRecordState::kActive) {
      // kCreating here is a creator that died holding the (robust) mutex we now hold.
      if (free_index == kNoAgent) free_index = b;
      continue;
    }
    if (!name_equals(h.name, name)) continue;
    bool same = h.participant_count == n && h.timeout_ns == timeout_ns;
    for (std::uint32_t p = 0; same && p < n; ++p) {
      same = name_equals(t.participant(b, p).name, participants[p]);
    }
    if (same) return b;
    return make_error(Errc::kAlreadyExists,
                      what + " exists with other participants or another timeout");
  }
  if (free_index == kNoAgent) {
    return make_error(Errc::kCapacityExceeded, what + ": all " + std::to_string(t.capacity()) +
                                                   " barrier records are in use (max_barriers)");
  }
  const std::uint32_t b = free_index;
  BarrierHeader& h = t.header(b);
  h.state.store(static_cast<std::uint32_t>(BarrierRecordState::kCreating),
                std::memory_order_relaxed);
  h.incarnation.store(0, std::memory_order_relaxed);
  h.participant_count = n;
  h.timeout_ns = timeout_ns;
  h.created_ns = realtime_ns();
  set_name(h.name, name);
  // Generations keep growing across incarnations of a record, so an arrival still in flight for
  // the previous barrier can only write a generation below every round of this one.
  const std::uint64_t gen = round_gen(h.round.load(std::memory_order_relaxed)) + 1;
  h.round.store(make_round(gen, false), std::memory_order_relaxed);
  h.opened_ns.store(monotonic_ns(), std::memory_order_relaxed);
  h.last_outcome.store(0, std::memory_order_relaxed);
  h.wake_target.store(0, std::memory_order_relaxed);
  h.waiter.store(0, std::memory_order_relaxed);
  h.completed.store(0, std::memory_order_relaxed);
  h.timed_out.store(0, std::memory_order_relaxed);
  h.late.store(0, std::memory_order_relaxed);
  h.drops.store(0, std::memory_order_relaxed);
  for (std::uint32_t p = 0; p < t.max_participants(); ++p) {
    BarrierParticipant& slot = t.participant(b, p);
    set_name(slot.name, p < n ? std::string_view(participants[p]) : std::string_view());
    slot.bound.store(0, std::memory_order_relaxed);
    slot.dropped.store(0, std::memory_order_relaxed);
    slot.accepted.store(0, std::memory_order_relaxed);
    // arrived, outcome and tag keep their (older-generation) values: they only grow. The sleeper
    // counts and open_sleeping are left alone: sleepers of the previous incarnation still
    // decrement them when they wake (and leave, seeing the incarnation changed).
  }
  BarrierTableHeader& th = t.table_header();
  const std::uint64_t inc = th.next_incarnation.load(std::memory_order_relaxed) + 1;
  th.next_incarnation.store(inc, std::memory_order_relaxed);
  h.incarnation.store(inc, std::memory_order_relaxed);
  h.state.store(static_cast<std::uint32_t>(BarrierRecordState::kActive), std::memory_order_release);
  // Sleepers left from a previous incarnation re-check and find it gone.
  wake_open(h);
  wake_waiter(h);
  return b;
}

Result<void> remove_barrier(Segment& seg, std::string_view name) {
  BarrierTable t(seg);
  ControlLock lock(&seg.header().control_mutex);
  if (!lock.ok()) return make_error(lock.error_code(), "bus " + seg.bus_name() + ": " + lock.error());
  auto b = find_barrier(t, name);
  if (!b) return b.error();
  BarrierHeader& h = t.header(*b);
  h.incarnation.store(0, std::memory_order_release);
  h.waiter.store(0, std::memory_order_relaxed);
  h.state.store(static_cast<std::uint32_t>(BarrierRecordState::kFree), std::memory_order_release);
  wake_open(h);
  wake_waiter(h);
  return {};
}

Result<std::uint32_t> find_barrier(const BarrierTable& t, std::string_view name) {
  for (std::uint32_t b = 0; b < t.capacity(); ++b) {
    const BarrierHeader& h = t.header(b);
    if (h.state.load(std::memory_order_acquire) !=
        static_cast<std::uint32_t>(BarrierRecordState::kActive)) {
      continue;
    }
    if (name_equals(h.name, name)) return b;
  }
  return make_error(Errc::kNotFound,
                    "bus " + t.segment().bus_name() + ": no barrier '" + std::string(name) + "'");
}

std::uint32_t find_participant(const BarrierTable& t, std::uint32_t b,
                               std::string_view agent) noexcept {
  const std::uint32_t n = t.participant_count(b);
  for (std::uint32_t p = 0; p < n; ++p) {
    if (name_equals(t.participant(b, p).name, agent)) return p;
  }
  return kNoAgent;
}

bool agent_ref_alive(Segment& seg, std::uint64_t ref, std::uint32_t self) noexcept {
  if (ref == 0) return false;
  const std::uint32_t index = agent_ref_index(ref);
  if (index >= seg.config().max_agents) return false;
  const AgentRecord& rec = seg.agent(index);
  if (rec.state.load(std::memory_order_acquire) !=
      static_cast<std::uint32_t>(AgentState::kActive)) {
    return false;
  }
  if (rec.epoch != agent_ref_epoch(ref)) return false;
  // Our own record: its lock is on our own open file description, never "held by another".
  return index == self || seg.agent_alive(index);
}

void drop_dead_participants(const BarrierTable& t, std::uint32_t b, std::uint32_t self,
                            const std::function<void(std::uint32_t)>& on_drop) {
  BarrierHeader& h = t.header(b);
  const std::uint32_t n = t.participant_count(b);
  bool any = false;
  for (std::uint32_t p = 0; p < n; ++p) {
    BarrierParticipant& slot = t.participant(b, p);
    const std::uint64_t bound = slot.bound.load(std::memory_order_acquire);
    if (bound == 0 || slot.dropped.load(std::memory_order_acquire) != 0) continue;
    if (agent_ref_alive(t.segment(), bound, self)) continue;
    std::uint32_t zero = 0;
    if (!slot.dropped.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) continue;
    if (slot.bound.load(std::memory_order_seq_cst) != bound) {
      // Re-bound by a new agent of that name meanwhile: it is not dead.
      slot.dropped.store(0, std::memory_order_seq_cst);
      continue;
    }
    if (slot.open_sleeping.exchange(0, std::memory_order_seq_cst) == 1) {
      h.open_sleepers.fetch_sub(1, std::memory_order_seq_cst);  // it died asleep in wait_open
    }
    h.drops.fetch_add(1, std::memory_order_relaxed);
    any = true;
    if (on_drop) on_drop(p);
  }
  if (any) wake_waiter(h);
}

// ---- status --------------------------------------------------------------------------------

BarrierStatus read_status(const BarrierTable& t, std::uint32_t b, std::uint64_t now_ns,
                          std::uint32_t self) {
  BarrierHeader& h = t.header(b);
  Segment& seg = t.segment();
  BarrierStatus st;
  st.name = barrier_name(h);
  const std::uint64_t r = h.round.load(std::memory_order_acquire);
  const std::uint64_t g = round_gen(r);
  st.generation = g;
  st.closing = round_closing(r);
  st.participants = t.participant_count(b);
  st.timeout = std::chrono::nanoseconds(
      static_cast<std::int64_t>(std::min<std::uint64_t>(h.timeout_ns, INT64_MAX)));
  std::uint64_t first = 0;
  for (std::uint32_t p = 0; p < st.participants; ++p) {
    BarrierParticipant& slot = t.participant(b, p);
    BarrierParticipantStatus ps;
    ps.name = participant_name(slot);
    ps.arrived = slot.arrived.load(std::memory_order_acquire) == arrived_value(g);
    ps.dropped = slot.dropped.load(std::memory_order_acquire) != 0;
    ps.attached = agent_ref_alive(seg, slot.bound.load(std::memory_order_acquire), self);
    ps.accepted = slot.accepted.load(std::memory_order_relaxed);
    if (ps.arrived) {
      ++st.arrived;
      const std::uint64_t at = slot.arrive_ns[g & 1].load(std::memory_order_relaxed);
      if (first == 0 || at < first) first = at;
    } else {
      st.missing.push_back(ps.name);
    }
    if (ps.dropped) st.dropped.push_back(ps.name);
    st.detail.push_back(std::move(ps));
  }
  if (st.arrived > 0 && !st.closing) {
    const auto deadline = static_cast<std::int64_t>(first + h.timeout_ns);
    st.time_left = std::chrono::nanoseconds(deadline - static_cast<std::int64_t>(now_ns));
  }
  st.completed = h.completed.load(std::memory_order_relaxed);
  st.timed_out = h.timed_out.load(std::memory_order_relaxed);
  st.late = h.late.load(std::memory_order_relaxed);
  st.drops = h.drops.load(std::memory_order_relaxed);
  const std::uint64_t waiter = h.waiter.load(std::memory_order_acquire);
  if (waiter != 0 && agent_ref_index(waiter) < seg.config().max_agents) {
    const AgentRecord& rec = seg.agent(agent_ref_index(waiter));
    st.waiter_alive = agent_ref_alive(seg, waiter, self);
    st.waiter = st.waiter_alive ? agent_name(rec)
                                : "(agent " + std::to_string(agent_ref_index(waiter)) + ", gone)";
  }
  const std::uint64_t last = h.last_outcome.load(std::memory_order_acquire);
  st.last_generation = last >> 16;
  st.last_complete = (last & (1u << 15)) != 0;
  st.last_arrived = static_cast<std::uint32_t>(last & 0x7FFF);
  return st;
}

std::vector<BarrierStatus> read_all_status(const BarrierTable& t, std::uint64_t now_ns,
                                           std::uint32_t self) {
  std::vector<BarrierStatus> out;
  for (std::uint32_t b = 0; b < t.capacity(); ++b) {
    if (t.header(b).state.load(std::memory_order_acquire) ==
        static_cast<std::uint32_t>(BarrierRecordState::kActive)) {
      out.push_back(read_status(t, b, now_ns, self));
    }
  }
  return out;
}

}  // namespace shmbus::detail
