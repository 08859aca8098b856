// Restates the segment's wire format independently of shm/layout.hpp: every size and offset is
// written here by hand and compared with the real structs, so a moved field fails this test
// even if someone also edits the static_asserts beside it. Also checks where plan_regions()
// places the regions and that the layout hash is a stable fold of those numbers.
#include "shm/layout_hash.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "shm/error_log_layout.hpp"
#include "shm/liveness_lock.hpp"
#include "shm/region_sizes.hpp"
#include "shm/segment.hpp"
#include "shmbus/config.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {
namespace {

// The numbers every build of layout 1.x must agree on. Changing any of them is a major version
// bump; a minor bump (an addition in reserved space) adds lines here.
constexpr std::uint64_t kPage = 4096;

TEST(LayoutTest, ConstantsAreThoseOfLayoutOne) {
  char magic[8];
  std::memcpy(magic, &kMagic, sizeof(magic));
  EXPECT_EQ(std::string(magic, 8), "SHMBUS01");
  EXPECT_EQ(kLayoutMajor, 1);
  // Minor 1: AgentRecord handler counters and latency histogram, dead-letter internals.
  // Minor 2: the topic-stats region. Minor 3: the error log written, TopicEntry word reserved.
  // Minor 4: SegmentHeader::shed_fill_slots in line 5's reserved words.
  EXPECT_EQ(kLayoutMinor, 4);
  EXPECT_EQ(kLayoutVersion, 0x00010004u);
  EXPECT_EQ(kNotReady, 0u);
  EXPECT_EQ(kCacheLine, 64u);
  EXPECT_EQ(kRingCount, 4u);
  EXPECT_EQ(kAgentNameBytes, 32u);
  EXPECT_EQ(kLastErrorBytes, 128u);
  EXPECT_EQ(kTopicNameBytes, 96u);
  EXPECT_EQ(kSeqPad, 0x8000000000000000ull);
  EXPECT_EQ(kClaimConfirmed, 0x8000000000000000ull);
}

TEST(LayoutTest, EnumValuesAreFixed) {
  EXPECT_EQ(static_cast<std::uint32_t>(AgentState::kFree), 0u);
  EXPECT_EQ(static_cast<std::uint32_t>(AgentState::kClaiming), 1u);
  EXPECT_EQ(static_cast<std::uint32_t>(AgentState::kActive), 2u);
  EXPECT_EQ(static_cast<std::uint32_t>(kReaderActive), 1u);
  EXPECT_EQ(static_cast<std::uint32_t>(kReaderTethered), 2u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::HealthState::kUnknown), 0u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::HealthState::kHealthy), 1u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::HealthState::kDegraded), 2u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::HealthState::kUnhealthy), 3u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::HealthState::kDead), 4u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::BackpressureLevel::kNormal), 0u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::BackpressureLevel::kWarning), 1u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::BackpressureLevel::kHigh), 2u);
  EXPECT_EQ(static_cast<std::uint32_t>(sys::BackpressureLevel::kCritical), 3u);
}

// Liveness locks are part of the cross-process protocol: every build must lock the same bytes.
TEST(LayoutTest, LivenessLockBytesAreFixed) {
  EXPECT_EQ(kLockBase, 1ull << 40);
  EXPECT_EQ(kSupervisorLockByte, (1ull << 40) + 0);
  EXPECT_EQ(kCreatorLockByte, (1ull << 40) + 1);
  EXPECT_EQ(kAgentLockBase, (1ull << 40) + 1024);
}

TEST(LayoutTest, AtomicsAreAddressFree) {
  EXPECT_TRUE(std::atomic<std::uint64_t>::is_always_lock_free);
  EXPECT_TRUE(std::atomic<std::uint32_t>::is_always_lock_free);
  EXPECT_EQ(sizeof(std::atomic<std::uint64_t>), 8u);
  EXPECT_EQ(sizeof(std::atomic<std::uint32_t>), 4u);
  EXPECT_EQ(sizeof(pthread_mutex_t), 40u);
}

