// The public barrier API: the Barrier handle (participant and waiter sides, with their waits)
// and the registry/status functions, over the protocol in shm/barrier_table.cpp. Nothing here
// throws across the API.
#include "shmbus/barrier.hpp"

#include <sched.h>

#include <algorithm>
#include <limits>

#include "shm/barrier_table.hpp"
#include "shm/bus_impl.hpp"
#include "shm/clock.hpp"
#include "shm/futex.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus {

namespace detail {

namespace {
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
// Longest single sleep: the waiter re-checks participants' liveness and heartbeats this often.
constexpr std::uint64_t kPollNs = 20'000'000;
constexpr std::uint32_t kSpinsBeforeSleep = 128;
constexpr std::uint32_t kSpinsBeforeYield = 64;

std::uint64_t add_sat(std::uint64_t a, std::uint64_t b) noexcept {
  return b > kNever - a ? kNever : a + b;
}

std::uint64_t to_ns(std::chrono::nanoseconds d) noexcept {
  return d.count() <= 0 ? 0 : static_cast<std::uint64_t>(d.count());
}
}  // namespace

/// Everything behind a Barrier handle.
struct BarrierState {
  BusImpl* impl = nullptr;  // stays put when the Bus handle itself is moved
  BarrierTable table;
  std::uint32_t index = 0;
  std::string name;
  std::uint32_t self = kNoAgent;  // our agent index
  std::uint64_t self_ref = 0;     // our agent ref (index + epoch)
  std::uint32_t participant = kNoAgent;
  ArriveContext ctx;
  std::uint64_t target = 0;  // round() of the participant side

  bool waiter = false;
  std::uint64_t want = 0;  // the next round the waiter returns
  std::uint64_t lost = 0;  // rounds that could not be read, reported with the next one
  TopicId completed_topic = kInvalidTopic;
  TopicId timeout_topic = kInvalidTopic;
  SealedRound sealed;
  std::uint64_t last_poll_ns = 0;

  explicit BarrierState(Segment& seg) : table(seg) {}

  BarrierHeader& header() const noexcept { return table.header(index); }
  bool gone() const noexcept {
    return header().incarnation.load(std::memory_order_acquire) != ctx.incarnation;
  }
  Error gone_error() const {
    return make_error(Errc::kNotFound, "barrier '" + name + "' was removed");
  }

  // The open round a participant should target now.
  std::uint64_t current_open_round() const noexcept {
    const std::uint64_t r = header().round.load(std::memory_order_acquire);
    return round_gen(r) + (round_closing(r) ? 1 : 0);
  }

  // On the CRITICAL ring with kFlagSystem, like the supervisor's sys.* events. With the agent's
  // FullPolicy::kWait a full ring delays the waiter up to its publish_timeout; the result is
  // ignored (an event lost to a full ring does not fail the round).
  void publish(const SealedRound& s, std::uint64_t now_ns) noexcept {
    const BarrierEnforcement e = closed_round_record(table, index, s, now_ns);
    if (s.complete) {
      const sys::BarrierCompleted ev = to_completed_event(e);
      (void)impl->publish(completed_topic, &ev, sizeof(ev), Priority::kCritical, kFlagSystem);
    } else {
      const sys::BarrierTimeout ev = to_timeout_event(e);
      (void)impl->publish(timeout_topic, &ev, sizeof(ev), Priority::kCritical, kFlagSystem);
    }
  }

  // Seals round g (or helps seal it), copies it into `out`, and advances it. False when the
  // round is already past (the caller then reads it as a closed round).
  bool close_and_take(std::uint64_t g, BarrierRound& out) {
    if (seal_round(table, index, g, sealed) != SealResult::kSealed) return false;
    // Copied before the advance: until then no participant may write either buffer parity.
    const bool copied = copy_round(table, index, sealed, out);
    const std::uint64_t now = monotonic_ns();
    const bool won = advance_round(table, index, sealed, now);
    if (won) publish(sealed, now);
    if (!copied) return false;  // only for corrupt lengths: reported as a lost round
    out.closed_mono_ns = now;
    out.closed_here = won;
    out.skipped = lost;
    lost = 0;
    want = g + 1;
    return true;
  }

