#include "shm/segment.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <thread>

#include "shm/clock.hpp"
#include "shm/control_mutex.hpp"
#include "shm/create_steps.hpp"
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

// One query over the whole lock range: supervisor, creator and every agent byte.
constexpr std::uint64_t kAllLocksLength = kAgentLockBase + 1024 - kLockBase;

std::atomic<CreateStepHook> g_create_step_hook{nullptr};

void create_step(CreateStep step) {
  if (CreateStepHook hook = g_create_step_hook.load(std::memory_order_relaxed)) hook(step);
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "0%03o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string user_text(uid_t uid) {
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[1024];
  std::string text = "uid " + std::to_string(uid);
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    text += " (" + std::string(found->pw_name) + ")";
  }
  return text;
}

std::string group_text(gid_t gid) {
  struct group gr;
  struct group* found = nullptr;
  char buf[1024];
  std::string text = "gid " + std::to_string(gid);
  if (::getgrgid_r(gid, &gr, buf, sizeof buf, &found) == 0 && found != nullptr) {
    text += " (" + std::string(found->gr_name) + ")";
  }
  return text;
}

// Owner, group and mode of an open segment file, for error messages.
std::string ownership_text(const struct stat& st) {
  return "owned by " + user_text(st.st_uid) + ", group " + group_text(st.st_gid) + ", mode " +
         octal_mode(st.st_mode);
}