TEST(LayoutTest, SegmentConfigMatches) {
  EXPECT_TRUE(std::is_standard_layout_v<SegmentConfig>);
  EXPECT_EQ(sizeof(SegmentConfig), 64u);
  EXPECT_EQ(alignof(SegmentConfig), 4u);
  EXPECT_EQ(offsetof(SegmentConfig, ring_capacity), 0u);
  EXPECT_EQ(offsetof(SegmentConfig, max_payload_bytes), 16u);
  EXPECT_EQ(offsetof(SegmentConfig, slot_stride), 20u);
  EXPECT_EQ(offsetof(SegmentConfig, max_agents), 24u);
  EXPECT_EQ(offsetof(SegmentConfig, max_topics), 28u);
  EXPECT_EQ(offsetof(SegmentConfig, history_depth), 32u);
  EXPECT_EQ(offsetof(SegmentConfig, max_barriers), 36u);
  EXPECT_EQ(offsetof(SegmentConfig, max_barrier_participants), 40u);
  EXPECT_EQ(offsetof(SegmentConfig, barrier_signal_bytes), 44u);
  EXPECT_EQ(offsetof(SegmentConfig, dead_letter_capacity), 48u);
  EXPECT_EQ(offsetof(SegmentConfig, error_log_capacity), 52u);
  EXPECT_EQ(offsetof(SegmentConfig, permissions), 56u);
  EXPECT_EQ(offsetof(SegmentConfig, reserved), 60u);
}

TEST(LayoutTest, RegionTableMatches) {
  EXPECT_TRUE(std::is_standard_layout_v<RegionTable>);
  EXPECT_EQ(sizeof(RegionTable), 64u);
  EXPECT_EQ(alignof(RegionTable), 8u);
  EXPECT_EQ(offsetof(RegionTable, agents_offset), 0u);
  EXPECT_EQ(offsetof(RegionTable, topics_offset), 8u);
  EXPECT_EQ(offsetof(RegionTable, rings_offset), 16u);
  EXPECT_EQ(offsetof(RegionTable, barriers_offset), 48u);
  EXPECT_EQ(offsetof(RegionTable, dead_letters_offset), 56u);
}

TEST(LayoutTest, SegmentHeaderMatches) {
  EXPECT_TRUE(std::is_standard_layout_v<SegmentHeader>);
  EXPECT_EQ(sizeof(SegmentHeader), 4096u);
  EXPECT_EQ(alignof(SegmentHeader), 64u);
  // line 0: identity
  EXPECT_EQ(offsetof(SegmentHeader, magic), 0u);
  EXPECT_EQ(offsetof(SegmentHeader, layout_version), 8u);
  EXPECT_EQ(offsetof(SegmentHeader, ready), 12u);
  EXPECT_EQ(offsetof(SegmentHeader, layout_hash), 16u);
  EXPECT_EQ(offsetof(SegmentHeader, total_size), 24u);
  EXPECT_EQ(offsetof(SegmentHeader, creation_time_ns), 32u);
  EXPECT_EQ(offsetof(SegmentHeader, creator_start_time), 40u);
  EXPECT_EQ(offsetof(SegmentHeader, creator_pid), 48u);
  EXPECT_EQ(offsetof(SegmentHeader, reserved0), 52u);
  EXPECT_EQ(offsetof(SegmentHeader, error_log_offset), 56u);
  // lines 1-2
  EXPECT_EQ(offsetof(SegmentHeader, config), 64u);
  EXPECT_EQ(offsetof(SegmentHeader, regions), 128u);
  // line 3: control plane
  EXPECT_EQ(offsetof(SegmentHeader, control_mutex), 192u);
  EXPECT_EQ(offsetof(SegmentHeader, topic_count), 232u);
  EXPECT_EQ(offsetof(SegmentHeader, agent_epoch), 236u);
  EXPECT_EQ(offsetof(SegmentHeader, topic_stats_offset), 240u);
  // line 4: supervisor
  EXPECT_EQ(offsetof(SegmentHeader, supervisor_pid), 256u);
  EXPECT_EQ(offsetof(SegmentHeader, bus_health), 260u);
  EXPECT_EQ(offsetof(SegmentHeader, supervisor_start_time), 264u);
  EXPECT_EQ(offsetof(SegmentHeader, supervisor_heartbeat_ns), 272u);
  EXPECT_EQ(offsetof(SegmentHeader, supervisor_epoch), 280u);
  EXPECT_EQ(offsetof(SegmentHeader, reserved4), 288u);
  // line 5: backpressure
  EXPECT_EQ(offsetof(SegmentHeader, backpressure), 320u);
  EXPECT_EQ(offsetof(SegmentHeader, low_rate_at_high_per_s), 336u);
  EXPECT_EQ(offsetof(SegmentHeader, shed_fill_slots), 340u);
  EXPECT_EQ(offsetof(SegmentHeader, reserved5), 356u);
  // lines 6-7: wake-ups, each alone on its line
  EXPECT_EQ(offsetof(SegmentHeader, wake_word), 384u);
  EXPECT_EQ(offsetof(SegmentHeader, reserved6), 388u);
  EXPECT_EQ(offsetof(SegmentHeader, waiters), 448u);
  EXPECT_EQ(offsetof(SegmentHeader, reserved7), 452u);
  // line 8: counters
  EXPECT_EQ(offsetof(SegmentHeader, claims_padded), 512u);
  EXPECT_EQ(offsetof(SegmentHeader, agents_recovered), 520u);
  EXPECT_EQ(offsetof(SegmentHeader, agents_untethered), 528u);
  EXPECT_EQ(offsetof(SegmentHeader, reserved8), 536u);
  EXPECT_EQ(offsetof(SegmentHeader, reserved_tail), 576u);
  EXPECT_EQ(sizeof(SegmentHeader::reserved_tail), 4096u - 576u);
}

