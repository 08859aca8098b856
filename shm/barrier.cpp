// The public barrier API: the registry and status functions, and the Barrier handle (open,
// arrive, wait_open, become_waiter); the waiter's wait is in shm/barrier_wait.cpp, the protocol
// in shm/barrier_round.cpp. Nothing here throws across the API.
#include "shmbus/barrier.hpp"

#include <sched.h>

#include <algorithm>
#include <limits>

#include "shm/barrier_registry.hpp"
#include "shm/barrier_round.hpp"
#include "shm/barrier_state.hpp"
#include "shm/bus_access.hpp"
#include "shm/clock.hpp"
#include "shm/futex.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus {

using detail::BarrierState;
using detail::BarrierTable;

std::string_view arrive_status_name(ArriveStatus s) noexcept {
  switch (s) {
    case ArriveStatus::kAccepted:
      return "accepted";
    case ArriveStatus::kLate:
      return "late";
    case ArriveStatus::kAlreadyArrived:
      return "already_arrived";
    case ArriveStatus::kNotOpen:
      return "not_open";
    case ArriveStatus::kNotParticipant:
      return "not_participant";
    case ArriveStatus::kUnknownBarrier:
      return "unknown_barrier";
    case ArriveStatus::kTooLarge:
      return "too_large";
  }
  return "unknown";
}

// ---- registry ----------------------------------------------------------------------------------

Result<void> create_barrier(Bus& bus, std::string_view name,
                            std::span<const std::string> participants,
                            std::chrono::nanoseconds timeout) {
  try {
    if (timeout.count() <= 0) {
      return make_error(Errc::kInvalidArgument,
                        "barrier '" + std::string(name) + "': timeout must be > 0");
    }
    auto b = detail::create_barrier(detail::BusAccess::impl(bus).segment(), name, participants,
                                    static_cast<std::uint64_t>(timeout.count()));
    if (!b) return b.error();
    return {};
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("create barrier: ") + e.what());
  }
}

Result<void> remove_barrier(Bus& bus, std::string_view name) {
  try {
    return detail::remove_barrier(detail::BusAccess::impl(bus).segment(), name);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("remove barrier: ") + e.what());
  }
}

namespace {

Result<BarrierStatus> status_in(detail::Segment& seg, std::string_view name, std::uint32_t self) {
  BarrierTable t(seg);
  auto b = detail::find_barrier(t, name);
  if (!b) return b.error();
  return detail::read_status(t, *b, detail::monotonic_ns(), self);
}

Result<std::vector<BarrierStatus>> list_in(detail::Segment& seg, std::uint32_t self) {
  return detail::read_all_status(BarrierTable(seg), detail::monotonic_ns(), self);
}

}  // namespace

Result<BarrierStatus> barrier_status(Bus& bus, std::string_view name) {
  try {
    return status_in(detail::BusAccess::impl(bus).segment(), name, bus.agent_index());
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("barrier status: ") + e.what());
  }
}

Result<BarrierStatus> barrier_status(std::string_view bus_name, std::string_view name) {
  try {
    auto seg = detail::Segment::open(bus_name);
    if (!seg) return seg.error();
    return status_in(**seg, name, detail::kNoAgent);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("barrier status: ") + e.what());
  }
}

Result<std::vector<BarrierStatus>> list_barriers(Bus& bus) {
  try {
    return list_in(detail::BusAccess::impl(bus).segment(), bus.agent_index());
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("list barriers: ") + e.what());
  }
}

Result<std::vector<BarrierStatus>> list_barriers(std::string_view bus_name) {
  try {
    auto seg = detail::Segment::open(bus_name);
    if (!seg) return seg.error();
    return list_in(**seg, detail::kNoAgent);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("list barriers: ") + e.what());
  }
}

// ---- handle ------------------------------------------------------------------------------------

Barrier::Barrier() = default;
Barrier::Barrier(std::unique_ptr<BarrierState> state) : s_(std::move(state)) {}
Barrier::Barrier(Barrier&&) noexcept = default;
Barrier& Barrier::operator=(Barrier&& other) noexcept {
  if (this != &other) {
    Barrier old(std::move(*this));  // releases our waiter role
    s_ = std::move(other.s_);
  }
  return *this;
}

