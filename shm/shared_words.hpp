// Word-wise copies into and out of a seqlock-protected area of the segment (dead-letter
// entries, error-log entries). Readers copy data words while a writer may be rewriting them
// and then discard such copies (seq re-check, checksum); doing the copies as relaxed 8-byte
// atomics keeps that race defined C++ (and TSan quiet); on x86 they are plain moves. Not API.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmbus::detail {

/// Copies `bytes` from `src` to the shared area at `shared` (8-byte aligned; the area behind
/// it is a whole number of words).
inline void store_words(std::byte* shared, const std::byte* src, std::size_t bytes) noexcept {
  auto* words = reinterpret_cast<std::uint64_t*>(shared);
  for (std::size_t i = 0; i < bytes; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, src + i, std::min<std::size_t>(8, bytes - i));
    std::atomic_ref<std::uint64_t>(words[i / 8]).store(w, std::memory_order_relaxed);
  }
}

/// Copies `bytes` from the shared area at `shared` (8-byte aligned) to `dst`.
inline void load_words(std::byte* dst, const std::byte* shared, std::size_t bytes) noexcept {
  auto* words = reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(shared));
  for (std::size_t i = 0; i < bytes; i += 8) {
    const std::uint64_t w =
        std::atomic_ref<std::uint64_t>(words[i / 8]).load(std::memory_order_relaxed);
    std::memcpy(dst + i, &w, std::min<std::size_t>(8, bytes - i));
  }
}

}  // namespace shmbus::detail