TEST(LayoutTest, ReaderCursorMatches) {
  EXPECT_TRUE(std::is_standard_layout_v<ReaderCursor>);
  EXPECT_EQ(sizeof(ReaderCursor), 64u);
  EXPECT_EQ(alignof(ReaderCursor), 64u);
  EXPECT_EQ(offsetof(ReaderCursor, position), 0u);
  EXPECT_EQ(offsetof(ReaderCursor, flags), 8u);
  EXPECT_EQ(offsetof(ReaderCursor, gap_pending), 12u);
  EXPECT_EQ(offsetof(ReaderCursor, untethered_at), 16u);
  EXPECT_EQ(offsetof(ReaderCursor, last_move_ns), 24u);
  EXPECT_EQ(offsetof(ReaderCursor, reserved), 32u);
}

TEST(LayoutTest, RingCountersMatch) {
  EXPECT_TRUE(std::is_standard_layout_v<RingCounters>);
  EXPECT_EQ(sizeof(RingCounters), 64u);
  EXPECT_EQ(offsetof(RingCounters, published), 0u);
  EXPECT_EQ(offsetof(RingCounters, delivered), 8u);
  EXPECT_EQ(offsetof(RingCounters, consumed), 16u);
  EXPECT_EQ(offsetof(RingCounters, shed), 24u);
  EXPECT_EQ(offsetof(RingCounters, full), 32u);
  EXPECT_EQ(offsetof(RingCounters, rate_limited), 40u);
  EXPECT_EQ(offsetof(RingCounters, aborted), 48u);
  EXPECT_EQ(offsetof(RingCounters, missed), 56u);
}

TEST(LayoutTest, AgentRecordMatches) {
  EXPECT_TRUE(std::is_standard_layout_v<AgentRecord>);
  EXPECT_EQ(sizeof(AgentRecord), 1024u);
  EXPECT_EQ(alignof(AgentRecord), 64u);
  // line 0: identity
  EXPECT_EQ(offsetof(AgentRecord, state), 0u);
  EXPECT_EQ(offsetof(AgentRecord, epoch), 4u);
  EXPECT_EQ(offsetof(AgentRecord, pid), 8u);
  EXPECT_EQ(offsetof(AgentRecord, flags), 12u);
  EXPECT_EQ(offsetof(AgentRecord, start_time), 16u);
  EXPECT_EQ(offsetof(AgentRecord, attach_time_ns), 24u);
  EXPECT_EQ(offsetof(AgentRecord, name), 32u);
  EXPECT_EQ(sizeof(AgentRecord::name), 32u);
  // line 1: liveness
  EXPECT_EQ(offsetof(AgentRecord, heartbeat_ns), 64u);
  EXPECT_EQ(offsetof(AgentRecord, health), 72u);
  EXPECT_EQ(offsetof(AgentRecord, handler_error_streak), 76u);
  EXPECT_EQ(offsetof(AgentRecord, handler_errors), 80u);
  EXPECT_EQ(offsetof(AgentRecord, max_delivery_latency_ns), 88u);
  EXPECT_EQ(offsetof(AgentRecord, rate_limit_per_s), 96u);
  EXPECT_EQ(offsetof(AgentRecord, handler_slow), 104u);
  EXPECT_EQ(offsetof(AgentRecord, dead_lettered), 112u);
  EXPECT_EQ(offsetof(AgentRecord, handlers_unsubscribed), 120u);
  // lines 2-5: one cursor per ring, each on its own line
  EXPECT_EQ(offsetof(AgentRecord, cursors), 128u);
  EXPECT_EQ(sizeof(AgentRecord::cursors), 4u * 64u);
  // line 6: claim words
  EXPECT_EQ(offsetof(AgentRecord, claiming), 384u);
  EXPECT_EQ(offsetof(AgentRecord, reserved6), 416u);
  // lines 7-10: counters
  EXPECT_EQ(offsetof(AgentRecord, counters), 448u);
  EXPECT_EQ(sizeof(AgentRecord::counters), 4u * 64u);
  // lines 11-12: last error
  EXPECT_EQ(offsetof(AgentRecord, last_error), 704u);
  EXPECT_EQ(sizeof(AgentRecord::last_error), 128u);
  // lines 13-15: latency histogram
  EXPECT_EQ(offsetof(AgentRecord, latency_hist), 832u);
  EXPECT_EQ(sizeof(AgentRecord::latency_hist), 24u * 8u);
}