// What an existing segment file holds, read with pread (a mapping of a file that another
// process may truncate could raise SIGBUS): for the log line of a supervisor that replaces it.
std::string describe_existing(int fd, const struct stat& st) {
  std::string what = "segment of " + std::to_string(st.st_size) + " bytes, " + ownership_text(st);
  unsigned char line0[kCacheLine];
  if (st.st_size < static_cast<off_t>(sizeof(SegmentHeader)) ||
      ::pread(fd, line0, sizeof line0, 0) != static_cast<ssize_t>(sizeof line0)) {
    return what + ", smaller than a header (its creator died before sizing it)";
  }
  auto field = [&](auto& out, std::size_t offset) {
    std::memcpy(&out, line0 + offset, sizeof out);
  };
  std::uint64_t magic = 0;
  std::uint32_t version = 0;
  std::uint32_t ready = 0;
  std::uint32_t creator_pid = 0;
  std::uint64_t created_ns = 0;
  field(magic, offsetof(SegmentHeader, magic));
  field(version, offsetof(SegmentHeader, layout_version));
  field(ready, offsetof(SegmentHeader, ready));
  field(creator_pid, offsetof(SegmentHeader, creator_pid));
  field(created_ns, offsetof(SegmentHeader, creation_time_ns));
  if (magic != kMagic) return what + ", not a shmbus segment (bad magic)";
  what += ", layout " + version_text(version) + ", creator pid " + std::to_string(creator_pid);
  const std::uint64_t now_ns = realtime_ns();
  if (created_ns != 0 && created_ns <= now_ns) {
    what += ", created " + std::to_string((now_ns - created_ns) / 1'000'000'000ull) + " s ago";
  }
  if (ready == kNotReady) return what + ", never initialised (its creator died while creating it)";
  if ((version >> 16) != kLayoutMajor) return what + ", of another layout version";
  return what + ", no live process holds it";
}

// Unlinks the segment file at `path` if, and only if, it is stale: this process takes the
// file's creator lock (so no second process can judge the same file at the same time), finds
// no other liveness lock on it, and checks that the name still points to that file before
// unlinking. Only the holder of a file's creator lock unlinks its name, so the name cannot
// move to another file in between. On success, `found` says what was replaced (empty when
// the name was already gone). kAlreadyExists when a live process holds the file.
Result<void> unlink_if_stale(const std::string& path, bool force, std::string& found) {
  found.clear();
  LivenessLocks locks;
  if (auto e = locks.open(path); !e.empty()) {
    if (errno == ENOENT) return {};  // gone meanwhile: the caller creates again
    if (errno == EACCES || errno == EPERM) return make_error(Errc::kPermission, e);
    return make_error(Errc::kSystem, e);
  }
  struct stat held;
  if (::fstat(locks.fd(), &held) != 0) {
    return make_error(Errc::kSystem, "fstat " + path + ": " + std::strerror(errno));
  }
  if (!force) {
    if (!locks.try_lock(kCreatorLockByte) || locks.held_by_other(kLockBase, kAllLocksLength)) {
      return make_error(
          Errc::kAlreadyExists,
          "segment " + path + " exists and live processes hold it (" + ownership_text(held) + ")");
    }
    create_step(CreateStep::kLockedStale);
  }
  struct stat named;
  if (::stat(path.c_str(), &named) != 0 || named.st_ino != held.st_ino ||
      named.st_dev != held.st_dev) {
    return {};  // already replaced by the process that held it before us
  }
  found = describe_existing(locks.fd(), held);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    return make_error(
        err == EACCES || err == EPERM ? Errc::kPermission : Errc::kSystem,
        "cannot remove the stale " + found + " at " + path + ": " + std::strerror(err));
  }
  return {};
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
  (void)ready_wait;  // a creator holds its lock from the first instant: nothing to wait for
  for (int attempt = 0;; ++attempt) {
    try {
      bip::permissions perm(static_cast<int>(config.permissions));
      seg->mapping_->object =
          bip::shared_memory_object(bip::create_only, obj.c_str(), bip::read_write, perm);
      break;
    } catch (const bip::interprocess_exception& e) {
      if (e.get_error_code() != bip::already_exists_error || attempt >= 3) {
        return boost_error(Errc::kSystem, "create segment " + obj, e);
      }
    }
    // It exists. A segment that no live process holds is left over from a crash (or was
    // never finished): replace it. One whose creator lock or any other lock is held is live.
    std::string found;
    if (auto stale = unlink_if_stale(path, /*force=*/false, found); !stale) {
      return stale.error();
    }
    if (!found.empty()) seg->replaced_ = found;
  }
  const int fd = seg->mapping_->object.get_mapping_handle().handle;
  create_step(CreateStep::kCreatedExclusive);
  // The creator lock goes on the file this process created (a duplicate of the descriptor the
  // exclusive create returned), never on a file reopened by name.
  const int lock_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (lock_fd < 0) return make_error(Errc::kSystem, "dup " + path + ": " + std::strerror(errno));
  seg->locks_.adopt(lock_fd);
  struct stat ours;
  struct stat named;
  if (!seg->locks_.try_lock(kCreatorLockByte) || ::fstat(fd, &ours) != 0 ||
      ::stat(path.c_str(), &named) != 0 || named.st_ino != ours.st_ino ||
      named.st_dev != ours.st_dev) {
    // Another creator judged our file, not yet locked, as stale and replaced it (or holds its
    // lock to do so). It owns the name now; our file is, or is about to be, unlinked.
    return make_error(Errc::kAlreadyExists,
                      "segment " + obj + " is being created by another process (lost the race)");
  }
  create_step(CreateStep::kLockedNew);
  const gid_t group =
      config.group_gid >= 0 ? static_cast<gid_t>(config.group_gid) : static_cast<gid_t>(-1);
  if (group != static_cast<gid_t>(-1) && ::fchown(fd, static_cast<uid_t>(-1), group) != 0) {
    const int err = errno;
    (void)::unlink(path.c_str());
    return make_error(
        err == EPERM ? Errc::kPermission : Errc::kSystem,
        "give segment " + obj + " to " + group_text(group) + ": " + std::strerror(err));
  }
  try {
    seg->mapping_->object.truncate(static_cast<bip::offset_t>(plan.total_size));
    seg->mapping_->region = bip::mapped_region(seg->mapping_->object, bip::read_write);
  } catch (const bip::interprocess_exception& e) {
    (void)::unlink(path.c_str());
    return boost_error(Errc::kSystem, "size/map segment " + obj, e);
  }
  // shm_open applies the umask; set the requested mode exactly.
  ::fchmod(fd, static_cast<mode_t>(config.permissions));

  seg->base_ = static_cast<std::byte*>(seg->mapping_->region.get_address());
  seg->size_ = seg->mapping_->region.get_size();
  seg->config_ = sc;
  seg->plan_ = plan;
  seg->created_ = true;

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
    (void)::unlink(path.c_str());
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
  // The liveness locks go on the file this process mapped (a duplicate of its descriptor),
  // never on a file reopened by name: the name may have moved to a successor meanwhile.
  const int lock_fd =
      ::fcntl(seg->mapping_->object.get_mapping_handle().handle, F_DUPFD_CLOEXEC, 0);
  if (lock_fd < 0) {
    return make_error(Errc::kSystem,
                      "dup " + shm_file_path(bus_name) + ": " + std::strerror(errno));
  }
  seg->locks_.adopt(lock_fd);
  return seg;
}

