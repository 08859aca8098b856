// BusImpl, publishing: admission (backpressure, rate limits), claiming a slot, writing
// and committing it, waking sleeping dispatchers; and the claim/commit API.
#include "shm/bus_impl.hpp"

#include <sched.h>
#include <time.h>

#include <cstring>

#include "shm/clock.hpp"
#include "shm/fast_clock.hpp"
#include "shm/futex.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

namespace {
// Backpressure levels older than this (no supervisor heartbeat) are ignored.
constexpr std::uint64_t kSupervisorStaleNs = 2'000'000'000;
}  // namespace

PublishStatus BusImpl::admit(std::uint32_t ring, Priority priority, std::uint64_t now_ns) noexcept {
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
      (priority == Priority::kNormal || priority == Priority::kLow)) {
    c.shed.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kShed;
  }
  if (level >= BackpressureLevel::kHigh && priority == Priority::kLow &&
      !low_limiter_.allow(seg_->header().low_rate_at_high_per_s.load(std::memory_order_relaxed),
                          now_ns)) {
    c.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kRateLimited;
  }
  if (!agent_limiter_.allow(rec_->rate_limit_per_s.load(std::memory_order_relaxed), now_ns)) {
    c.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kRateLimited;
  }
  return PublishStatus::kOk;
}

PublishStatus BusImpl::claim_slot(std::uint32_t ring, SlotClaim& claim,
                                  std::uint64_t now_ns) noexcept {
  RingCounters& c = rec_->counters[ring];
  const bool wait = options_.full_policy == FullPolicy::kWait;
  const std::uint64_t deadline =
      now_ns + static_cast<std::uint64_t>(options_.publish_timeout.count());
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
      std::uint64_t last = last_recover_ns_.load(std::memory_order_relaxed);
      if (now - last > kRecoverCheckNs &&
          last_recover_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
        if (!sweep_dead_agents(*seg_, self_).empty()) continue;
      }
    }
    if (!wait) {
      c.full.fetch_add(1, std::memory_order_relaxed);
      return PublishStatus::kFull;
    }
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

void BusImpl::wake_sleepers() noexcept {
  SegmentHeader& h = seg_->header();
  // seq_cst pairs with the sleeper's waiters increment: either it sees our commit, or we see
  // it waiting. No system call while nobody sleeps.
  if (h.waiters.load(std::memory_order_seq_cst) != 0) {
    h.wake_word.fetch_add(1, std::memory_order_seq_cst);
    futex_wake_all(&h.wake_word);
  }
}

PublishStatus BusImpl::finish_commit(std::uint32_t ring, const SlotClaim& claim) noexcept {
  if (!writers_[ring].commit(claim)) {
    rec_->counters[ring].aborted.fetch_add(1, std::memory_order_relaxed);
    return PublishStatus::kAborted;
  }
  wake_sleepers();
  rec_->counters[ring].published.fetch_add(1, std::memory_order_relaxed);
  return PublishStatus::kOk;
}

