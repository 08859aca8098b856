// CRC32C (Castagnoli, the polynomial iSCSI, ext4 and Kafka use) of journal records, file and
// index headers and checkpoints. Boost.CRC is the reference the project mandates; on CPUs with
// SSE4.2 the same polynomial is computed by the crc32 instruction (checked once at start-up),
// about 20x faster, which the append and replay paths need. tests/crc32c_test.cpp proves both
// give the same result.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shmbus::journal::detail {

/// The CRC32C of `data` appended to bytes whose CRC32C was `crc` (0 for none): crc32c(a + b) ==
/// crc32c_extend(crc32c_extend(0, a), b). Uses the crc32 instruction when the CPU has SSE4.2,
/// else the Boost.CRC reference. Thread-safe, no allocation.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) noexcept;

inline std::uint32_t crc32c(const void* data, std::size_t size) noexcept {
  return crc32c_extend(0, data, size);
}

/// The Boost.CRC (byte table) computation, the reference and the fallback.
std::uint32_t crc32c_extend_reference(std::uint32_t crc, const void* data,
                                      std::size_t size) noexcept;
/// The SSE4.2 computation; only call it when crc32c_hardware_available().
std::uint32_t crc32c_extend_hardware(std::uint32_t crc, const void* data,
                                     std::size_t size) noexcept;
/// True when this CPU has SSE4.2 (and crc32c_extend uses it).
bool crc32c_hardware_available() noexcept;

}  // namespace shmbus::journal::detail
