#include "shm/segment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstring>
#include <thread>

#include "shm/clock.hpp"
#include "shm/control_mutex.hpp"
#include "shm/error_log_layout.hpp"
#include "shm/layout_hash.hpp"
#include "shm/process_info.hpp"
#include "shm/region_sizes.hpp"

namespace bip = boost::interprocess;

namespace shmbus::detail {

struct Segment::Mapping {
  bip::shared_memory_object object;
  bip::mapped_region region;
};

namespace {

Error boost_error(Errc fallback, const std::string& what, const bip::interprocess_exception& e) {
  Errc code = fallback;
  switch (e.get_error_code()) {
    case bip::not_found_error:
      code = Errc::kNotFound;
      break;
    case bip::already_exists_error:
      code = Errc::kAlreadyExists;
      break;
    case bip::security_error:
      code = Errc::kPermission;
      break;
    default:
      break;
  }
  return make_error(code, what + ": " + e.what());
}

std::string version_text(std::uint32_t v) {
  return std::to_string(v >> 16) + "." + std::to_string(v & 0xFFFF);
}

// Any liveness lock (supervisor, creator, agents) held by a process other than us.
bool any_live_holder(const std::string& path) {
  LivenessLocks locks;
  if (!locks.open(path).empty()) return false;
  // One query over the whole lock range: supervisor, creator and every agent byte.
  return locks.held_by_other(kLockBase, kAgentLockBase + 1024 - kLockBase);
}

// Sleeps one round of a wait (at most `round`, never past the deadline); false once the
// deadline has passed, so a caller re-checks its condition after every sleep.
bool wait_round(std::uint64_t deadline_ns, std::chrono::nanoseconds round) {
  const std::uint64_t now = monotonic_ns();
  if (now >= deadline_ns) return false;
  const auto left = std::chrono::nanoseconds(deadline_ns - now);
  std::this_thread::sleep_for(std::min(left, round));
  return true;
}

}  // namespace

SegmentConfig to_segment_config(const BusConfig& c) {
  SegmentConfig s{};
  for (std::uint32_t r = 0; r < kRingCount; ++r) s.ring_capacity[r] = c.ring_capacity[r];
  s.max_payload_bytes = c.max_payload_bytes;
  s.slot_stride =
      static_cast<std::uint32_t>(align_up(sizeof(SlotHeader) + c.max_payload_bytes, kCacheLine));
  s.max_agents = c.max_agents;
  s.max_topics = c.max_topics;
  s.history_depth = c.history_depth;
  s.max_barriers = c.max_barriers;
  s.max_barrier_participants = c.max_barrier_participants;
  s.barrier_signal_bytes = c.barrier_signal_bytes;
  s.dead_letter_capacity = c.dead_letter_capacity;
  s.error_log_capacity = c.error_log_capacity;
  s.permissions = c.permissions;
  return s;
}

BusConfig to_bus_config(const std::string& name, const SegmentConfig& s) {
  BusConfig c;
  c.name = name;
  for (std::uint32_t r = 0; r < kRingCount; ++r) c.ring_capacity[r] = s.ring_capacity[r];
  c.max_payload_bytes = s.max_payload_bytes;
  c.max_agents = s.max_agents;
  c.max_topics = s.max_topics;
  c.history_depth = s.history_depth;
  c.max_barriers = s.max_barriers;
  c.max_barrier_participants = s.max_barrier_participants;
  c.barrier_signal_bytes = s.barrier_signal_bytes;
  c.dead_letter_capacity = s.dead_letter_capacity;
  c.error_log_capacity = s.error_log_capacity;
  c.permissions = s.permissions;
  return c;
}

RegionPlan plan_regions(const SegmentConfig& c) {
  RegionPlan p{};
  p.slot_stride = c.slot_stride;
  std::uint64_t off = sizeof(SegmentHeader);
  p.agents_offset = off;
  off = align_up(off + std::uint64_t{c.max_agents} * sizeof(AgentRecord), 4096);
  p.topics_offset = off;
  off = align_up(off + std::uint64_t{c.max_topics} * sizeof(TopicEntry), 4096);
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    p.rings_offset[r] = off;
    off = align_up(off + sizeof(RingHeader) + std::uint64_t{c.ring_capacity[r]} * c.slot_stride,
                   4096);
  }
  p.barriers_offset = off;
  off += barrier_region_bytes(c);
  p.dead_letters_offset = off;
  off += dead_letter_region_bytes(c);
  p.error_log_offset = off;
  off = align_up(
      off + sizeof(ErrorLogHeader) + std::uint64_t{c.error_log_capacity} * sizeof(ErrorLogEntry),
      4096);
  p.topic_stats_offset = off;
  off += topic_stats_region_bytes(c);
  p.total_size = off;
  return p;
}

