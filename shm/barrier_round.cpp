// The barrier round protocol
// ==========================
// Words (shm/barrier_layout.hpp): per barrier the round word R = gen << 1 | closing; per
// participant i the arrival word A_i = gen << 2 | seal bits, two signal buffers (by generation
// parity) with a tag each, and two outcome words (by parity).
//
// Arrive(i, g)  [the participant's thread]
//   1. Load R (acquire). gen(R) < g: kNotOpen. gen(R) > g, or R closing: kLate.
//   2. Load A_i. gen(A_i) >= g: kAlreadyArrived (A_i == g << 2) or kLate (sealed).
//   3. Write buffer g&1: tag = g<<1|W, then bytes, length, time (release stores), tag = g<<1.
//   4. CAS A_i from a value with gen < g to g << 2. Success: kAccepted. If the CAS finds
//      gen(A_i) >= g instead, a closer sealed the slot first: kLate.
// Seal(g)  [any closer: the waiter, the supervisor, a helper; idempotent]
//   1. CAS R (g, open) -> (g, closing). Finding (g, closing) means helping, not failing.
//   2. For every i: while gen(A_i) < g, CAS A_i -> g<<2 | missed [| dropped]. Then record the
//      final A_i in outcome_i[g&1] (raised monotonically, so a stale closer cannot lower it).
// Advance(g)  CAS R (g, closing) -> (g+1, open). Exactly one caller wins; it counts the round
//   and reports it (the waiter publishes the sys.barrier.* event, the supervisor's sink too).
//
// Why "late" is exact. For round g, A_i leaves "gen < g" only by the participant's CAS to
// g << 2 or by a closer's CAS to g << 2 | missed: two CAS on one word from a value with gen < g,
// so exactly one of them happens, and afterwards gen(A_i) == g until round g+1 is open (nothing
// else targets g, and arrivals for g+1 wait until R shows g+1 open, which is after every slot
// was sealed). Hence the participant returns kAccepted iff every closer of round g reads
// A_i == g << 2 and includes the signal, and kLate iff every closer reads "missed". An arrival
// racing the close either wins its CAS before the seal (it is in the round: the closer's CAS
// fails and re-reads g << 2) or loses it (late). Step 1 of arrive is only a fast path; the
// per-slot CAS decides. All closers of g compute the same round because they read the same
// final words; the dropped bit is decided by whichever seal CAS won.
//
// Why a signal never leaks into another round. A reader of round g copies only slots whose
// sealed word is g << 2, from buffer g&1. The participant wrote that buffer before its CAS
// (release); closers read A_i with acquire and publish the outcome words before advancing R, so
// the copy sees the whole signal. The participant writes buffer g&1 again only for round g+2
// (after R showed g+2 open) or for a round it is late for; either way it first sets the tag to
// W (ordered before the bytes: they are release stores) and the reader checks the tag before
// and after its copy (acquire loads), as a seqlock, so a reader that far behind reports the
// round lost instead of mixing bytes.
// The tag names the generation, so another round's bytes are never returned as round g's.
//
// Why a closer's death loses nothing. Every step is a CAS or a monotonic raise; whoever finds
// R = (g, closing) (the waiter, the supervisor, a new waiter) repeats Seal(g) and Advance(g).
//
// Wake-ups, with no system call unless someone sleeps. The waiter loads the arrive word, scans,
// stores its wake target (the arrival count at which the round may be all in, or the first
// arrival, which starts the deadline clock), increments `sleepers`, re-checks `arrivals` and R,
// then FUTEX_WAITs on the word. An arrival increments `arrivals`, then reads `sleepers` and the
// target (all seq_cst): either the re-check sees the arrival, or the arrival sees the sleeper
// and bumps the word and wakes it. Sealing, advancing and dropping bump the word after their
// change. Participants waiting for the next round use open_word / open_sleepers the same way.
#include "shm/barrier_round.hpp"

#include <atomic>
#include <cstring>

