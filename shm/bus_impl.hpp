// BusImpl: everything behind the public Bus handle. Joins the segment, the
// agent record, the topic registry, one RingWriter and RingReader per priority
// and the subscription table into publish and dispatch. Not API.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "shm/agent_table.hpp"
#include "shm/dead_letter_area.hpp"
#include "shm/rate_limiter.hpp"
#include "shm/ring_reader.hpp"
#include "shm/ring_writer.hpp"
#include "shm/segment.hpp"
#include "shm/subscriptions.hpp"
#include "shm/topic_registry.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::detail {

/// How often a publisher facing a full ring, or an idle reader stuck behind an uncommitted
/// slot, sweeps dead agents when no supervisor does it (bus_publish.cpp, bus_wait.cpp).
inline constexpr std::uint64_t kRecoverCheckNs = 20'000'000;

class BusImpl {
 public:
  static Result<std::unique_ptr<BusImpl>> make(std::unique_ptr<Segment> segment,
                                               const AgentOptions& options, bool owns_segment);
  ~BusImpl();

  // topics
  Result<TopicId> register_topic(std::string_view name, std::uint32_t payload_size,
                                 std::uint16_t schema_version);
  Result<TopicId> find_topic(std::string_view name);
  std::string_view topic_name(TopicId id);

  // publishing
  PublishStatus publish(TopicId topic, const void* data, std::size_t size, Priority priority,
                        std::uint16_t flags = 0) noexcept;
  void claim(Claim& out, TopicId topic, std::uint32_t size, Priority priority) noexcept;
  PublishStatus commit(Claim& claim) noexcept;
  void cancel(Claim& claim) noexcept;

  // subscribing and dispatch
  Result<SubscriptionId> subscribe(std::string_view pattern, Handler handler,
                                   HandlerOptions options, bool once);
  Result<void> unsubscribe(SubscriptionId id);
  Result<OwnedEvent> wait_for(std::string_view pattern, std::chrono::nanoseconds timeout,
                              std::function<bool(const EventView&)> predicate);
  std::size_t poll(std::size_t max_events) noexcept;
  std::size_t poll_wait(std::size_t max_events, std::uint64_t timeout_ns) noexcept;
  void run(std::uint64_t deadline_ns);
  void stop() noexcept;
  void set_gap_handler(std::function<void(Priority, std::uint64_t)> handler) {
    gap_handler_ = std::move(handler);
  }

  // information
  Segment& segment() noexcept { return *seg_; }
  AgentRecord& record() noexcept { return *rec_; }
  std::uint32_t agent_index() const noexcept { return self_; }
  const std::string& agent_name() const noexcept { return options_.name; }
  const BusConfig& config() const noexcept { return config_; }
  std::uint64_t events_missed() const noexcept { return missed_total_; }
  void heartbeat() noexcept;

 private:
  BusImpl() = default;
  // (schema << 32) | (payload size + 1) of a topic, 0 = unknown; cached for the publish path.
  std::uint64_t topic_info(TopicId topic) noexcept;
  PublishStatus admit(std::uint32_t ring, Priority priority, std::uint64_t now_ns) noexcept;
  PublishStatus claim_slot(std::uint32_t ring, SlotClaim& claim, std::uint64_t now_ns) noexcept;
  PublishStatus finish_commit(std::uint32_t ring, const SlotClaim& claim) noexcept;
  void wake_sleepers() noexcept;
  void activate_readers();
  void dispatch(std::uint32_t ring, const ReadEvent& event) noexcept;
  const CachedTopic* dispatch_topic(TopicId id) noexcept;
  bool any_pending() const noexcept;
  void idle_wait(std::uint64_t deadline_ns, std::uint32_t idle_rounds) noexcept;
  void recover_stuck() noexcept;
  void report_gaps() noexcept;
  // handler isolation (dispatching thread only; noexcept, no allocation once sys.error is known)
  void handler_failed(std::uint32_t ring, const ReadEvent& ev, Subscription& s,
                      const char* reason) noexcept;
  void handler_slow(const ReadEvent& ev, Subscription& s, std::uint64_t took_ns,
                    std::uint64_t now_ns) noexcept;
  void record_latency(std::uint64_t latency_ns) noexcept;
  void publish_error(std::uint32_t kind, const ReadEvent& ev, const Subscription& s,
                     const char* message, std::uint64_t now_ns) noexcept;
  PublishStatus publish_system(TopicId topic, const void* data, std::size_t size) noexcept;
  // Counts a publish outcome in this agent's row of the topic-stats region; returns `status`.
  PublishStatus count_topic(TopicId topic, PublishStatus status) noexcept;
  void refresh_handler_counts() noexcept;

  std::unique_ptr<Segment> seg_;
  AgentRecord* rec_ = nullptr;
  std::uint32_t self_ = kNoAgent;
  bool owns_segment_ = false;
  AgentOptions options_;
  BusConfig config_;

  std::mutex topics_mu_;  // guards topics_ (registration and refresh)
  std::unique_ptr<TopicRegistry> topics_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> topic_sizes_;  // see topic_info()
  std::vector<CachedTopic> dispatch_topics_;  // dispatcher's own copy (no lock on dispatch)

  RingWriter writers_[kRingCount];
  RingReader readers_[kRingCount];
  std::atomic<std::uint64_t> producer_seq_{0};
  RateLimiter agent_limiter_;
  RateLimiter low_limiter_;

  std::unique_ptr<SubscriptionTable> subs_;
  std::function<void(Priority, std::uint64_t)> gap_handler_;
  std::uint64_t missed_total_ = 0;
  bool readers_active_ = false;
  bool in_dispatch_ = false;
  std::atomic<bool> stop_{false};
  std::uint64_t last_heartbeat_ns_ = 0;
  std::atomic<std::uint64_t> last_recover_ns_{0};  // publishers and dispatcher, relaxed
  std::uint64_t last_stuck_check_ns_ = 0;          // dispatcher only
  std::unique_ptr<DeadLetterArea> dead_letters_;
  TopicId error_topic_ = kInvalidTopic;  // sys.error, registered on the first handler failure
  bool error_topic_tried_ = false;
  std::uint64_t system_events_dropped_ = 0;  // sys.error events that found the ring full
};

}  // namespace shmbus::detail
