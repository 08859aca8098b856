// DeadLetterArea: the process-local view of the segment's dead-letter ring
// (shm/dead_letter_layout.hpp). Dispatchers append failed events (noexcept, no
// allocation); list_dead_letters and the CLI read copies. Any thread may call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shm/dead_letter_layout.hpp"
#include "shm/segment.hpp"

namespace shmbus::detail {

/// What a dispatcher records about one failed handler call.
struct DeadLetterRecord {
  const SlotHeader* event = nullptr;  // header of the failed event (topic, producer, ...)
  const std::byte* payload = nullptr;
  std::uint32_t length = 0;
  std::uint8_t priority = 0;
  std::uint32_t failing_agent = 0;
  std::uint64_t failed_ns = 0;
  std::string_view handler;
  std::string_view reason;
};

/// A copy of one committed entry (fields as in DeadLetterEntry).
struct DeadLetterCopy {
  std::uint64_t index = 0;  // entry index (head value when it was written)
  std::uint64_t timestamp_ns = 0;
  std::uint64_t producer_seq = 0;
  std::uint64_t failed_ns = 0;
  std::uint32_t topic_id = 0;
  std::uint32_t producer = 0;
  std::uint32_t producer_epoch = 0;
  std::uint32_t failing_agent = 0;
  std::uint16_t flags = 0;
  std::uint16_t schema_version = 0;
  std::uint8_t priority = 0;
  std::string handler;
  std::string reason;
  std::vector<std::byte> payload;
};

class DeadLetterArea {
 public:
  explicit DeadLetterArea(const Segment& segment) noexcept;

  /// Appends a letter; drops the oldest when full. False when the area has no capacity or
  /// this letter was dropped (another writer held its entry). noexcept, no allocation.
  bool write(const DeadLetterRecord& rec) noexcept;
  /// Committed entries, oldest first (entries overwritten while copied are skipped).
  std::vector<DeadLetterCopy> read() const;

  std::uint64_t written() const noexcept;  // entries ever claimed
  std::uint64_t dropped() const noexcept;
  std::uint32_t capacity() const noexcept { return capacity_; }

 private:
  DeadLetterEntry& entry(std::uint64_t index) const noexcept {
    return *reinterpret_cast<DeadLetterEntry*>(entries_ + (index % capacity_) * stride_);
  }

  DeadLetterHeader* header_ = nullptr;
  std::byte* entries_ = nullptr;
  std::uint32_t capacity_ = 0;
  std::uint64_t stride_ = 0;
  std::uint32_t max_payload_ = 0;
};

}  // namespace shmbus::detail