#include "shm/futex.hpp"

namespace shmbus::detail {

namespace {

std::atomic_ref<std::uint64_t> word_at(std::byte* p) noexcept {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(p));
}

// Copies `n` bytes into a signal buffer as 8-byte atomic stores: the buffer is a seqlock area a
// slow reader may be copying concurrently. Release per word (a plain store on x86) orders the
// tag's "writing" mark before every byte, without a fence (which TSan does not model).
void store_signal(std::byte* dst, const std::byte* src, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, src + i, 8);
    word_at(dst + i).store(v, std::memory_order_release);
  }
  if (i < n) {
    std::uint64_t v = 0;
    std::memcpy(&v, src + i, n - i);
    word_at(dst + i).store(v, std::memory_order_release);
  }
}

// The reader's side: acquire per word (a plain load on x86), so the tag re-check after the copy
// cannot be satisfied by a value older than any byte the copy saw.
void load_signal(std::byte* dst, std::byte* src, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t v = word_at(src + i).load(std::memory_order_acquire);
    std::memcpy(dst + i, &v, 8);
  }
  if (i < n) {
    const std::uint64_t v = word_at(src + i).load(std::memory_order_acquire);
    std::memcpy(dst + i, &v, n - i);
  }
}

// Raises `word` to `value` unless it already holds a value at least as large.
void raise_to(std::atomic<std::uint64_t>& word, std::uint64_t value) noexcept {
  std::uint64_t cur = word.load(std::memory_order_acquire);
  while (cur < value && !word.compare_exchange_weak(cur, value, std::memory_order_acq_rel,
                                                    std::memory_order_acquire)) {
  }
}

}  // namespace

// ---- arrive --------------------------------------------------------------------------------

