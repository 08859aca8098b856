// Bus statistics read straight from the segment, by any process and without
// attaching as an agent: per-agent counters (published, delivered, shed, dropped,
// handler failures, dead letters, slow handlers), delivery-latency histograms,
// queue depth per ring and subscriber, per-topic publish counts and the
// dead-letter totals. Used by the CLI (`shmbus status/top`) and by tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/topic.hpp"

namespace shmbus {

class Bus;

/// Delivery latency (publish timestamp to the start of the first handler, CLOCK_MONOTONIC) as
/// fixed log2 buckets: bucket 0 counts < 64 ns, bucket b counts [64 << (b-1), 64 << b) ns, the
/// last bucket everything from 64 << 22 ns (~268 ms) up.
struct LatencyHistogram {
  static constexpr std::size_t kBuckets = 24;
  std::array<std::uint64_t, kBuckets> counts{};

  static constexpr std::uint64_t lower_ns(std::size_t b) noexcept {
    return b == 0 ? 0 : 64ull << (b - 1);
  }
  /// Exclusive upper bound; UINT64_MAX for the last bucket.
  static constexpr std::uint64_t upper_ns(std::size_t b) noexcept {
    return b + 1 >= kBuckets ? ~0ull : 64ull << b;
  }
  std::uint64_t total() const noexcept;
  /// Bucket holding the q-quantile (0 < q <= 1) of the samples; kBuckets when empty.
  std::size_t percentile_bucket(double q) const noexcept;
  /// Upper bound (exclusive) of that bucket: the q-quantile is below it and at least
  /// lower_ns() of the same bucket. 0 when empty.
  std::uint64_t percentile_ns(double q) const noexcept;
};

/// One agent's counters on one priority ring.
struct RingAgentStats {
  std::uint64_t published = 0;
  std::uint64_t delivered = 0;  ///< events handed to at least one handler
  std::uint64_t consumed = 0;   ///< events read (delivered or filtered out)
  std::uint64_t shed = 0;
  std::uint64_t full = 0;  ///< publishes that found the ring full (dropped by kFull/kTimeout)
  std::uint64_t rate_limited = 0;
  std::uint64_t aborted = 0;
  std::uint64_t missed = 0;       ///< lapped while untethered
  bool reading = false;           ///< this agent subscribes to the ring
  bool tethered = false;          ///< its cursor holds producers back
  std::uint64_t queue_depth = 0;  ///< ring tail - this agent's cursor (0 when not reading)
};

/// Counts of one topic, for one agent or summed over the agents.
struct TopicCounts {
  std::uint64_t published = 0;
  std::uint64_t delivered = 0;  ///< events handed to at least one handler (per agent)
  std::uint64_t failed = 0;     ///< handler calls that threw
  std::uint64_t dead_lettered = 0;
  std::uint64_t dropped = 0;   ///< publishes refused: full, timeout, rate-limited, aborted
  std::uint64_t shed = 0;      ///< publishes shed at backpressure CRITICAL
  std::uint32_t handlers = 0;  ///< handlers registered on the topic (per agent: its own)
};

/// One agent's counts of one topic (only topics with a non-zero count are listed).
struct AgentTopicStats {
  TopicId topic = kInvalidTopic;
  TopicCounts counts;
};

struct AgentStats {
  std::uint32_t index = 0;
  std::string name;
  std::uint32_t pid = 0;
  std::array<RingAgentStats, kPriorityCount> rings{};
  std::uint64_t published = 0;  ///< sums over the rings
  std::uint64_t delivered = 0;
  std::uint64_t shed = 0;
  std::uint64_t dropped = 0;  ///< full + rate_limited + aborted publishes
  std::uint64_t handler_failures = 0;
  std::uint32_t handler_error_streak = 0;  ///< of the handler that failed last
  std::uint64_t dead_lettered = 0;
  std::uint64_t handler_slow = 0;
  std::uint64_t handlers_unsubscribed = 0;
  LatencyHistogram latency;
  std::vector<AgentTopicStats> topics;  ///< by topic id
};

struct TopicStats {
  TopicId id = kInvalidTopic;
  std::string name;
  std::uint32_t payload_size = 0;  ///< 0 = variable
  TopicCounts totals;              ///< summed over the agents attached now
  std::uint32_t subscribers = 0;   ///< agents with at least one handler on the topic
};

struct RingStats {
  std::uint64_t tail = 0;  ///< positions ever claimed
  std::uint32_t capacity = 0;
  std::uint64_t padded = 0;           ///< stuck claims closed by the supervisor
  std::uint64_t max_queue_depth = 0;  ///< largest tail - cursor over reading agents
};

struct BusStats {
  std::vector<AgentStats> agents;  ///< active agent records, by index
  std::vector<TopicStats> topics;  ///< registered topics, by id
  std::array<RingStats, kPriorityCount> rings{};
  std::uint64_t dead_letters_written = 0;
  std::uint64_t dead_letters_dropped = 0;
  std::uint32_t dead_letter_capacity = 0;
};

/// Reads the statistics of bus `bus_name` (maps the segment; takes no agent record). Counters
/// are relaxed snapshots: each is exact, the set is not one instant. Counts are kept per agent
/// incarnation: an agent that detached takes its counts with it. Handler counts per topic are
/// updated on subscribe/off and, after an automatic unsubscribe, on the topic's next event. Errors:
/// those of opening the segment (kNotFound, kVersionMismatch, kCorrupt, ...).
Result<BusStats> read_stats(std::string_view bus_name);
/// Same, through an attached bus.
Result<BusStats> read_stats(Bus& bus);

}  // namespace shmbus