std::string shm_object_name(std::string_view bus_name) {
  return "shmbus." + std::string(bus_name);
}

std::string shm_file_path(std::string_view bus_name) {
  return "/dev/shm/" + shm_object_name(bus_name);
}

Segment::~Segment() = default;

Result<std::unique_ptr<Segment>> Segment::create(const BusConfig& config,
                                                 std::chrono::nanoseconds ready_wait) {
  if (auto e = validate_config(config); !e.empty()) return make_error(Errc::kInvalidArgument, e);
  const std::string obj = shm_object_name(config.name);
  const std::string path = shm_file_path(config.name);
  const SegmentConfig sc = to_segment_config(config);
  const RegionPlan plan = plan_regions(sc);

  auto seg = std::unique_ptr<Segment>(new Segment());
  seg->bus_name_ = config.name;
  seg->mapping_ = std::make_unique<Mapping>();
  for (int attempt = 0;; ++attempt) {
    try {
      bip::permissions perm(static_cast<int>(config.permissions));
      seg->mapping_->object =
          bip::shared_memory_object(bip::create_only, obj.c_str(), bip::read_write, perm);
      break;
    } catch (const bip::interprocess_exception& e) {
      if (e.get_error_code() != bip::already_exists_error || attempt > 0) {
        return boost_error(Errc::kSystem, "create segment " + obj, e);
      }
    }
    // It exists. A segment that no live process holds is left over from a crash: replace it.
    // One still initialising (ready == 0) gets a moment to finish first.
    if (any_live_holder(path)) {
      return make_error(Errc::kAlreadyExists,
                        "segment " + obj + " exists and live processes hold it");
    }
    auto existing = Segment::open(config.name, ready_wait);
    if (!existing && existing.code() == Errc::kNotReady && any_live_holder(path)) {
      return make_error(Errc::kAlreadyExists,
                        "segment " + obj + " is being created by another process");
    }
    bip::shared_memory_object::remove(obj.c_str());
  }
  try {
    seg->mapping_->object.truncate(static_cast<bip::offset_t>(plan.total_size));
    seg->mapping_->region = bip::mapped_region(seg->mapping_->object, bip::read_write);
  } catch (const bip::interprocess_exception& e) {
    bip::shared_memory_object::remove(obj.c_str());
    return boost_error(Errc::kSystem, "size/map segment " + obj, e);
  }
  // shm_open applies the umask; set the requested mode exactly.
  ::fchmod(seg->mapping_->object.get_mapping_handle().handle,
           static_cast<mode_t>(config.permissions));

  seg->base_ = static_cast<std::byte*>(seg->mapping_->region.get_address());
  seg->size_ = seg->mapping_->region.get_size();
  seg->config_ = sc;
  seg->plan_ = plan;
  seg->created_ = true;
  if (auto e = seg->locks_.open(path); !e.empty()) return make_error(Errc::kSystem, e);
  seg->locks_.try_lock(kCreatorLockByte);

  // The object is zero-filled by truncate. Fill the header; `ready` goes last.
  SegmentHeader& h = seg->header();
  h.magic = kMagic;
  h.layout_version = kLayoutVersion;
  h.layout_hash = kLayoutHash;
  h.total_size = plan.total_size;
  h.creation_time_ns = realtime_ns();
  h.creator_pid = static_cast<std::uint32_t>(::getpid());
  h.creator_start_time = process_start_time(::getpid());
  h.error_log_offset = plan.error_log_offset;
  h.config = sc;
  h.regions.agents_offset = plan.agents_offset;
  h.regions.topics_offset = plan.topics_offset;
  for (std::uint32_t r = 0; r < kRingCount; ++r) h.regions.rings_offset[r] = plan.rings_offset[r];
  h.regions.barriers_offset = plan.barriers_offset;
  h.regions.dead_letters_offset = plan.dead_letters_offset;
  h.topic_stats_offset = plan.topic_stats_offset;
  auto& dead_letters = *reinterpret_cast<DeadLetterHeader*>(seg->region(plan.dead_letters_offset));
  dead_letters.capacity = sc.dead_letter_capacity;  // informational: readers use the config
  dead_letters.entry_stride = static_cast<std::uint32_t>(dead_letter_entry_bytes(sc));
  if (auto e = init_robust_mutex(&h.control_mutex); !e.empty()) {
    bip::shared_memory_object::remove(obj.c_str());
    return make_error(Errc::kSystem, "init control mutex: " + e);
  }
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    RingHeader& ring = seg->ring(r);
    ring.capacity = sc.ring_capacity[r];
    ring.slot_stride = sc.slot_stride;
    ring.slots_offset = plan.rings_offset[r] + sizeof(RingHeader);
  }
  h.ready.store(kLayoutVersion, std::memory_order_release);
  return seg;
}