ArriveStatus arrive(const ArriveContext& ctx, std::span<const std::byte> signal, std::uint64_t g,
                    std::uint64_t now_ns) noexcept {
  if (ctx.header == nullptr) return ArriveStatus::kUnknownBarrier;
  if (ctx.slot == nullptr) return ArriveStatus::kNotParticipant;
  if (signal.size() > ctx.signal_bytes) return ArriveStatus::kTooLarge;
  BarrierHeader& h = *ctx.header;
  if (h.incarnation.load(std::memory_order_acquire) != ctx.incarnation) {
    return ArriveStatus::kUnknownBarrier;
  }
  // 1. Fast path on the round word.
  const std::uint64_t r = h.round.load(std::memory_order_acquire);
  if (round_gen(r) < g) return ArriveStatus::kNotOpen;
  BarrierParticipant& slot = *ctx.slot;
  if (round_gen(r) > g || round_closing(r)) {
    h.late.fetch_add(1, std::memory_order_relaxed);
    return ArriveStatus::kLate;
  }
  // 2. Already decided for this round?
  std::uint64_t a = slot.arrived.load(std::memory_order_acquire);
  if (slot_gen(a) >= g) {
    if (a == arrived_value(g)) return ArriveStatus::kAlreadyArrived;
    h.late.fetch_add(1, std::memory_order_relaxed);
    return ArriveStatus::kLate;
  }
  // 3. The signal into buffer g&1, seqlock-style for readers of round g-2.
  const std::uint64_t parity = g & 1;
  slot.tag[parity].store(g << 1 | kTagWriting, std::memory_order_relaxed);
  store_signal(ctx.data[parity], signal.data(), signal.size());
  slot.length[parity].store(static_cast<std::uint32_t>(signal.size()), std::memory_order_release);
  slot.arrive_ns[parity].store(now_ns, std::memory_order_release);
  slot.tag[parity].store(g << 1, std::memory_order_release);
  // 4. The decision: this CAS or a closer's seal, whichever comes first.
  while (!slot.arrived.compare_exchange_weak(a, arrived_value(g), std::memory_order_seq_cst,
                                             std::memory_order_acquire)) {
    if (slot_gen(a) >= g) {
      if (a == arrived_value(g)) return ArriveStatus::kAlreadyArrived;
      h.late.fetch_add(1, std::memory_order_relaxed);
      return ArriveStatus::kLate;
    }
  }
  // A participant that arrives is alive: undo a drop (it re-attached under the same name).
  if (slot.dropped.load(std::memory_order_relaxed) != 0) {
    slot.dropped.store(0, std::memory_order_relaxed);
  }
  slot.accepted.store(slot.accepted.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const std::uint64_t count = h.arrivals.fetch_add(1, std::memory_order_seq_cst) + 1;
  if (h.sleepers.load(std::memory_order_seq_cst) != 0 &&
      count >= h.wake_target.load(std::memory_order_seq_cst)) {
    h.arrive_word.fetch_add(1, std::memory_order_seq_cst);
    futex_wake_all(&h.arrive_word);
  }
  return ArriveStatus::kAccepted;
}

// ---- rounds --------------------------------------------------------------------------------

void wake_waiter(BarrierHeader& h) noexcept {
  h.arrive_word.fetch_add(1, std::memory_order_seq_cst);
  if (h.sleepers.load(std::memory_order_seq_cst) != 0) futex_wake_all(&h.arrive_word);
}

void wake_open(BarrierHeader& h) noexcept {
  h.open_word.fetch_add(1, std::memory_order_seq_cst);
  if (h.open_sleepers.load(std::memory_order_seq_cst) != 0) futex_wake_all(&h.open_word);
}

RoundScan scan_round(const BarrierTable& t, std::uint32_t b) noexcept {
  BarrierHeader& h = t.header(b);
  RoundScan s;
  // `arrivals` before the slots: the wake target computed from this scan is then never above
  // the count the last arrival of the round will see (see the wake-up argument above).
  s.arrivals = h.arrivals.load(std::memory_order_seq_cst);
  s.round = h.round.load(std::memory_order_seq_cst);
  const std::uint64_t g = round_gen(s.round);
  s.participants = t.participant_count(b);
  for (std::uint32_t p = 0; p < s.participants; ++p) {
    BarrierParticipant& slot = t.participant(b, p);
    if (slot.arrived.load(std::memory_order_acquire) == arrived_value(g)) {
      ++s.arrived;
      const std::uint64_t at = slot.arrive_ns[g & 1].load(std::memory_order_relaxed);
      if (s.first_arrive_ns == 0 || at < s.first_arrive_ns) s.first_arrive_ns = at;
    } else if (slot.dropped.load(std::memory_order_acquire) != 0) {
      ++s.dropped_missing;
    }
  }
  if (s.arrived > 0 && s.first_arrive_ns == 0) s.first_arrive_ns = 1;
  return s;
}

std::uint64_t SealedRound::arrived_mask() const noexcept {
  std::uint64_t m = 0;
  for (std::uint32_t p = 0; p < participants && p < 64; ++p) {
    if (seal[p] == 0) m |= 1ull << p;
  }
  return m;
}

std::uint64_t SealedRound::missing_mask() const noexcept {
  std::uint64_t m = 0;
  for (std::uint32_t p = 0; p < participants && p < 64; ++p) {
    if (seal[p] != 0) m |= 1ull << p;
  }
  return m;
}

namespace {
void note_slot(SealedRound& out, std::uint32_t p, std::uint64_t word, std::uint64_t arrive_ns) {
  const auto bits = static_cast<std::uint8_t>(word & (kSealMissed | kSealDropped));
  out.seal[p] = bits;
  if (bits == 0) {
    ++out.arrived;
    if (out.first_arrive_ns == 0 || arrive_ns < out.first_arrive_ns)
      out.first_arrive_ns = arrive_ns;
    if (arrive_ns > out.last_arrive_ns) out.last_arrive_ns = arrive_ns;
  } else if ((bits & kSealDropped) == 0) {
    out.complete = false;
  }
}

void reset(SealedRound& out, std::uint64_t g, std::uint32_t n) {
  out.generation = g;
  out.participants = n;
  out.arrived = 0;
  out.complete = true;
  out.first_arrive_ns = 0;
  out.last_arrive_ns = 0;
}
}  // namespace

SealResult seal_round(const BarrierTable& t, std::uint32_t b, std::uint64_t g,
                      SealedRound& out) noexcept {
  // A generation the arrival words cannot hold (g << 2 overflows) comes only from corrupt
  // segment bytes; sealing it would CAS forever, since no seal ever reaches round g.
  if (slot_gen(arrived_value(g)) != g) return SealResult::kStale;
  BarrierHeader& h = t.header(b);
  std::uint64_t r = h.round.load(std::memory_order_acquire);
  for (;;) {
    if (round_gen(r) > g) return SealResult::kStale;
    if (round_gen(r) < g) return SealResult::kNotOpen;
    if (round_closing(r)) break;
    if (h.round.compare_exchange_weak(r, make_round(g, true), std::memory_order_seq_cst,
                                      std::memory_order_acquire)) {
      break;
    }
  }
  const std::uint32_t n = t.participant_count(b);
  reset(out, g, n);
  const std::uint64_t parity = g & 1;
  for (std::uint32_t p = 0; p < n; ++p) {
    BarrierParticipant& slot = t.participant(b, p);
    std::uint64_t a = slot.arrived.load(std::memory_order_acquire);
    while (slot_gen(a) < g) {
      const std::uint64_t seal =
          arrived_value(g) | kSealMissed |
          (slot.dropped.load(std::memory_order_acquire) != 0 ? kSealDropped : 0);
      if (slot.arrived.compare_exchange_weak(a, seal, std::memory_order_seq_cst,
                                             std::memory_order_acquire)) {
        a = seal;
      }
    }
    if (slot_gen(a) > g) return SealResult::kStale;  // round g+1 already runs: we are late
    raise_to(slot.outcome[parity], a);
    if (slot_gen(slot.outcome[parity].load(std::memory_order_acquire)) != g) {
      return SealResult::kStale;
    }
    note_slot(out, p, a, slot.arrive_ns[parity].load(std::memory_order_relaxed));
  }
  return SealResult::kSealed;
}

bool advance_round(const BarrierTable& t, std::uint32_t b, const SealedRound& sealed,
                   std::uint64_t now_ns) noexcept {
  BarrierHeader& h = t.header(b);
  const std::uint64_t g = sealed.generation;
  std::uint64_t expected = make_round(g, true);
  if (!h.round.compare_exchange_strong(expected, make_round(g + 1, false),
                                       std::memory_order_seq_cst, std::memory_order_relaxed)) {
    return false;
  }
  h.opened_ns.store(now_ns, std::memory_order_relaxed);
  (sealed.complete ? h.completed : h.timed_out).fetch_add(1, std::memory_order_relaxed);
  raise_to(h.last_outcome, make_last_outcome(g, sealed.complete, sealed.arrived));
  wake_open(h);
  wake_waiter(h);
  return true;
}

bool read_sealed(const BarrierTable& t, std::uint32_t b, std::uint64_t g,
                 SealedRound& out) noexcept {
  const std::uint32_t n = t.participant_count(b);
  reset(out, g, n);
  const std::uint64_t parity = g & 1;
  for (std::uint32_t p = 0; p < n; ++p) {
    BarrierParticipant& slot = t.participant(b, p);
    const std::uint64_t o = slot.outcome[parity].load(std::memory_order_acquire);
    if (slot_gen(o) != g) return false;
    note_slot(out, p, o, slot.arrive_ns[parity].load(std::memory_order_relaxed));
  }
  return true;
}

bool copy_round(const BarrierTable& t, std::uint32_t b, const SealedRound& sealed,
                BarrierRound& out) {
  const std::uint64_t g = sealed.generation;
  const std::uint64_t parity = g & 1;
  const BarrierHeader& h = t.header(b);
  out.barrier.assign(symbol_view(h.name));
  out.generation = g;
  out.complete = sealed.complete;
  out.participants = sealed.participants;
  out.first_arrive_mono_ns = sealed.first_arrive_ns;
  out.last_arrive_mono_ns = sealed.last_arrive_ns;
  std::size_t k = 0;
  std::size_t missing = 0;
  std::size_t dropped = 0;
  for (std::uint32_t p = 0; p < sealed.participants; ++p) {
    BarrierParticipant& slot = t.participant(b, p);
    const std::string_view name = symbol_view(slot.name);
    if (sealed.seal[p] != 0) {
      if (missing == out.missing.size()) out.missing.emplace_back();
      out.missing[missing++].assign(name);
      if ((sealed.seal[p] & kSealDropped) != 0) {
        if (dropped == out.dropped.size()) out.dropped.emplace_back();
        out.dropped[dropped++].assign(name);
      }
      continue;
    }
    if (k == out.signals.size()) out.signals.emplace_back();
    BarrierSignal& s = out.signals[k++];
    const std::uint64_t tag = slot.tag[parity].load(std::memory_order_acquire);
    if (tag != g << 1) return false;
    const std::uint32_t len = slot.length[parity].load(std::memory_order_acquire);
    if (len > t.signal_bytes()) return false;  // corrupt or being rewritten
    s.participant.assign(name);
    s.index = p;
    s.bytes.resize(len);
    load_signal(s.bytes.data(), t.signal_data(b, p, parity), len);
    s.arrive_mono_ns = slot.arrive_ns[parity].load(std::memory_order_acquire);
    if (slot.tag[parity].load(std::memory_order_relaxed) != tag) return false;
  }
  out.signals.resize(k);
  out.missing.resize(missing);
  out.dropped.resize(dropped);
  return true;
}

// ---- closed rounds (the waiter's and the supervisor's reports) -----------------------------

BarrierEnforcement closed_round_record(const BarrierTable& t, std::uint32_t b,
                                       const SealedRound& sealed, std::uint64_t closed_ns) {
  BarrierEnforcement e;
  e.kind = BarrierEnforcement::Kind::kRoundClosed;
  e.barrier_index = b;
  e.barrier = std::string(symbol_view(t.header(b).name));
  e.generation = sealed.generation;
  e.complete = sealed.complete;
  e.arrived = sealed.arrived;
  e.participants = sealed.participants;
  e.arrived_mask = sealed.arrived_mask();
  e.missing_mask = sealed.missing_mask();
  e.first_arrive_ns = sealed.first_arrive_ns;
  e.closed_ns = closed_ns;
  e.timeout_ns = t.header(b).timeout_ns;
  return e;
}

sys::BarrierCompleted to_completed_event(const BarrierEnforcement& e) noexcept {
  sys::BarrierCompleted ev{};
  ev.generation = e.generation;
  ev.arrived_mask = e.arrived_mask;
  ev.elapsed_ns = e.first_arrive_ns != 0 && e.closed_ns > e.first_arrive_ns
                      ? e.closed_ns - e.first_arrive_ns
                      : 0;
  ev.complete_mono_ns = e.closed_ns;
  set_symbol(ev.barrier, e.barrier);
  ev.arrived = e.arrived;
  ev.participants = e.participants;
  return ev;
}

sys::BarrierTimeout to_timeout_event(const BarrierEnforcement& e) noexcept {
  sys::BarrierTimeout ev{};
  ev.generation = e.generation;
  ev.arrived_mask = e.arrived_mask;
  ev.missing_mask = e.missing_mask;
  ev.timeout_ns = e.timeout_ns;
  ev.deadline_mono_ns = e.first_arrive_ns != 0 ? e.first_arrive_ns + e.timeout_ns : 0;
  set_symbol(ev.barrier, e.barrier);
  ev.arrived = e.arrived;
  ev.participants = e.participants;
  return ev;
}

}  // namespace shmbus::detail
