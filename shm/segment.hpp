// The mapped segment: creation (with the header written last), attach with
// full validation, removal, and typed accessors to its regions. Boost.Interprocess
// creates and maps the shared-memory object; everything after that is ours.
// Used by BusImpl (agents), the supervisor and the CLI.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "shm/layout.hpp"
#include "shm/liveness_lock.hpp"
#include "shmbus/config.hpp"
#include "shmbus/result.hpp"

namespace shmbus::detail {

/// Byte offsets of every region for a configuration (the single source of truth: create
/// writes them, attach recomputes and compares).
struct RegionPlan {
  std::uint64_t agents_offset;
  std::uint64_t topics_offset;
  std::uint64_t rings_offset[kRingCount];
  std::uint64_t barriers_offset;
  std::uint64_t dead_letters_offset;
  std::uint64_t error_log_offset;
  std::uint64_t topic_stats_offset;  // after the error log (layout minor 2)
  std::uint64_t total_size;
  std::uint32_t slot_stride;
};
RegionPlan plan_regions(const SegmentConfig& config);
SegmentConfig to_segment_config(const BusConfig& config);
BusConfig to_bus_config(const std::string& name, const SegmentConfig& config);

/// "shmbus.<name>" (the Boost/POSIX object name) and "/dev/shm/shmbus.<name>".
std::string shm_object_name(std::string_view bus_name);
std::string shm_file_path(std::string_view bus_name);

/// How long open() waits for a creator still initialising (AgentOptions::attach_wait).
inline constexpr std::chrono::nanoseconds kDefaultReadyWait = std::chrono::seconds(1);

class Segment {
 public:
  /// Creates and initialises a new segment. A segment of that name that no live process
  /// holds (stale, from a crash) is replaced; a live one is kAlreadyExists. Exactly one of
  /// several processes creating the same name at once succeeds: the creator locks the very
  /// file it created before anything else, and a stale file is judged and unlinked only under
  /// its creator lock. `ready_wait` is unused (kept for callers): a creator's lock is visible
  /// from its first instant, so there is nothing to wait for.
  static Result<std::unique_ptr<Segment>> create(
      const BusConfig& config, std::chrono::nanoseconds ready_wait = kDefaultReadyWait);
  /// Maps an existing segment and validates header, version, hash, config and regions. A
  /// segment smaller than a header, or whose ready word is 0, is waited for up to
  /// `ready_wait` (its creator may be between create and truncate, or still filling it).
  static Result<std::unique_ptr<Segment>> open(
      std::string_view bus_name, std::chrono::nanoseconds ready_wait = kDefaultReadyWait);
  /// Unlinks a segment; kBusy while live agents or a supervisor hold it, unless force. Judged
  /// under the file's creator lock, like a creator replacing a stale segment, so it never
  /// unlinks a segment another process has just created under the same name.
  static Result<void> remove(std::string_view bus_name, bool force);

  /// kPermission, naming the file's owner, group and mode, unless this segment is owned by
  /// `expected.owner_uid` (-1: this process's effective uid), its mode is no wider than
  /// `expected.permissions`, and, when the mode lets a group in, its group is
  /// `expected.group_gid` (-1: this process's effective gid). A supervisor checks this before
  /// it adopts a live segment that it did not create.
  Result<void> check_owner(const BusConfig& expected) const;
  /// Empty while the file is at least as large as this mapping; else what happened to it (a
  /// file truncated under a mapping raises SIGBUS on the next access past its end).
  std::string check_intact() const;
  /// Replaces this process's mapping with private zero pages at the same address, so that no
  /// later access (destructors, other threads) can fault on a file truncated under it. The
  /// segment is unusable afterwards; only for a process giving a lost segment up.
  void neuter() noexcept;
  /// Unlinks this segment's name if it still names this very file (the creator does this while
  /// it holds its creator lock, so it never unlinks a successor's segment).
  void unlink_own() noexcept;
  /// True while the segment's name still points to the file this process maps. A file can be
  /// judged stale and replaced between another process's open and its first liveness lock; a
  /// process that must own the bus (the supervisor) checks this once it holds its lock.
  bool names_this_file() const noexcept;

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::string& bus_name() const noexcept { return bus_name_; }
  std::byte* base() const noexcept { return base_; }
  std::size_t size() const noexcept { return size_; }
  SegmentHeader& header() const noexcept { return *reinterpret_cast<SegmentHeader*>(base_); }
  const SegmentConfig& config() const noexcept { return config_; }
  const RegionPlan& plan() const noexcept { return plan_; }
  BusConfig bus_config() const { return to_bus_config(bus_name_, config_); }

  /// Record i; callers range-check i against config().max_agents first.
  AgentRecord& agent(std::uint32_t i) const noexcept {
    return reinterpret_cast<AgentRecord*>(base_ + plan_.agents_offset)[i];
  }
  TopicEntry& topic(std::uint32_t i) const noexcept {
    return reinterpret_cast<TopicEntry*>(base_ + plan_.topics_offset)[i];
  }
  RingHeader& ring(std::uint32_t r) const noexcept {
    return *reinterpret_cast<RingHeader*>(base_ + plan_.rings_offset[r]);
  }
  std::byte* ring_slots(std::uint32_t r) const noexcept {
    return base_ + plan_.rings_offset[r] + sizeof(RingHeader);
  }
  SlotHeader& slot(std::uint32_t r, std::uint64_t position) const noexcept {
    const std::uint64_t mask = config_.ring_capacity[r] - 1;
    return *reinterpret_cast<SlotHeader*>(ring_slots(r) + (position & mask) * plan_.slot_stride);
  }
  std::byte* region(std::uint64_t offset) const noexcept { return base_ + offset; }
  /// Agent `agent`'s counters for topic `topic`; callers range-check both first.
  TopicAgentCounters& topic_counters(std::uint32_t agent, std::uint32_t topic) const noexcept {
    return reinterpret_cast<TopicAgentCounters*>(
        base_ + plan_.topic_stats_offset)[std::uint64_t{agent} * config_.max_topics + topic];
  }

  /// This handle's own liveness-lock file (one OFD per Segment object).
  LivenessLocks& locks() noexcept { return locks_; }
  bool agent_alive(std::uint32_t index) const noexcept {
    return locks_.held_by_other(kAgentLockBase + index);
  }
  bool supervisor_alive() const noexcept { return locks_.held_by_other(kSupervisorLockByte); }
  /// True when this handle created the segment (and removes it when asked).
  bool created() const noexcept { return created_; }
  /// What create found and replaced under this name (a stale or corrupt segment, described:
  /// size, owner, mode, layout, creator pid); empty when the name was free.
  const std::string& replaced() const noexcept { return replaced_; }

 private:
  Segment() = default;
  struct Mapping;
  std::unique_ptr<Mapping> mapping_;
  std::string bus_name_;
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  SegmentConfig config_{};
  RegionPlan plan_{};
  LivenessLocks locks_;
  bool created_ = false;
  std::string replaced_;
};

}  // namespace shmbus::detail