Result<void> Segment::remove(std::string_view bus_name, bool force) {
  if (auto e = validate_bus_name(std::string(bus_name)); !e.empty()) {
    return make_error(Errc::kInvalidArgument, e);
  }
  const std::string obj = shm_object_name(bus_name);
  const std::string path = shm_file_path(bus_name);
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    return make_error(Errc::kNotFound, "no segment " + obj + " to remove");
  }
  // The same judgement as a creator replacing a stale segment, under the file's creator lock:
  // a supervisor that stops cannot unlink the segment a newer supervisor has just created.
  std::string found;
  if (auto removed = unlink_if_stale(path, force, found); !removed) {
    if (removed.code() == Errc::kAlreadyExists) {
      return make_error(Errc::kBusy, "segment " + obj + " is held by live processes; not removed");
    }
    return removed.error();
  }
  return {};
}

Result<void> Segment::check_owner(const BusConfig& expected) const {
  struct stat st;
  if (::fstat(locks_.fd(), &st) != 0) {
    return make_error(Errc::kSystem,
                      "fstat " + shm_file_path(bus_name_) + ": " + std::strerror(errno));
  }
  const uid_t owner =
      expected.owner_uid >= 0 ? static_cast<uid_t>(expected.owner_uid) : ::geteuid();
  const gid_t group =
      expected.group_gid >= 0 ? static_cast<gid_t>(expected.group_gid) : ::getegid();
  const mode_t mode = st.st_mode & 07777;
  const mode_t allowed = static_cast<mode_t>(expected.permissions) & 07777;
  const bool group_may_access = (mode & 0070) != 0;
  std::string wrong;
  if (st.st_uid != owner) {
    wrong = "its owner is not " + user_text(owner);
  } else if ((mode & ~allowed) != 0) {
    wrong = "its mode is wider than " + octal_mode(allowed);
  } else if (group_may_access && st.st_gid != group) {
    wrong = "its group, which may access it, is not " + group_text(group);
  }
  if (wrong.empty()) return {};
  return make_error(Errc::kPermission, "segment " + shm_file_path(bus_name_) + " is " +
                                           ownership_text(st) + ": " + wrong +
                                           "; refusing to adopt it (remove it, or allow its "
                                           "owner, group and mode in the bus config)");
}

std::string Segment::check_intact() const {
  struct stat st;
  if (::fstat(locks_.fd(), &st) != 0) return {};  // cannot tell; the mapping still stands
  if (static_cast<std::uint64_t>(st.st_size) >= size_) return {};
  return "segment " + shm_file_path(bus_name_) + " was truncated to " + std::to_string(st.st_size) +
         " bytes under this process (it maps " + std::to_string(size_) + ")";
}

void Segment::neuter() noexcept {
  if (base_ == nullptr || size_ == 0) return;
  (void)::mmap(base_, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
               0);
}

bool Segment::names_this_file() const noexcept {
  const std::string path = shm_file_path(bus_name_);
  struct stat ours;
  struct stat named;
  return ::fstat(locks_.fd(), &ours) == 0 && ::stat(path.c_str(), &named) == 0 &&
         named.st_ino == ours.st_ino && named.st_dev == ours.st_dev;
}

void Segment::unlink_own() noexcept {
  if (names_this_file()) (void)::unlink(shm_file_path(bus_name_).c_str());
}

void set_create_step_hook(CreateStepHook hook) noexcept {
  g_create_step_hook.store(hook, std::memory_order_relaxed);
}

}  // namespace shmbus::detail