TEST(LayoutTest, TopicEntryMatches) {
  EXPECT_TRUE(std::is_standard_layout_v<TopicEntry>);
  EXPECT_EQ(sizeof(TopicEntry), 128u);
  EXPECT_EQ(alignof(TopicEntry), 64u);
  EXPECT_EQ(offsetof(TopicEntry, name), 0u);
  EXPECT_EQ(sizeof(TopicEntry::name), 96u);
  EXPECT_EQ(offsetof(TopicEntry, payload_size), 96u);
  EXPECT_EQ(offsetof(TopicEntry, schema_version), 100u);
  EXPECT_EQ(offsetof(TopicEntry, flags), 102u);
  EXPECT_EQ(offsetof(TopicEntry, name_hash), 104u);
  EXPECT_EQ(offsetof(TopicEntry, reserved0), 108u);
  // Words 112..127 are reserved (minor 3: once an unwritten `published` counter).
  EXPECT_EQ(offsetof(TopicEntry, reserved1), 112u);
  EXPECT_EQ(sizeof(TopicEntry::reserved1), 16u);
}

TEST(LayoutTest, RingHeaderMatches) {
  EXPECT_TRUE(std::is_standard_layout_v<RingHeader>);
  EXPECT_EQ(sizeof(RingHeader), 256u);
  EXPECT_EQ(alignof(RingHeader), 64u);
  EXPECT_EQ(offsetof(RingHeader, tail), 0u);
  EXPECT_EQ(offsetof(RingHeader, capacity), 64u);
  EXPECT_EQ(offsetof(RingHeader, slot_stride), 68u);
  EXPECT_EQ(offsetof(RingHeader, slots_offset), 72u);
  EXPECT_EQ(offsetof(RingHeader, gate_hint), 128u);
  EXPECT_EQ(offsetof(RingHeader, padded), 192u);
  EXPECT_EQ(offsetof(RingHeader, quarantined), 200u);
}

TEST(LayoutTest, SlotHeaderMatches) {
  EXPECT_TRUE(std::is_standard_layout_v<SlotHeader>);
  EXPECT_EQ(sizeof(SlotHeader), 64u);
  EXPECT_EQ(alignof(SlotHeader), 64u);
  EXPECT_EQ(offsetof(SlotHeader, seq), 0u);
  EXPECT_EQ(offsetof(SlotHeader, quarantine), 8u);
  EXPECT_EQ(offsetof(SlotHeader, length), 16u);
  EXPECT_EQ(offsetof(SlotHeader, topic_id), 20u);
  EXPECT_EQ(offsetof(SlotHeader, producer), 24u);
  EXPECT_EQ(offsetof(SlotHeader, producer_epoch), 28u);
  EXPECT_EQ(offsetof(SlotHeader, producer_seq), 32u);
  EXPECT_EQ(offsetof(SlotHeader, timestamp_ns), 40u);
  EXPECT_EQ(offsetof(SlotHeader, flags), 48u);
  EXPECT_EQ(offsetof(SlotHeader, schema_version), 50u);
  EXPECT_EQ(offsetof(SlotHeader, reserved0), 52u);
  EXPECT_EQ(offsetof(SlotHeader, reserved1), 56u);
}