  // Reads round g after it advanced without us.
  bool take_closed(std::uint64_t g, BarrierRound& out) {
    if (!read_sealed(table, index, g, sealed) || !copy_round(table, index, sealed, out)) {
      return false;
    }
    out.closed_mono_ns = monotonic_ns();
    out.closed_here = false;
    return true;
  }

  // Drops participants whose process died (the supervisor does the same for every barrier);
  // done by the waiter too so a bus without a supervisor still stops waiting for the dead.
  void poll_liveness(std::uint64_t now) {
    if (now - last_poll_ns < kPollNs) return;
    last_poll_ns = now;
    drop_dead_participants(table, index, self, {});
    beat(now);
  }

  // The agent's heartbeat while it waits here. Only the atomic in the record: another thread may
  // be dispatching on the same Bus (BusImpl::heartbeat is for the dispatching thread).
  void beat(std::uint64_t now) noexcept {
    impl->record().heartbeat_ns.store(now, std::memory_order_relaxed);
  }

  Result<void> wait_round(BarrierRound& out, std::uint64_t timeout_ns, WaitStrategy strategy);
  void sleep_for_arrivals(const RoundScan& scan, std::uint32_t word, std::uint64_t wake_at,
                          WaitStrategy strategy, std::uint32_t& spins) noexcept;
};

void BarrierState::sleep_for_arrivals(const RoundScan& scan, std::uint32_t word,
                                      std::uint64_t wake_at, WaitStrategy strategy,
                                      std::uint32_t& spins) noexcept {
  BarrierHeader& h = header();
  const std::uint32_t live = scan.participants - std::min(scan.participants, scan.dropped_missing);
  const std::uint64_t needed =
      scan.arrived == 0 ? 1 : std::max<std::uint64_t>(1, live - std::min(live, scan.arrived));
  const std::uint64_t wake_count = scan.arrivals + needed;
  auto changed = [&]() noexcept {
    return h.arrivals.load(std::memory_order_seq_cst) >= wake_count ||
           h.round.load(std::memory_order_seq_cst) != scan.round ||
           h.arrive_word.load(std::memory_order_seq_cst) != word;
  };
  if (strategy == WaitStrategy::kBusySpin ||
      (strategy == WaitStrategy::kSpinYield && spins < kSpinsBeforeYield) ||
      (strategy == WaitStrategy::kBlock && spins < kSpinsBeforeSleep)) {
    // Spin on the three words (all on two cache lines) until something moves; read the clock
    // only every 64 rounds.
    for (std::uint32_t i = 0; !changed(); ++i) {
      cpu_relax();
      if ((i & 63) == 63 && monotonic_ns() >= wake_at) break;
      if (strategy != WaitStrategy::kBusySpin && ++spins >= kSpinsBeforeSleep) break;
    }
    return;
  }
  if (strategy == WaitStrategy::kSpinYield) {
    if (!changed()) sched_yield();
    return;
  }
  const std::uint64_t now = monotonic_ns();
  if (now >= wake_at) return;
  h.wake_target.store(wake_count, std::memory_order_seq_cst);
  h.sleepers.fetch_add(1, std::memory_order_seq_cst);
  if (h.arrivals.load(std::memory_order_seq_cst) < wake_count &&
      h.round.load(std::memory_order_seq_cst) == scan.round) {
    futex_wait(&h.arrive_word, word, std::min(wake_at - now, kPollNs));
  }
  h.sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

Result<void> BarrierState::wait_round(BarrierRound& out, std::uint64_t timeout_ns,
                                      WaitStrategy strategy) {
  if (!waiter) {
    return make_error(Errc::kState, "barrier '" + name + "': not the waiter (become_waiter())");
  }
  BarrierHeader& h = header();
  const std::uint64_t start = monotonic_ns();
  const std::uint64_t end = add_sat(start, timeout_ns);
  const std::uint64_t timeout_round = h.timeout_ns;
  std::uint32_t spins = 0;
  for (;;) {
    if (gone()) return gone_error();
    if (h.waiter.load(std::memory_order_acquire) != self_ref) {
      waiter = false;
      return make_error(Errc::kState, "barrier '" + name + "': another waiter took over");
    }
    // The word first: a change made after this load makes the futex wait return at once.
    const std::uint32_t word = h.arrive_word.load(std::memory_order_seq_cst);
    const std::uint64_t r = h.round.load(std::memory_order_acquire);
    const std::uint64_t g = round_gen(r);
    if (g > want) {
      // Rounds from `want` on closed without us (deadline, by the supervisor). The oldest that
      // is still readable comes first: `want`, or else the last closed one.
      if (take_closed(want, out)) {
        out.skipped = lost;
        lost = 0;
        ++want;
        return {};
      }
      if (g - 1 > want && take_closed(g - 1, out)) {
        out.skipped = g - 1 - want + lost;
        lost = 0;
        want = g;
        return {};
      }
      if (h.round.load(std::memory_order_acquire) == r) {
        // Unreadable although nothing moved: corrupt segment bytes. Count the rounds as lost
        // rather than spin on them.
        lost += g - want;
        want = g;
      }
      continue;  // moved on again while we read; retry
    }
    if (g < want) {  // a round before ours is closing: help it finish
      if (round_closing(r) && seal_round(table, index, g, sealed) == SealResult::kSealed &&
          advance_round(table, index, sealed, monotonic_ns())) {
        publish(sealed, monotonic_ns());
      }
      if (!round_closing(r)) want = g;  // cannot happen (want <= open round); self-repair
      continue;
    }
    // g == want
    if (round_closing(r)) {
      if (close_and_take(g, out)) return {};
      continue;
    }
    const RoundScan scan = scan_round(table, index);
    if (scan.round != r) continue;
    std::uint64_t now = monotonic_ns();
    const std::uint64_t deadline =
        scan.arrived > 0 ? add_sat(scan.first_arrive_ns, timeout_round) : kNever;
    if (scan.all_in()) {
      if (close_and_take(g, out)) return {};
      continue;
    }
    if (now >= deadline) {
      // Mark the dead as dropped first, so the round reports them as such.
      last_poll_ns = 0;
      poll_liveness(now);
      if (close_and_take(g, out)) return {};
      continue;
    }
    const std::uint64_t drops = h.drops.load(std::memory_order_relaxed);
    poll_liveness(now);                                              // at most every kPollNs
    if (h.drops.load(std::memory_order_relaxed) != drops) continue;  // may be all in now
    if (now >= end) {
      return make_error(Errc::kTimeout, "barrier '" + name + "': round " + std::to_string(g) +
                                            " did not close within " +
                                            std::to_string(timeout_ns / 1'000'000) + " ms (" +
                                            std::to_string(scan.arrived) + " of " +
                                            std::to_string(scan.participants) + " arrived)");
    }
    sleep_for_arrivals(scan, word, std::min({deadline, end, add_sat(now, kPollNs)}), strategy,
                       spins);
  }
}

}  // namespace detail

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
    auto b = detail::create_barrier(bus.impl().segment(), name, participants,
                                    static_cast<std::uint64_t>(timeout.count()));
    if (!b) return b.error();
    return {};
  } catch (const std::exception& e) {
    return make_error(Errc::kSystem, std::string("create barrier: ") + e.what());
  }
}

Result<void> remove_barrier(Bus& bus, std::string_view name) {
  try {
    return detail::remove_barrier(bus.impl().segment(), name);
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
    return status_in(bus.impl().segment(), name, bus.agent_index());
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
    return list_in(bus.impl().segment(), bus.agent_index());
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
    detail::BusImpl& impl = bus.impl();
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
