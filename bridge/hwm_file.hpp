// HwmFile: a durable import's high-water mark, a small memory-mapped file in the bridge's state
// directory (it survives a SIGKILL of the bridge; stores are plain, no system call). Before it
// publishes the message of stream sequence S, the importer records the intent (S, the producer
// sequence the local event will carry, and its agent's index and epoch); after the publish it
// records S as done, then acks. A restarted importer that finds an intent newer than `done`
// looks for that event in the local rings' history to learn whether the publish happened.
#pragma once

#include <cstdint>
#include <string>

#include "shmbus/result.hpp"

namespace shmbus::bridge::detail {

struct HwmState {
  std::uint64_t done = 0;          ///< last stream sequence published locally (or skipped)
  std::uint64_t pending = 0;       ///< stream sequence being published; > done while in flight
  std::uint64_t pending_pseq = 0;  ///< producer sequence that publish takes
  std::uint32_t agent_index = 0;   ///< the importing agent of that publish
  std::uint32_t agent_epoch = 0;
};

class HwmFile {
 public:
  HwmFile() = default;
  HwmFile(const HwmFile&) = delete;
  HwmFile& operator=(const HwmFile&) = delete;
  ~HwmFile();
  /// Maps (creating) `path`. `existed` tells whether it held a mark already.
  Result<void> open(const std::string& path, bool& existed);
  HwmState load() const noexcept;
  void set_agent(std::uint32_t index, std::uint32_t epoch) noexcept;
  void begin(std::uint64_t seq, std::uint64_t pseq) noexcept;
  void done(std::uint64_t seq) noexcept;

 private:
  struct Block;
  Block* block_ = nullptr;
};

}  // namespace shmbus::bridge::detail