TEST(LayoutTest, ErrorLogMatches) {
  EXPECT_EQ(sizeof(ErrorLogHeader), 64u);
  EXPECT_EQ(alignof(ErrorLogHeader), 64u);
  EXPECT_EQ(offsetof(ErrorLogHeader, next), 0u);
  EXPECT_TRUE(std::is_standard_layout_v<ErrorLogEntry>);
  EXPECT_EQ(sizeof(ErrorLogEntry), 256u);
  EXPECT_EQ(kErrorLogEntryBytes, 256u);
  EXPECT_EQ(alignof(ErrorLogEntry), 8u);
  EXPECT_EQ(offsetof(ErrorLogEntry, seq), 0u);
  EXPECT_EQ(offsetof(ErrorLogEntry, time_ns), 8u);
  EXPECT_EQ(offsetof(ErrorLogEntry, agent), 16u);
  EXPECT_EQ(offsetof(ErrorLogEntry, code), 20u);
  EXPECT_EQ(offsetof(ErrorLogEntry, topic), 24u);
  EXPECT_EQ(offsetof(ErrorLogEntry, errc), 28u);
  EXPECT_EQ(offsetof(ErrorLogEntry, event_sequence), 32u);
  EXPECT_EQ(offsetof(ErrorLogEntry, count), 40u);
  EXPECT_EQ(offsetof(ErrorLogEntry, error_mono_ns), 48u);
  EXPECT_EQ(offsetof(ErrorLogEntry, checksum), 56u);
  EXPECT_EQ(offsetof(ErrorLogEntry, agent_name), 64u);
  EXPECT_EQ(sizeof(ErrorLogEntry::agent_name), 32u);
  EXPECT_EQ(offsetof(ErrorLogEntry, handler), 96u);
  EXPECT_EQ(sizeof(ErrorLogEntry::handler), 32u);
  EXPECT_EQ(offsetof(ErrorLogEntry, text), 128u);
  EXPECT_EQ(sizeof(ErrorLogEntry::text), 128u);
  EXPECT_EQ(kErrorLogWriting, 1ull << 63);
}

// ---- layout hash -----------------------------------------------------------------------------

// The values compute_layout_hash() folds, in its order, written out by hand. The hash is the
// layout's sizes and offsets plus the major version only: a minor bump adds fields in reserved
// space without moving anything, and builds of either minor must keep accepting each other's
// segments (layout.hpp: "additions in reserved space that old readers can ignore").
std::vector<std::uint64_t> restated_hash_inputs() {
  return {
      4096,  // sizeof(SegmentHeader)
      64,    // offsetof(SegmentHeader, config)
      128,   // offsetof(SegmentHeader, regions)
      192,   // offsetof(SegmentHeader, control_mutex)
      256,   // offsetof(SegmentHeader, supervisor_pid)
      320,   // offsetof(SegmentHeader, backpressure)
      384,   // offsetof(SegmentHeader, wake_word)
      448,   // offsetof(SegmentHeader, waiters)
      512,   // offsetof(SegmentHeader, claims_padded)
      64,    // sizeof(SegmentConfig)
      64,    // sizeof(RegionTable)
      1024,  // sizeof(AgentRecord)
      64,    // offsetof(AgentRecord, heartbeat_ns)
      128,   // offsetof(AgentRecord, cursors)
      384,   // offsetof(AgentRecord, claiming)
      448,   // offsetof(AgentRecord, counters)
      64,    // sizeof(ReaderCursor)
      64,    // sizeof(RingCounters)
      128,   // sizeof(TopicEntry)
      256,   // sizeof(RingHeader)
      64,    // sizeof(SlotHeader)
      16,    // offsetof(SlotHeader, length)
      48,    // offsetof(SlotHeader, flags)
      256,   // sizeof(ErrorLogEntry)
      1,     // kLayoutMajor (never the minor)
  };
}

std::uint64_t fold(const std::vector<std::uint64_t>& values) {
  std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a offset basis
  for (std::uint64_t v : values) h = hash_mix(h, v);
  return h;
}

TEST(LayoutTest, HashIsFoldOfRestatedLayout) {
  EXPECT_EQ(fold(restated_hash_inputs()), kLayoutHash)
      << "if only the last input differs: compute_layout_hash() must fold kLayoutMajor, not "
         "kLayoutVersion, or every minor bump makes builds reject each other's segments";
}

