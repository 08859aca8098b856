// Publisher: the publishing half of an agent (owned by BusImpl). Checks an event
// (topic size cache), admits it (backpressure levels, rate limits), claims a slot
// of its priority's ring, has that ring's RingWriter fill and commit it, and wakes
// sleeping dispatchers. publish() and claim()/commit() share one check, admission
// and header path. Any thread, several at once. Not API.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "shm/agent_table.hpp"
#include "shm/layout.hpp"
#include "shm/rate_limiter.hpp"
#include "shm/ring/ring_writer.hpp"
#include "shm/segment.hpp"
#include "shm/shared_topics.hpp"
#include "shmbus/claim.hpp"
#include "shmbus/config.hpp"

namespace shmbus::detail {

/// How often a publisher facing a full ring, or an idle reader stuck behind an uncommitted
/// slot, sweeps dead agents when no supervisor does it (publisher.cpp, dispatcher.cpp).
inline constexpr std::uint64_t kRecoverCheckNs = 20'000'000;
/// A batch publish counts its events, writes the heartbeat and checks for sleeping dispatchers
/// once per this many committed events (and before it waits on a full ring, and at its end):
/// a sleeping subscriber is woken at the latest when a stretch is committed.
inline constexpr std::size_t kBatchStretch = 32;
/// A publisher that confirmed its ring is at the shedding fill sheds without looking again for
/// this long (a confirmation scans every agent's cursor of the ring).
inline constexpr std::uint64_t kShedConfirmNs = 50'000;

class Publisher {
 public:
  Publisher() = default;
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;
  /// Binds to agent `self` of `segment`. `last_recover_ns` is the process's last sweep of dead
  /// agents, shared with the dispatcher. Cold; all referenced objects outlive this one.
  void init(Segment& segment, std::uint32_t self, const AgentOptions& options, SharedTopics& topics,
            std::atomic<std::uint64_t>& last_recover_ns);

  // Hot path: noexcept, no allocation, no system call unless a dispatcher sleeps or the ring
  // is full and the policy waits.
  // may_wait false (Bus::try_publish): a full ring returns kFull at once, uncounted, even
  // under FullPolicy::kWait; the caller publishes again (waiting, counted) after dropping a lock.
  PublishStatus publish(TopicId topic, const void* data, std::size_t size, Priority priority,
                        std::uint16_t flags = 0, bool may_wait = true) noexcept;
  /// `count` payloads of `size` bytes laid end to end, each its own slot, claim and commit, as
  /// `count` publish() calls that stop at the first status but kOk; the checks, the counters,
  /// the heartbeat and the wake-up check are done once per stretch (kBatchStretch events).
  PublishBatchResult publish_batch(TopicId topic, const void* data, std::size_t size,
                                   std::size_t count, Priority priority,
                                   bool may_wait = true) noexcept;
  void claim(Claim& out, TopicId topic, std::uint32_t size, Priority priority) noexcept;
  PublishStatus commit(Claim& claim) noexcept;
  void cancel(Claim& claim) noexcept;

  /// A system event (kFlagSystem) from inside dispatch: never waits (this dispatcher's own
  /// cursor may be what holds the ring), never shed (CRITICAL ring). A full ring drops it.
  PublishStatus publish_system(TopicId topic, const void* data, std::size_t size) noexcept;

 private:
  /// A checked, admitted and claimed event: its ring and header fields. (Its SlotClaim is kept
  /// apart: the claim's address goes to the writer, this struct stays in registers.)
  struct Prepared {
    std::uint32_t ring = 0;
    EventStamp stamp;
  };
  PublishStatus prepare(TopicId topic, std::size_t size, Priority priority, std::uint16_t flags,
                        SlotClaim& slot, Prepared& out, bool may_wait = true) noexcept;
  // (schema << 32) | (payload size + 1) of a topic, 0 = unknown; cached for the publish path.
  std::uint64_t topic_info(TopicId topic) noexcept;
  /// The rates admit() charged one event to (0: that limiter took nothing), for a refund.
  struct Charged {
    std::uint64_t low_rate_per_s = 0;
    std::uint64_t agent_rate_per_s = 0;
  };
  PublishStatus admit(std::uint32_t ring, Priority priority, std::uint64_t now_ns,
                      Charged& charged) noexcept;
  /// Whether ring `ring`, at CRITICAL by the level word, still holds the fill at which the
  /// supervisor sheds (the level may be a tick and a dwell old). Scans the ring's cursors at
  /// most once per kShedConfirmNs while it does.
  bool still_shedding(std::uint32_t ring, std::uint64_t now_ns) noexcept;
  PublishStatus claim_slot(std::uint32_t ring, SlotClaim& claim, std::uint64_t now_ns,
                           bool may_wait) noexcept;
  PublishStatus finish_commit(std::uint32_t ring, const SlotClaim& claim) noexcept;
  void wake_sleepers() noexcept;
  // Counts a publish outcome in this agent's row of the topic-stats region; returns `status`.
  PublishStatus count_topic(TopicId topic, PublishStatus status) noexcept;

  // Copies of what the hot path reads, so it reads them off `this` (no extra indirection).
  Segment* seg_ = nullptr;
  AgentRecord* rec_ = nullptr;
  std::uint32_t self_ = kNoAgent;
  std::uint32_t max_topics_ = 0;
  std::uint32_t max_payload_bytes_ = 0;
  FullPolicy full_policy_ = FullPolicy::kWait;
  std::uint64_t publish_timeout_ns_ = 0;

  SharedTopics* topics_ = nullptr;
  std::unique_ptr<std::atomic<std::uint64_t>[]> topic_sizes_;  // see topic_info()
  RingWriter writers_[kRingCount];
  // Per ring, until when a confirmed CRITICAL fill sheds without a rescan (still_shedding).
  std::atomic<std::uint64_t> shed_confirmed_until_ns_[kRingCount] = {};
  std::atomic<std::uint64_t> producer_seq_{0};
  RateLimiter agent_limiter_;
  RateLimiter low_limiter_;
  std::atomic<std::uint64_t>* last_recover_ns_ = nullptr;  // publishers and dispatcher, relaxed
};

}  // namespace shmbus::detail
