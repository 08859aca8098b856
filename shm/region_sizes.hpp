// Sizes of the regions whose internals live in their own layout headers
// (barriers, dead letters), so plan_regions can place them.
#pragma once

#include <cstdint>

#include "shm/layout.hpp"

namespace shmbus::detail {

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

/// One barrier: a 256-byte header, then per participant a 64-byte record and its signal.
constexpr std::uint64_t barrier_record_bytes(const SegmentConfig& c) {
  return 256 + std::uint64_t{c.max_barrier_participants} *
                   (64 + align_up(c.barrier_signal_bytes, kCacheLine));
}
constexpr std::uint64_t barrier_region_bytes(const SegmentConfig& c) {
  return align_up(std::uint64_t{c.max_barriers} * barrier_record_bytes(c), 4096);
}

/// Dead letters: a 64-byte header, then entries of a 64-byte head plus the payload.
constexpr std::uint64_t dead_letter_entry_bytes(const SegmentConfig& c) {
  return 64 + 128 + align_up(c.max_payload_bytes, kCacheLine);
}
constexpr std::uint64_t dead_letter_region_bytes(const SegmentConfig& c) {
  return align_up(64 + std::uint64_t{c.dead_letter_capacity} * dead_letter_entry_bytes(c), 4096);
}

}  // namespace shmbus::detail