TEST(LayoutTest, HashIsStableWithinBuild) {
  static_assert(compute_layout_hash() == kLayoutHash, "constexpr and stored hash agree");
  EXPECT_EQ(compute_layout_hash(), kLayoutHash);
  EXPECT_EQ(compute_layout_hash(), compute_layout_hash());
  EXPECT_NE(kLayoutHash, 0u);
}

TEST(LayoutTest, HashMixIsFnvStep) {
  EXPECT_EQ(hash_mix(0, 0), 0u);
  EXPECT_EQ(hash_mix(0xCBF29CE484222325ull, 0), 0xCBF29CE484222325ull * 0x100000001B3ull);
  EXPECT_EQ(hash_mix(5, 3), (5ull ^ 3ull) * 0x100000001B3ull);
}

TEST(LayoutTest, HashChangesWhenAnySizeOrOffsetChanges) {
  const std::vector<std::uint64_t> base = restated_hash_inputs();
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (std::uint64_t delta : {1ull, 8ull, 64ull}) {
      std::vector<std::uint64_t> changed = base;
      changed[i] += delta;
      EXPECT_NE(fold(changed), kLayoutHash) << "entry " << i << " + " << delta;
    }
  }
  // A SlotHeader grown to two cache lines.
  std::vector<std::uint64_t> bigger_slot = base;
  bigger_slot[20] = 128;
  EXPECT_NE(fold(bigger_slot), kLayoutHash);
  // Another major version with the same structs.
  std::vector<std::uint64_t> major2 = base;
  major2.back() = 2;
  EXPECT_NE(fold(major2), kLayoutHash);
}

TEST(LayoutTest, HashDependsOnOrder) {
  std::vector<std::uint64_t> swapped = restated_hash_inputs();
  std::swap(swapped[0], swapped[1]);  // 4096 and 64: a reordered region
  EXPECT_NE(fold(swapped), kLayoutHash);
}

// ---- region plan -----------------------------------------------------------------------------

BusConfig small_config() {
  BusConfig c;
  c.name = "layout";
  c.ring_capacity = {64, 128, 64, 256};
  c.max_payload_bytes = 100;
  c.max_agents = 5;
  c.max_topics = 17;
  c.history_depth = 8;
  c.max_barriers = 3;
  c.max_barrier_participants = 5;
  c.barrier_signal_bytes = 40;
  c.dead_letter_capacity = 7;
  c.error_log_capacity = 9;
  return c;
}

struct Region {
  const char* what;
  std::uint64_t offset;
  std::uint64_t bytes;
};

// The regions of a plan with their sizes restated by hand (barriers and dead letters come from
// their own layout headers, so their sizes are taken from region_sizes.hpp).
std::vector<Region> regions_of(const RegionPlan& p, const SegmentConfig& c) {
  std::vector<Region> out;
  out.push_back({"agents", p.agents_offset, std::uint64_t{c.max_agents} * 1024});
  out.push_back({"topics", p.topics_offset, std::uint64_t{c.max_topics} * 128});
  const char* ring_names[] = {"ring CRITICAL", "ring HIGH", "ring NORMAL", "ring LOW"};
  for (std::uint32_t r = 0; r < 4; ++r) {
    out.push_back({ring_names[r], p.rings_offset[r],
                   256 + std::uint64_t{c.ring_capacity[r]} * c.slot_stride});
  }
  out.push_back({"barriers", p.barriers_offset, barrier_region_bytes(c)});
  out.push_back({"dead letters", p.dead_letters_offset, dead_letter_region_bytes(c)});
  out.push_back({"error log", p.error_log_offset, 64 + std::uint64_t{c.error_log_capacity} * 256});
  out.push_back({"topic stats", p.topic_stats_offset,
                 std::uint64_t{c.max_agents} * c.max_topics * 64});  // TopicAgentCounters
  return out;
}

