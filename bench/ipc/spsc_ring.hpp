// SpscRing: the minimal single-producer single-consumer ring in shared memory
// that serves as the floor of the comparison (rigtorp/SPSCQueue style): 64-bit
// positions that only grow, head and tail on their own cache lines, each side
// caching the other's position and re-reading it only when the cache says
// full/empty, fixed-size slots holding the message inline. Used by the
// spsc-ring and spsc-futex transports; it never waits, its callers choose how.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>

#include "shared_mapping.hpp"

namespace shmbus::bench {

struct SpscRingHeader {
  /// Next position the producer writes; written by the producer only.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> tail{0};
  /// Next position the consumer reads; written by the consumer only.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> head{0};
  /// Immutable after init, on a line of its own so reading it never contends.
  alignas(kCacheLineBytes) std::uint64_t capacity = 0;  // power of two
  std::uint64_t slot_bytes = 0;                         // message_bytes rounded up to 8
  std::uint64_t message_bytes = 0;
};
static_assert(sizeof(SpscRingHeader) == 3 * kCacheLineBytes);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

class SpscRing {
 public:
  static std::size_t slot_bytes_for(std::size_t message_bytes) {
    return (message_bytes + 7) / 8 * 8;
  }
  static std::size_t bytes_needed(std::size_t capacity, std::size_t message_bytes) {
    return sizeof(SpscRingHeader) + std::bit_ceil(capacity) * slot_bytes_for(message_bytes);
  }
  /// Formats `memory` (bytes_needed() long, zeroed); called once, in the parent.
  static SpscRingHeader* init(std::byte* memory, std::size_t capacity, std::size_t message_bytes) {
    auto* header = new (memory) SpscRingHeader{};
    header->capacity = std::bit_ceil(capacity);
    header->slot_bytes = slot_bytes_for(message_bytes);
    header->message_bytes = message_bytes;
    return header;
  }
};

/// Producer-side view; lives in the producer process.
class SpscRingWriter {
 public:
  explicit SpscRingWriter(SpscRingHeader* header)
      : header_(header),
        slots_(reinterpret_cast<std::byte*>(header + 1)),
        mask_(header->capacity - 1),
        slot_bytes_(header->slot_bytes),
        message_bytes_(header->message_bytes),
        tail_(header->tail.load(std::memory_order_relaxed)),
        head_cache_(header->head.load(std::memory_order_acquire)) {}

  /// Copies `message` into the next slot and publishes it; false if the ring is full.
  bool try_push(std::span<const std::byte> message) noexcept {
    if (tail_ - head_cache_ > mask_) {
      head_cache_ = header_->head.load(std::memory_order_acquire);
      if (tail_ - head_cache_ > mask_) return false;
    }
    std::memcpy(slots_ + (tail_ & mask_) * slot_bytes_, message.data(), message_bytes_);
    ++tail_;
    header_->tail.store(tail_, std::memory_order_release);  // the slot's bytes before the index
    return true;
  }

  std::size_t message_bytes() const noexcept { return message_bytes_; }

 private:
  SpscRingHeader* header_;
  std::byte* slots_;
  std::uint64_t mask_;
  std::uint64_t slot_bytes_;
  std::uint64_t message_bytes_;
  std::uint64_t tail_;
  std::uint64_t head_cache_;
};

/// Consumer-side view; lives in the consumer process.
class SpscRingReader {
 public:
  explicit SpscRingReader(SpscRingHeader* header)
      : header_(header),
        slots_(reinterpret_cast<std::byte*>(header + 1)),
        mask_(header->capacity - 1),
        slot_bytes_(header->slot_bytes),
        message_bytes_(header->message_bytes),
        head_(header->head.load(std::memory_order_relaxed)),
        tail_cache_(header->tail.load(std::memory_order_acquire)) {}

  /// Copies the next message into `buffer` and frees its slot; 0 if the ring is empty.
  std::size_t try_pop(std::span<std::byte> buffer) noexcept {
    if (head_ == tail_cache_) {
      tail_cache_ = header_->tail.load(std::memory_order_acquire);
      if (head_ == tail_cache_) return 0;
    }
    std::memcpy(buffer.data(), slots_ + (head_ & mask_) * slot_bytes_, message_bytes_);
    ++head_;
    header_->head.store(head_,
                        std::memory_order_release);  // done reading before the slot is reused
    return message_bytes_;
  }

  /// True if the producer has published past our position (re-reads the shared tail).
  bool has_pending() noexcept {
    tail_cache_ = header_->tail.load(std::memory_order_acquire);
    return head_ != tail_cache_;
  }

  std::size_t message_bytes() const noexcept { return message_bytes_; }

 private:
  SpscRingHeader* header_;
  std::byte* slots_;
  std::uint64_t mask_;
  std::uint64_t slot_bytes_;
  std::uint64_t message_bytes_;
  std::uint64_t head_;
  std::uint64_t tail_cache_;
};

}  // namespace shmbus::bench