PublishStatus BusImpl::count_topic(TopicId topic, PublishStatus status) noexcept {
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

PublishStatus BusImpl::publish(TopicId topic, const void* data, std::size_t size, Priority priority,
                               std::uint16_t flags) noexcept {
  const std::uint32_t ring = index_of(priority);
  if (ring >= kRingCount) return PublishStatus::kUnknownTopic;
  if (size > config_.max_payload_bytes) return PublishStatus::kTooLarge;
  const std::uint64_t info = topic_info(topic);
  if (info == 0) return PublishStatus::kUnknownTopic;
  const std::uint32_t sz = static_cast<std::uint32_t>(info);
  if (sz != 1 && sz - 1 != size) return PublishStatus::kBadSize;
  const std::uint64_t now = fast_monotonic_ns();
  if (PublishStatus s = admit(ring, priority, now); s != PublishStatus::kOk) {
    return count_topic(topic, s);
  }
  SlotClaim claim;
  if (PublishStatus s = claim_slot(ring, claim, now); s != PublishStatus::kOk) {
    return count_topic(topic, s);
  }
  SlotHeader& h = *claim.slot;
  // This locked add goes before the slot stores: it would otherwise wait for their cache
  // lines to arrive (a locked instruction drains the store buffer).
  const std::uint64_t producer_seq = producer_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  // Payload first, header last: a subscriber spinning on this slot's seq keeps pulling the
  // header line away, so the header stores and the commit CAS that follows them should
  // find it owned, in one transfer.
  if (size != 0) std::memcpy(reinterpret_cast<std::byte*>(&h) + sizeof(SlotHeader), data, size);
  h.length = static_cast<std::uint32_t>(size);
  h.topic_id = topic;
  h.producer = self_;
  h.producer_epoch = rec_->epoch;
  h.producer_seq = producer_seq;
  h.timestamp_ns = now;
  h.flags = flags;
  h.schema_version = static_cast<std::uint16_t>(info >> 32);
  rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
  return count_topic(topic, finish_commit(ring, claim));
}

void BusImpl::claim(Claim& out, TopicId topic, std::uint32_t size, Priority priority) noexcept {
  out.owner_ = this;
  out.data_ = nullptr;
  out.size_ = 0;
  const std::uint32_t ring = index_of(priority);
  if (ring >= kRingCount) {
    out.status_ = PublishStatus::kUnknownTopic;
    return;
  }
  if (size > config_.max_payload_bytes) {
    out.status_ = PublishStatus::kTooLarge;
    return;
  }
  const std::uint64_t info = topic_info(topic);
  const std::uint32_t sz = static_cast<std::uint32_t>(info);
  if (info == 0) {
    out.status_ = PublishStatus::kUnknownTopic;
    return;
  }
  if (sz != 1 && sz - 1 != size) {
    out.status_ = PublishStatus::kBadSize;
    return;
  }
  const std::uint64_t now = fast_monotonic_ns();
  if (PublishStatus s = admit(ring, priority, now); s != PublishStatus::kOk) {
    out.status_ = count_topic(topic, s);
    return;
  }
  SlotClaim c;
  if (PublishStatus s = claim_slot(ring, c, now); s != PublishStatus::kOk) {
    out.status_ = count_topic(topic, s);
    return;
  }
  SlotHeader& h = *c.slot;
  h.length = size;
  h.topic_id = topic;
  h.producer = self_;
  h.producer_epoch = rec_->epoch;
  h.producer_seq = producer_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  h.flags = 0;
  h.schema_version = static_cast<std::uint16_t>(info >> 32);
  out.data_ = reinterpret_cast<std::byte*>(&h) + sizeof(SlotHeader);
  out.size_ = size;
  out.ring_ = ring;
  out.position_ = c.position;
  out.expected_seq_ = c.expected_seq;
  out.status_ = PublishStatus::kOk;
}

PublishStatus BusImpl::commit(Claim& claim) noexcept {
  if (claim.owner_ != this || claim.data_ == nullptr) return PublishStatus::kClosed;
  SlotClaim c;
  c.position = claim.position_;
  c.expected_seq = claim.expected_seq_;
  c.slot = &seg_->slot(claim.ring_, claim.position_);
  const std::uint64_t now = fast_monotonic_ns();
  c.slot->timestamp_ns = now;
  rec_->heartbeat_ns.store(now, std::memory_order_relaxed);
  claim.data_ = nullptr;
  const TopicId topic = c.slot->topic_id;  // ours until the commit below; read it first
  claim.status_ = count_topic(topic, finish_commit(claim.ring_, c));
  return claim.status_;
}

void BusImpl::cancel(Claim& claim) noexcept {
  if (claim.owner_ != this || claim.data_ == nullptr) return;
  SlotClaim c;
  c.position = claim.position_;
  c.expected_seq = claim.expected_seq_;
  c.slot = &seg_->slot(claim.ring_, claim.position_);
  writers_[claim.ring_].cancel(c);
  claim.data_ = nullptr;
  claim.status_ = PublishStatus::kClosed;
}

}  // namespace shmbus::detail
