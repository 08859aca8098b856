// Publisher: the topic size cache, admission (backpressure, rate limits), claiming a slot
// (waiting on a full ring by the agent's policy), and the one publish path that publish,
// claim/commit and system events share: check, admit, claim, fill, commit, wake.
#include "shm/publisher.hpp"

#include <sched.h>
#include <time.h>

#include <cstring>

#include "shm/agent_table.hpp"
#include "shm/clock.hpp"
#include "shm/fast_clock.hpp"
#include "shm/futex.hpp"
#include "shm/publish_steps.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

namespace {

std::atomic<PublishStepHook> g_publish_step_hook{nullptr};
// Backpressure levels older than this (no supervisor heartbeat) are ignored.
constexpr std::uint64_t kSupervisorStaleNs = 2'000'000'000;
}  // namespace

void Publisher::init(Segment& segment, std::uint32_t self, const AgentOptions& options,
                     SharedTopics& topics, std::atomic<std::uint64_t>& last_recover_ns) {
  seg_ = &segment;
  rec_ = &segment.agent(self);
  self_ = self;
  const BusConfig config = segment.bus_config();
  max_topics_ = config.max_topics;
  max_payload_bytes_ = config.max_payload_bytes;
  full_policy_ = options.full_policy;
  publish_timeout_ns_ = static_cast<std::uint64_t>(options.publish_timeout.count());
  topics_ = &topics;
  topic_sizes_ = std::make_unique<std::atomic<std::uint64_t>[]>(max_topics_);
  for (std::uint32_t i = 0; i < max_topics_; ++i) topic_sizes_[i].store(0);
  for (std::uint32_t r = 0; r < kRingCount; ++r) writers_[r].init(&segment, r, self);
  last_recover_ns_ = &last_recover_ns;
}

std::uint64_t Publisher::topic_info(TopicId topic) noexcept {
  if (topic >= max_topics_) return 0;
  std::uint64_t v = topic_sizes_[topic].load(std::memory_order_relaxed);
  if (v != 0) return v;
  // First publish on a topic this process has not seen: look it up (cold, once per topic).
  try {
    topics_->locked([&](TopicRegistry& registry) {
      if (const CachedTopic* t = registry.get(topic)) {
        v = (std::uint64_t{t->schema_version} << 32) | (std::uint64_t{t->payload_size} + 1);
        topic_sizes_[topic].store(v, std::memory_order_relaxed);
      }
    });
  } catch (...) {
    return 0;
  }
  return v;
}

bool Publisher::still_shedding(std::uint32_t ring, std::uint64_t now_ns) noexcept {
  const std::uint32_t at = seg_->header().shed_fill_slots[ring].load(std::memory_order_relaxed);
  if (at == 0) return true;  // a supervisor before layout minor 4: the level alone decides
  if (now_ns < shed_confirmed_until_ns_[ring].load(std::memory_order_relaxed)) return true;
  RingWriter& w = writers_[ring];
  // Drained since the supervisor's sample (its level holds for a dwell): publish. The cheap
  // upper bound settles most cases; only a ring that may still be that full is scanned.
  if (w.fill_at_most() < at || w.fill_now() < at) return false;
  shed_confirmed_until_ns_[ring].store(now_ns + kShedConfirmNs, std::memory_order_relaxed);
  return true;
}

PublishStatus Publisher::admit(std::uint32_t ring, Priority priority, std::uint64_t now_ns,
                               Charged& charged) noexcept {
  RingCounters& c = rec_->counters[ring];
  using sys::BackpressureLevel;
  const std::uint32_t word = seg_->header().backpressure[ring].load(std::memory_order_relaxed);
  // Segment bytes are input: a word past kCritical acts as kCritical (sheds), as it always has.
  auto level = word > static_cast<std::uint32_t>(BackpressureLevel::kCritical)
                   ? BackpressureLevel::kCritical
                   : static_cast<BackpressureLevel>(word);
  // Levels are the supervisor's word; one that died (stale heartbeat) no longer sheds or
  // throttles anybody. Read only off the NORMAL path, so the common case costs nothing more.
  if (level != BackpressureLevel::kNormal &&
      now_ns > seg_->header().supervisor_heartbeat_ns.load(std::memory_order_relaxed) +
                   kSupervisorStaleNs) {
    level = BackpressureLevel::kNormal;
  }
  if (level >= BackpressureLevel::kCritical &&
      (priority == Priority::kNormal || priority == Priority::kLow) &&
      still_shedding(ring, now_ns)) {
    c.shed.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kShed;
  }
  if (level >= BackpressureLevel::kHigh && priority == Priority::kLow) {
    const std::uint64_t rate =
        seg_->header().low_rate_at_high_per_s.load(std::memory_order_relaxed);
    if (!low_limiter_.allow(rate, now_ns)) {
      c.rate_limited.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kRateLimited;
    }
    charged.low_rate_per_s = rate;
  }
  const std::uint64_t rate = rec_->rate_limit_per_s.load(std::memory_order_relaxed);
  if (!agent_limiter_.allow(rate, now_ns)) {
    c.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kRateLimited;
  }
  charged.agent_rate_per_s = rate;
  return PublishStatus::kOk;
}