void expect_sound_plan(const BusConfig& bc) {
  ASSERT_EQ(validate_config(bc), "");
  const SegmentConfig c = to_segment_config(bc);
  const RegionPlan p = plan_regions(c);
  SCOPED_TRACE("max_payload_bytes " + std::to_string(bc.max_payload_bytes));

  // Slot stride: header plus payload, rounded up to whole cache lines.
  EXPECT_EQ(c.slot_stride % 64, 0u);
  EXPECT_GE(c.slot_stride, 64u + bc.max_payload_bytes);
  EXPECT_LT(c.slot_stride, 64u + bc.max_payload_bytes + 64u);
  EXPECT_EQ(p.slot_stride, c.slot_stride);

  // The header comes first and the agent table right after it.
  EXPECT_EQ(p.agents_offset, 4096u);

  const std::vector<Region> regions = regions_of(p, c);
  std::uint64_t end_of_previous = 4096;  // the header
  for (const Region& r : regions) {
    SCOPED_TRACE(r.what);
    EXPECT_EQ(r.offset % kPage, 0u) << "region not page-aligned";
    EXPECT_GE(r.offset, end_of_previous) << "region overlaps the one before it";
    end_of_previous = r.offset + r.bytes;
  }
  EXPECT_GE(p.total_size, end_of_previous) << "total_size does not cover the last region";
  EXPECT_EQ(p.total_size % kPage, 0u);
  // No slack beyond rounding each region up to a page.
  EXPECT_LT(p.total_size, end_of_previous + kPage);

  // Ring slots start right after the ring header, on a cache line.
  for (std::uint32_t r = 0; r < 4; ++r) EXPECT_EQ((p.rings_offset[r] + 256) % 64, 0u);
}

TEST(LayoutTest, PlanOfSmallConfigIsSound) {
  expect_sound_plan(small_config());
}

TEST(LayoutTest, PlanOfDefaultConfigIsSound) {
  BusConfig c;
  c.name = "layout";
  expect_sound_plan(c);
}

TEST(LayoutTest, PlanIsSoundAtPayloadExtremes) {
  for (std::uint32_t payload : {8u, 63u, 64u, 65u, 192u, 4000u, 65536u}) {
    BusConfig c = small_config();
    c.max_payload_bytes = payload;
    expect_sound_plan(c);
  }
}

TEST(LayoutTest, PlanIsSoundWithoutOptionalRegions) {
  BusConfig c = small_config();
  c.max_barriers = 0;
  c.dead_letter_capacity = 0;
  c.error_log_capacity = 1;
  c.max_agents = 1;
  c.max_topics = 16;
  expect_sound_plan(c);
}

TEST(LayoutTest, PlanOfSmallConfigHasHandComputedOffsets) {
  // max_payload 100 -> stride 192; agents 5 KiB -> topics at 12 KiB (2176 B) -> rings at 16 KiB.
  const RegionPlan p = plan_regions(to_segment_config(small_config()));
  EXPECT_EQ(p.slot_stride, 192u);
  EXPECT_EQ(p.agents_offset, 4096u);
  EXPECT_EQ(p.topics_offset, 12288u);
  EXPECT_EQ(p.rings_offset[0], 16384u);
  // ring 0: 256 + 64 * 192 = 12544 -> 4 pages
  EXPECT_EQ(p.rings_offset[1], 16384u + 16384u);
  // ring 1: 256 + 128 * 192 = 24832 -> 7 pages
  EXPECT_EQ(p.rings_offset[2], 32768u + 28672u);
  // ring 2: 12544 -> 4 pages
  EXPECT_EQ(p.rings_offset[3], 61440u + 16384u);
  // ring 3: 256 + 256 * 192 = 49408 -> 13 pages
  EXPECT_EQ(p.barriers_offset, 77824u + 53248u);
}

TEST(LayoutTest, ConfigRoundTripsThroughSegmentConfig) {
  const BusConfig c = small_config();
  const BusConfig back = to_bus_config(c.name, to_segment_config(c));
  EXPECT_EQ(back.name, c.name);
  EXPECT_EQ(back.ring_capacity, c.ring_capacity);
  EXPECT_EQ(back.max_payload_bytes, c.max_payload_bytes);
  EXPECT_EQ(back.max_agents, c.max_agents);
  EXPECT_EQ(back.max_topics, c.max_topics);
  EXPECT_EQ(back.history_depth, c.history_depth);
  EXPECT_EQ(back.max_barriers, c.max_barriers);
  EXPECT_EQ(back.max_barrier_participants, c.max_barrier_participants);
  EXPECT_EQ(back.barrier_signal_bytes, c.barrier_signal_bytes);
  EXPECT_EQ(back.dead_letter_capacity, c.dead_letter_capacity);
  EXPECT_EQ(back.error_log_capacity, c.error_log_capacity);
  EXPECT_EQ(back.permissions, c.permissions);
}

}  // namespace
}  // namespace shmbus::detail
