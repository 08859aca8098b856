// HwmFile: a durable import's high-water marks, a small memory-mapped file in the bridge's state
// directory (it survives a SIGKILL of the bridge; stores are plain, no system call). Before it
// publishes an event of the message of stream sequence S, the importer records the intent (S,
// the event's index in the message, its origin ring position, the producer sequence the local
// event will carry, and its agent's index and epoch); after the publish it records the event's
// ring position as imported (one bit per position in a window behind the newest, per priority
// ring of the origin), and after the message's last event S as done, then acks. A restarted
// importer that finds an intent newer than `done` looks for that event in the local rings' history
// to learn whether the publish happened.
#pragma once

#include <cstdint>
#include <string>

#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"

namespace shmbus::bridge::detail {

/// Ring positions whose import the mark of one ring remembers one by one: those from its base
/// on (the newest imported position is within this of the base). An event older than the base
/// counts as imported.
inline constexpr std::uint64_t kHwmRingWindow = 1u << 17;

/// What one priority ring of the origin bus has imported: its bus incarnation (0: nothing yet)
/// and the window's base (a multiple of 64); the bits are in the file.
struct RingMark {
  std::uint64_t incarnation = 0;
  std::uint64_t base = 0;
};

struct HwmRing;  // one ring's bits in the file (hwm_file.cpp)

struct HwmState {
  std::uint64_t done = 0;          ///< last stream sequence published locally (or skipped)
  std::uint64_t pending = 0;       ///< stream sequence being published; > done while in flight
  std::uint64_t pending_pseq = 0;  ///< producer sequence that publish takes (0: none)
  std::uint32_t agent_index = 0;   ///< the importing agent of that publish
  std::uint32_t agent_epoch = 0;
  std::uint64_t pending_index = 0;  ///< the event's index in its message
  /// The event's origin incarnation (0: a message without ring positions, wire version 1),
  /// position and priority: the mark it sets once published.
  std::uint64_t pending_incarnation = 0;
  std::uint64_t pending_position = 0;
  std::uint32_t pending_priority = 0;
  RingMark marks[kPriorityCount];
};

class HwmFile {
 public:
  HwmFile() = default;
  HwmFile(const HwmFile&) = delete;
  HwmFile& operator=(const HwmFile&) = delete;
  ~HwmFile();
  /// Maps (creating) `path`. `existed` tells whether it held a mark already. A version-1 file
  /// (no ring marks) is extended in place.
  Result<void> open(const std::string& path, bool& existed);
  HwmState load() const noexcept;
  void set_agent(std::uint32_t index, std::uint32_t epoch) noexcept;
  /// The intent to publish event `index` of stream sequence `seq` as producer sequence `pseq`;
  /// `incarnation` 0 when the event carries no ring position.
  void begin(std::uint64_t seq, std::uint64_t pseq, std::uint64_t index, std::uint32_t priority,
             std::uint64_t incarnation, std::uint64_t position) noexcept;
  /// The event at `position` of ring `priority` in bus incarnation `incarnation` was imported.
  void mark(std::uint32_t priority, std::uint64_t incarnation, std::uint64_t position) noexcept;
  /// True when that event was imported already (its bit is set, or it is older than the ring's
  /// window), in that incarnation.
  bool seen(std::uint32_t priority, std::uint64_t incarnation,
            std::uint64_t position) const noexcept;
  void done(std::uint64_t seq) noexcept;

 private:
  struct Block;
  HwmRing& ring(std::uint32_t priority) const noexcept;
  Block* block_ = nullptr;
};

}  // namespace shmbus::bridge::detail