PublishStatus Publisher::claim_slot(std::uint32_t ring, SlotClaim& claim, std::uint64_t now_ns,
                                    bool may_wait) noexcept {
  RingCounters& c = rec_->counters[ring];
  const bool wait = full_policy_ == FullPolicy::kWait;
  const std::uint64_t deadline = now_ns + publish_timeout_ns_;
  for (std::uint32_t attempt = 0;; ++attempt) {
    switch (writers_[ring].try_claim(claim)) {
      case ClaimOutcome::kClaimed:
        return PublishStatus::kOk;
      case ClaimOutcome::kAborted:
        c.aborted.fetch_add(1, std::memory_order_relaxed);
        return PublishStatus::kAborted;
      case ClaimOutcome::kFull:
        break;
    }
    // Full: the slowest tethered subscriber is a ring behind. Not the steady state. A dead
    // subscriber holding the gate is cleaned up here too, supervisor or not (rate-limited).
    if (attempt == 0 || attempt >= 256) {
      const std::uint64_t now = monotonic_ns();
      std::uint64_t last = last_recover_ns_->load(std::memory_order_relaxed);
      if (now - last > kRecoverCheckNs &&
          last_recover_ns_->compare_exchange_strong(last, now, std::memory_order_relaxed)) {
        if (!sweep_dead_agents(*seg_, self_).empty()) continue;
      }
    }
    if (!wait) {
      c.full.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kFull;
    }
    if (!may_wait) return PublishStatus::kFull;  // try_publish: counted when published again
    if (attempt < 64) {
      cpu_relax();
      continue;
    }
    const std::uint64_t now = monotonic_ns();
    if (now >= deadline) {
      c.full.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kTimeout;
    }
    if (attempt < 256) {
      sched_yield();
    } else {
      timespec ts{0, 50'000};
      nanosleep(&ts, nullptr);
    }
  }
}

void Publisher::wake_sleepers() noexcept {
  SegmentHeader& h = seg_->header();
  // seq_cst pairs with the sleeper's waiters increment: either it sees our commit, or we see
  // it waiting. No system call while nobody sleeps.
  if (h.waiters.load(std::memory_order_seq_cst) != 0) {
    h.wake_word.fetch_add(1, std::memory_order_seq_cst);
    futex_wake_all(&h.wake_word);
  }
}

PublishStatus Publisher::finish_commit(std::uint32_t ring, const SlotClaim& claim) noexcept {
  if (!writers_[ring].commit(claim)) {
    rec_->counters[ring].aborted.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kAborted;
  }
  wake_sleepers();
  rec_->counters[ring].published.fetch_add(1, std::memory_order_relaxed);
  return PublishStatus::kOk;
}

PublishStatus Publisher::count_topic(TopicId topic, PublishStatus status) noexcept {
  // This agent's own row of the topic-stats region: no line shared with another process.
  // Callers checked topic < max_topics (topic_info). Several publishing threads of this
  // process may count at once, hence the atomic adds.
  TopicAgentCounters& t = seg_->topic_counters(self_, topic);
  switch (status) {
    case PublishStatus::kOk:
      t.published.fetch_add(1, std::memory_order_relaxed);
      break;
    case PublishStatus::kShed:
      t.shed.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      t.dropped.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  return status;
}

// Shared by publish and claim: the checks, admission and claim, then the header fields. On
// any status but kOk nothing is held. Inlined into both, so publish keeps one straight path.
[[gnu::always_inline]] inline PublishStatus Publisher::prepare(TopicId topic, std::size_t size,
                                                               Priority priority,
                                                               std::uint16_t flags, SlotClaim& slot,
                                                               Prepared& out,
                                                               bool may_wait) noexcept {
  const std::uint32_t ring = index_of(priority);
  if (ring >= kRingCount) return PublishStatus::kUnknownTopic;
  if (size > max_payload_bytes_) return PublishStatus::kTooLarge;
  const std::uint64_t info = topic_info(topic);
  if (info == 0) return PublishStatus::kUnknownTopic;
  const std::uint32_t sz = static_cast<std::uint32_t>(info);
  if (sz != 1 && sz - 1 != size) return PublishStatus::kBadSize;
  const std::uint64_t now = fast_monotonic_ns();
  Charged charged;
  if (PublishStatus s = admit(ring, priority, now, charged); s != PublishStatus::kOk) {
    return count_topic(topic, s);
  }
  if (PublishStatus s = claim_slot(ring, slot, now, may_wait); s != PublishStatus::kOk) {
    // A try that would have waited is not an outcome yet: the caller publishes it again, and
    // that publish is admitted (charged to the rate limits) again, so this one gives back
    // what it took: one event, charged once.
    if (!may_wait && s == PublishStatus::kFull && full_policy_ == FullPolicy::kWait) {
      low_limiter_.refund(charged.low_rate_per_s);
      agent_limiter_.refund(charged.agent_rate_per_s);
      return s;
    }
    return count_topic(topic, s);
  }
  out.ring = ring;
  // This locked add goes before the slot stores: it would otherwise wait for their cache
  // lines to arrive (a locked instruction drains the store buffer).
  out.stamp.producer_seq = producer_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  out.stamp.topic_id = topic;
  out.stamp.length = static_cast<std::uint32_t>(size);
  out.stamp.timestamp_ns = now;
  out.stamp.flags = flags;
  out.stamp.schema_version = static_cast<std::uint16_t>(info >> 32);
  return PublishStatus::kOk;
}

PublishStatus Publisher::publish(TopicId topic, const void* data, std::size_t size,
                                 Priority priority, std::uint16_t flags, bool may_wait) noexcept {
  SlotClaim slot;
  Prepared p;
  if (PublishStatus s = prepare(topic, size, priority, flags, slot, p, may_wait);
      s != PublishStatus::kOk) {
    return s;
  }
  writers_[p.ring].write(slot, p.stamp, data);
  rec_->heartbeat_ns.store(p.stamp.timestamp_ns, std::memory_order_relaxed);
  if (PublishStepHook hook = g_publish_step_hook.load(std::memory_order_relaxed)) [[unlikely]] {
    hook();
  }
  return count_topic(topic, finish_commit(p.ring, slot));
}

// The batch: publish()'s steps per event (admission, one claim, fill, one commit), but the
// checks once per batch and the counting, heartbeat and waiter check once per stretch. The ring
// protocol is publish()'s: each event is claimed, filled and committed (or given up) before the
// next is claimed, so this agent's `claiming` word never names more than the one open slot.
PublishBatchResult Publisher::publish_batch(TopicId topic, const void* data, std::size_t size,
                                            std::size_t count, Priority priority,
                                            bool may_wait) noexcept {
  PublishBatchResult r;
  if (count == 0) return r;
  const std::uint32_t ring = index_of(priority);
  if (ring >= kRingCount) {
    r.status = PublishStatus::kUnknownTopic;
    return r;
  }
  if (size > max_payload_bytes_) {
    r.status = PublishStatus::kTooLarge;
    return r;
  }
  const std::uint64_t info = topic_info(topic);
  if (info == 0) {
    r.status = PublishStatus::kUnknownTopic;
    return r;
  }
  const std::uint32_t sz = static_cast<std::uint32_t>(info);
  if (sz != 1 && sz - 1 != size) {
    r.status = PublishStatus::kBadSize;
    return r;
  }
  EventStamp stamp;
  stamp.topic_id = topic;
  stamp.length = static_cast<std::uint32_t>(size);
  stamp.flags = 0;
  stamp.schema_version = static_cast<std::uint16_t>(info >> 32);
  RingWriter& writer = writers_[ring];
  RingCounters& c = rec_->counters[ring];
  const auto* src = static_cast<const std::byte*>(data);

  std::size_t done = 0;
  std::size_t pending = 0;  // committed, not yet counted nor announced to sleepers
  std::uint64_t now = 0;
  // What publish() does per event after its commit, once for `pending` events: the waiter
  // check (the commit CASes are seq_cst, so a sleeper either saw them or is seen here), then
  // the counters. Always before waiting on a full ring: a sleeper may be what must drain it.
  auto flush = [&]() noexcept {
    if (pending == 0) return;
    rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
    wake_sleepers();
    c.published.fetch_add(pending, std::memory_order_relaxed);
    seg_->topic_counters(self_, topic).published.fetch_add(pending, std::memory_order_relaxed);
    pending = 0;
  };
  PublishStatus st = PublishStatus::kOk;
  for (; done < count; ++done) {
    now = fast_monotonic_ns();
    Charged charged;
    st = admit(ring, priority, now, charged);
    if (st != PublishStatus::kOk) break;
    SlotClaim slot;
    const ClaimOutcome claimed = writer.try_claim(slot);
    if (claimed == ClaimOutcome::kAborted) [[unlikely]] {
      c.aborted.fetch_add(1, std::memory_order_relaxed);
      st = PublishStatus::kAborted;
      break;
    }
    if (claimed == ClaimOutcome::kFull) [[unlikely]] {
      flush();
      // publish()'s own full-ring path: sweeps, waits by the policy, counts full/timeout.
      st = claim_slot(ring, slot, now, may_wait);
      if (st != PublishStatus::kOk) {
        if (!may_wait && st == PublishStatus::kFull && full_policy_ == FullPolicy::kWait) {
          // try_publish_batch: the caller publishes this event again; charged once (as there).
          low_limiter_.refund(charged.low_rate_per_s);
          agent_limiter_.refund(charged.agent_rate_per_s);
          r.published = done;
          r.status = st;
          return r;
        }
        break;
      }
    }
    stamp.producer_seq = producer_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
    stamp.timestamp_ns = now;
    writer.write(slot, stamp, src + done * size);
    if (PublishStepHook hook = g_publish_step_hook.load(std::memory_order_relaxed)) [[unlikely]] {
      hook();
    }
    if (!writer.commit(slot)) [[unlikely]] {
      c.aborted.fetch_add(1, std::memory_order_relaxed);
      st = PublishStatus::kAborted;
      break;
    }
    if (++pending == kBatchStretch) flush();
  }
  flush();
  r.published = done;
  r.status = st;
  if (st != PublishStatus::kOk) (void)count_topic(topic, st);
  return r;
}

void Publisher::claim(Claim& out, TopicId topic, std::uint32_t size, Priority priority) noexcept {
  out.owner_ = this;
  out.data_ = nullptr;
  out.size_ = 0;
  SlotClaim slot;
  Prepared p;
  if (PublishStatus s = prepare(topic, size, priority, 0, slot, p); s != PublishStatus::kOk) {
    out.status_ = s;
    return;
  }
  out.data_ = writers_[p.ring].open(slot, p.stamp);
  out.size_ = size;
  out.ring_ = p.ring;
  out.position_ = slot.position;
  out.expected_seq_ = slot.expected_seq;
  out.status_ = PublishStatus::kOk;
}

PublishStatus Publisher::commit(Claim& claim) noexcept {
  if (claim.owner_ != this || claim.data_ == nullptr) return PublishStatus::kClosed;
  SlotClaim c;
  c.position = claim.position_;
  c.expected_seq = claim.expected_seq_;
  c.slot = &seg_->slot(claim.ring_, claim.position_);
  const std::uint64_t now = fast_monotonic_ns();
  RingWriter::stamp_commit_time(c, now);
  rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
  claim.data_ = nullptr;
  const TopicId topic = c.slot->topic_id;  // ours until the commit below; read it first
  claim.status_ = count_topic(topic, finish_commit(claim.ring_, c));
  return claim.status_;
}

void Publisher::cancel(Claim& claim) noexcept {
  if (claim.owner_ != this || claim.data_ == nullptr) return;
  SlotClaim c;
  c.position = claim.position_;
  c.expected_seq = claim.expected_seq_;
  c.slot = &seg_->slot(claim.ring_, claim.position_);
  writers_[claim.ring_].cancel(c);
  claim.data_ = nullptr;
  claim.status_ = PublishStatus::kClosed;
}

PublishStatus Publisher::publish_system(TopicId topic, const void* data,
                                        std::size_t size) noexcept {
  constexpr std::uint32_t ring = 0;  // CRITICAL
  const std::uint64_t info = topic_info(topic);
  if (info == 0 || size > max_payload_bytes_) return PublishStatus::kUnknownTopic;
  SlotClaim claim;
  switch (writers_[ring].try_claim(claim)) {
    case ClaimOutcome::kClaimed:
      break;
    case ClaimOutcome::kAborted:
      rec_->counters[ring].aborted.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kAborted;
    case ClaimOutcome::kFull:
      rec_->counters[ring].full.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kFull;
  }
  EventStamp e;
  e.producer_seq = producer_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  e.topic_id = topic;
  e.length = static_cast<std::uint32_t>(size);
  e.timestamp_ns = fast_monotonic_ns();
  e.flags = kFlagSystem;
  e.schema_version = static_cast<std::uint16_t>(info >> 32);
  writers_[ring].write(claim, e, data);
  return count_topic(topic, finish_commit(ring, claim));
}

void set_publish_step_hook(PublishStepHook hook) noexcept {
  g_publish_step_hook.store(hook, std::memory_order_relaxed);
}

}  // namespace shmbus::detail