Barrier::~Barrier() {
  if (s_ && s_->waiter) {
    std::uint64_t me = s_->self_ref;
    (void)s_->header().waiter.compare_exchange_strong(me, 0, std::memory_order_acq_rel);
  }
}

Result<Barrier> Barrier::open(Bus& bus, std::string_view name) {
  try {
    if (auto e = detail::validate_barrier_name(name); !e.empty()) {
      return make_error(Errc::kInvalidArgument, e);
    }
    detail::BusImpl& impl = detail::BusAccess::impl(bus);
    auto s = std::make_unique<BarrierState>(impl.segment());
    auto b = detail::find_barrier(s->table, name);
    if (!b) return b.error();
    s->impl = &impl;
    s->index = *b;
    s->name = std::string(name);
    s->self = impl.agent_index();
    s->self_ref = detail::make_agent_ref(s->self, impl.record().epoch);
    detail::BarrierHeader& h = s->header();
    s->ctx.header = &h;
    s->ctx.incarnation = h.incarnation.load(std::memory_order_acquire);
    s->ctx.signal_bytes = s->table.signal_bytes();
    // Re-check after reading the incarnation: the record still holds a barrier of this name.
    if (s->ctx.incarnation == 0 || detail::barrier_name(h) != name) {
      return make_error(Errc::kNotFound, "barrier '" + std::string(name) + "' was just removed");
    }
    const std::uint32_t p = detail::find_participant(s->table, *b, impl.agent_name());
    if (p != detail::kNoAgent) {
      s->participant = p;
      detail::BarrierParticipant& slot = s->table.participant(*b, p);
      s->ctx.slot = &slot;
      s->ctx.data[0] = s->table.signal_data(*b, p, 0);
      s->ctx.data[1] = s->table.signal_data(*b, p, 1);
      slot.bound.store(s->self_ref, std::memory_order_seq_cst);
      slot.dropped.store(0, std::memory_order_seq_cst);
    }
    s->target = s->current_open_round();
    return Barrier(std::move(s));
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("open barrier: ") + e.what());
  }
}

const std::string& Barrier::name() const noexcept {
  static const std::string kEmpty;
  return s_ ? s_->name : kEmpty;
}

bool Barrier::is_participant() const noexcept {
  return s_ && s_->ctx.slot != nullptr;
}

std::uint64_t Barrier::round() const noexcept {
  return s_ ? s_->target : 0;
}

ArriveStatus Barrier::arrive(std::span<const std::byte> signal) noexcept {
  if (!s_) return ArriveStatus::kUnknownBarrier;
  const ArriveStatus st = arrive(signal, s_->target);
  return st;
}

ArriveStatus Barrier::arrive(std::span<const std::byte> signal, std::uint64_t generation) noexcept {
  if (!s_) return ArriveStatus::kUnknownBarrier;
  const ArriveStatus st = detail::arrive(s_->ctx, signal, generation, detail::monotonic_ns());
  switch (st) {
    case ArriveStatus::kAccepted:
    case ArriveStatus::kAlreadyArrived:
      s_->target = std::max(s_->target, generation + 1);
      break;
    case ArriveStatus::kLate:
      s_->target = std::max(s_->target, s_->current_open_round());
      break;
    default:
      break;
  }
  return st;
}