Result<std::unique_ptr<Segment>> Segment::open(std::string_view bus_name,
                                               std::chrono::nanoseconds ready_wait) {
  if (auto e = validate_bus_name(std::string(bus_name)); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  const std::string obj = shm_object_name(bus_name);
  auto seg = std::unique_ptr<Segment>(new Segment());
  seg->bus_name_ = std::string(bus_name);
  seg->mapping_ = std::make_unique<Mapping>();
  bip::offset_t file_size = 0;
  try {
    seg->mapping_->object = bip::shared_memory_object(bip::open_only, obj.c_str(), bip::read_write);
    seg->mapping_->object.get_size(file_size);
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::not_found_error) {
      return make_error(Errc::kNotFound, "no bus '" + std::string(bus_name) +
                                             "' (segment /dev/shm/" + obj +
                                             " does not exist; is the supervisor running?)");
    }
    return boost_error(Errc::kSystem, "open segment " + obj, e);
  }
  // One deadline for both waits below, checked on every round.
  const std::uint64_t deadline_ns =
      monotonic_ns() + static_cast<std::uint64_t>(std::max<std::int64_t>(ready_wait.count(), 0));
  if (file_size < static_cast<bip::offset_t>(sizeof(SegmentHeader))) {
    // A creator may be between create and truncate.
    while (file_size < static_cast<bip::offset_t>(sizeof(SegmentHeader)) &&
           wait_round(deadline_ns, std::chrono::milliseconds(10))) {
      seg->mapping_->object.get_size(file_size);
    }
    if (file_size < static_cast<bip::offset_t>(sizeof(SegmentHeader))) {
      return make_error(Errc::kCorrupt, "segment " + obj + " is " + std::to_string(file_size) +
                                            " bytes, smaller than a header");
    }
  }
  try {
    seg->mapping_->region = bip::mapped_region(seg->mapping_->object, bip::read_write);
  } catch (const bip::interprocess_exception& e) {
    return boost_error(Errc::kSystem, "map segment " + obj, e);
  }
  seg->base_ = static_cast<std::byte*>(seg->mapping_->region.get_address());
  seg->size_ = seg->mapping_->region.get_size();
  SegmentHeader& h = seg->header();

  std::uint32_t ready = h.ready.load(std::memory_order_acquire);
  while (ready == kNotReady && wait_round(deadline_ns, std::chrono::milliseconds(5))) {
    ready = h.ready.load(std::memory_order_acquire);
  }
  if (h.magic != kMagic) {
    return make_error(Errc::kCorrupt, "segment " + obj + " is not a shmbus segment (bad magic)");
  }
  if (ready == kNotReady) {
    return make_error(Errc::kNotReady,
                      "segment " + obj + " is not initialised (creator still working or died)");
  }
  if ((ready >> 16) != kLayoutMajor || (h.layout_version >> 16) != kLayoutMajor) {
    return make_error(Errc::kVersionMismatch, "segment " + obj + ": layout " +
                                                  version_text(h.layout_version) + ", build " +
                                                  version_text(kLayoutVersion));
  }
  if (h.layout_hash != kLayoutHash) {
    return make_error(Errc::kVersionMismatch,
                      "segment " + obj + ": layout hash differs from this build's (same version " +
                          version_text(kLayoutVersion) + ", different struct layout)");
  }
  BusConfig bc = to_bus_config(std::string(bus_name), h.config);
  if (auto e = validate_config(bc); !e.empty()) {
    return make_error(Errc::kCorrupt, "segment " + obj + " header config invalid: " + e);
  }
  SegmentConfig expect = to_segment_config(bc);
  if (std::memcmp(&expect, &h.config, sizeof(SegmentConfig)) != 0) {
    return make_error(Errc::kCorrupt,
                      "segment " + obj + " header config inconsistent (slot stride)");
  }
  RegionPlan plan = plan_regions(h.config);
  if (h.total_size != plan.total_size || seg->size_ < plan.total_size) {
    return make_error(Errc::kCorrupt, "segment " + obj + " size " + std::to_string(seg->size_) +
                                          " does not match its config (" +
                                          std::to_string(plan.total_size) + ")");
  }
  bool regions_ok = h.regions.agents_offset == plan.agents_offset &&
                    h.regions.topics_offset == plan.topics_offset &&
                    h.regions.barriers_offset == plan.barriers_offset &&
                    h.regions.dead_letters_offset == plan.dead_letters_offset &&
                    h.error_log_offset == plan.error_log_offset &&
                    h.topic_stats_offset == plan.topic_stats_offset;
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    regions_ok = regions_ok && h.regions.rings_offset[r] == plan.rings_offset[r];
  }
  if (!regions_ok) return make_error(Errc::kCorrupt, "segment " + obj + " region table corrupt");
  seg->config_ = h.config;
  seg->plan_ = plan;
  for (std::uint32_t r = 0; r < kRingCount; ++r) {
    const RingHeader& ring = seg->ring(r);
    if (ring.capacity != h.config.ring_capacity[r] || ring.slot_stride != h.config.slot_stride ||
        ring.slots_offset != plan.rings_offset[r] + sizeof(RingHeader)) {
      return make_error(Errc::kCorrupt,
                        "segment " + obj + " ring " + std::to_string(r) + " header corrupt");
    }
  }
  if (h.topic_count.load(std::memory_order_acquire) > h.config.max_topics) {
    return make_error(Errc::kCorrupt, "segment " + obj + " topic count exceeds max_topics");
  }
  if (auto e = seg->locks_.open(shm_file_path(bus_name)); !e.empty()) {
    return make_error(Errc::kSystem, e);
  }
  return seg;
}

Result<void> Segment::remove(std::string_view bus_name, bool force) {
  if (auto e = validate_bus_name(std::string(bus_name)); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  const std::string obj = shm_object_name(bus_name);
  if (!force && any_live_holder(shm_file_path(bus_name))) {
    return make_error(Errc::kBusy, "segment " + obj + " is held by live processes; not removed");
  }
  if (!bip::shared_memory_object::remove(obj.c_str())) {
    return make_error(Errc::kNotFound, "no segment " + obj + " to remove");
  }
  return {};
}

}  // namespace shmbus::detail
