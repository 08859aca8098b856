// Fixed-size text fields of wire payloads (sys_events.hpp, the trading catalogue): NUL-padded
// char arrays with a fixed length, written with set_symbol() and read with symbol_view(). Shared
// by the bus's own protocol and the catalogue, so neither has to include the other.
#pragma once

#include <cstddef>
#include <string_view>

namespace shmbus {

inline constexpr std::size_t kNameLen = 32;  ///< agent / barrier / stage names, up to 31 chars
inline constexpr std::size_t kTextLen = 64;  ///< free-text reason, up to 63 chars

/// Copies `src` into a fixed char field (symbol, name, reason...), truncated to N-1 bytes, and
/// zero-fills the rest so the field is NUL-terminated and no stale bytes reach shared memory.
template <std::size_t N>
constexpr void set_symbol(char (&dst)[N], std::string_view src) noexcept {
  static_assert(N >= 1, "a fixed text field needs room for its NUL");
  const std::size_t n = src.size() < N - 1 ? src.size() : N - 1;
  for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  for (std::size_t i = n; i < N; ++i) dst[i] = '\0';
}

/// The text of a fixed char field: up to its first NUL, never past the array (even when a
/// hostile writer left no NUL).
template <std::size_t N>
constexpr std::string_view symbol_view(const char (&src)[N]) noexcept {
  std::size_t n = 0;
  while (n < N && src[n] != '\0') ++n;
  return std::string_view(src, n);
}

}  // namespace shmbus