Result<std::uint64_t> Barrier::wait_open(std::chrono::nanoseconds timeout, WaitStrategy strategy) {
  if (!s_) return make_error(Errc::kState, "empty barrier handle");
  BarrierState& s = *s_;
  detail::BarrierHeader& h = s.header();
  const std::uint64_t end = detail::add_sat(detail::monotonic_ns(), detail::to_ns(timeout));
  std::uint64_t last_beat = detail::monotonic_ns();
  const std::uint32_t spin_limit =
      strategy == WaitStrategy::kBlock ? detail::kSpinsBeforeSleep : detail::kSpinsBeforeYield;
  for (std::uint32_t spins = 0;; ++spins) {
    if (s.gone()) return s.gone_error();
    const std::uint32_t word = h.open_word.load(std::memory_order_seq_cst);
    const std::uint64_t r = h.round.load(std::memory_order_seq_cst);
    if (!detail::round_closing(r) && detail::round_gen(r) >= s.target) {
      s.target = detail::round_gen(r);
      return s.target;
    }
    const bool spinning = strategy == WaitStrategy::kBusySpin || spins < spin_limit;
    if (spinning) {
      detail::cpu_relax();
      if ((spins & 63) != 63) continue;  // the clock only every 64 spins
    }
    const std::uint64_t now = detail::monotonic_ns();
    if (now >= end) {
      return make_error(Errc::kTimeout, "barrier '" + s.name + "': round " +
                                            std::to_string(s.target) + " did not open in time");
    }
    if (now - last_beat >= detail::kPollNs) {
      last_beat = now;
      s.beat(now);
    }
    if (spinning) continue;
    if (strategy == WaitStrategy::kSpinYield) {
      sched_yield();
      continue;
    }
    // A participant marks itself in its slot too, so that if it dies asleep the one who drops
    // it takes its count back (else every advance would pay a FUTEX_WAKE for a ghost).
    detail::BarrierParticipant* slot = s.ctx.slot;
    if (slot != nullptr) slot->open_sleeping.store(1, std::memory_order_seq_cst);
    h.open_sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (h.round.load(std::memory_order_seq_cst) == r) {
      detail::futex_wait(&h.open_word, word, std::min(end - now, detail::kPollNs));
    }
    if (slot == nullptr || slot->open_sleeping.exchange(0, std::memory_order_seq_cst) == 1) {
      h.open_sleepers.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
}

Result<void> Barrier::become_waiter() {
  if (!s_) return make_error(Errc::kState, "empty barrier handle");
  try {
    BarrierState& s = *s_;
    if (s.gone()) return s.gone_error();
    detail::BarrierHeader& h = s.header();
    if (s.completed_topic == kInvalidTopic) {
      auto c = s.impl->register_topic(sys::BarrierCompleted::kTopic, sizeof(sys::BarrierCompleted),
                                      sys::BarrierCompleted::kSchemaVersion);
      if (!c) return c.error();
      auto t = s.impl->register_topic(sys::BarrierTimeout::kTopic, sizeof(sys::BarrierTimeout),
                                      sys::BarrierTimeout::kSchemaVersion);
      if (!t) return t.error();
      s.completed_topic = *c;
      s.timeout_topic = *t;
    }
    std::uint64_t cur = h.waiter.load(std::memory_order_acquire);
    for (;;) {
      if (cur == s.self_ref) break;
      if (cur != 0 && detail::agent_ref_alive(s.table.segment(), cur, s.self)) {
        const std::uint32_t i = detail::agent_ref_index(cur);
        return make_error(Errc::kBusy, "barrier '" + s.name + "' has a live waiter ('" +
                                           detail::agent_name(s.table.segment().agent(i)) +
                                           "', agent " + std::to_string(i) + ")");
      }
      // Free, or its waiter's process is gone: take over.
      if (h.waiter.compare_exchange_weak(cur, s.self_ref, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        break;
      }
    }
    s.waiter = true;
    // Only the registered waiter sleeps on the arrive word, and none is asleep now: a count left
    // by a waiter that died asleep is cleared (it would cost arrivals a FUTEX_WAKE each).
    h.sleepers.store(0, std::memory_order_seq_cst);
    // The round in progress (or being closed by a waiter that died) is ours next.
    s.want = detail::round_gen(h.round.load(std::memory_order_acquire));
    return {};
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("become waiter: ") + e.what());
  }
}

bool Barrier::is_waiter() const noexcept {
  return s_ && s_->waiter;
}

Result<BarrierRound> Barrier::wait(std::chrono::nanoseconds timeout, WaitStrategy strategy) {
  BarrierRound round;
  auto r = wait(round, timeout, strategy);
  if (!r) return r.error();
  return round;
}

Result<void> Barrier::wait(BarrierRound& out, std::chrono::nanoseconds timeout,
                           WaitStrategy strategy) {
  if (!s_) return make_error(Errc::kState, "empty barrier handle");
  try {
    return s_->wait_round(out, detail::to_ns(timeout), strategy);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("barrier wait: ") + e.what());
  }
}

Result<BarrierStatus> Barrier::status() const {
  if (!s_) return make_error(Errc::kState, "empty barrier handle");
  try {
    if (s_->gone()) return s_->gone_error();
    return detail::read_status(s_->table, s_->index, detail::monotonic_ns(), s_->self);
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("barrier status: ") + e.what());
  }
}

}  // namespace shmbus
