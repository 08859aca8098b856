// CRC32C: the Boost.CRC reference, the SSE4.2 crc32-instruction path, and the dispatch between
// them made on the first call.
#include "journal/crc32c.hpp"

#include <atomic>
#include <cstring>

#include <boost/crc.hpp>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace shmbus::journal::detail {

namespace {

/// CRC32C as Boost.CRC spells it: reflected polynomial 0x1EDC6F41, init and final xor all ones.
using BoostCrc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

std::uint32_t bit_reverse(std::uint32_t v) noexcept {
  std::uint32_t r = 0;
  for (int i = 0; i < 32; ++i, v >>= 1) r = (r << 1) | (v & 1u);
  return r;
}

}  // namespace

std::uint32_t crc32c_extend_reference(std::uint32_t crc, const void* data,
                                      std::size_t size) noexcept {
  // A finished CRC is the (reflected) remainder xor all ones. Boost takes the initial remainder
  // unreflected and reflects it for a reflected CRC: pass ~crc bit-reversed to resume.
  BoostCrc32c c(bit_reverse(~crc));
  c.process_bytes(data, size);
  return c.checksum();
}

#if defined(__x86_64__)

__attribute__((target("sse4.2"))) std::uint32_t crc32c_extend_hardware(std::uint32_t crc,
                                                                       const void* data,
                                                                       std::size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t c = ~crc;
  // 8 bytes per instruction, unaligned loads (no byte steps to reach alignment: each step costs
  // the instruction's 3-cycle latency, and x86 loads across an 8-byte boundary at no cost here);
  // unrolled by 4 for loop overhead only, since each step depends on the last. Then the tail in
  // 4, 2 and 1-byte steps.
  while (size >= 32) {
    std::uint64_t w[4];
    std::memcpy(w, p, sizeof w);
    c = _mm_crc32_u64(c, w[0]);
    c = _mm_crc32_u64(c, w[1]);
    c = _mm_crc32_u64(c, w[2]);
    c = _mm_crc32_u64(c, w[3]);
    p += 32;
    size -= 32;
  }
  while (size >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    c = _mm_crc32_u64(c, w);
    p += 8;
    size -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  if (size >= 4) {
    std::uint32_t w;
    std::memcpy(&w, p, sizeof w);
    c32 = _mm_crc32_u32(c32, w);
    p += 4;
    size -= 4;
  }
  if (size >= 2) {
    std::uint16_t w;
    std::memcpy(&w, p, sizeof w);
    c32 = _mm_crc32_u16(c32, w);
    p += 2;
    size -= 2;
  }
  if (size != 0) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}

bool crc32c_hardware_available() noexcept {
  // May run before constructors (a static initializer calling crc32c): init the CPU model first.
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}

#else

std::uint32_t crc32c_extend_hardware(std::uint32_t crc, const void* data,
                                     std::size_t size) noexcept {
  return crc32c_extend_reference(crc, data, size);
}

bool crc32c_hardware_available() noexcept {
  return false;
}

#endif

namespace {

using ExtendFn = std::uint32_t (*)(std::uint32_t, const void*, std::size_t) noexcept;
std::uint32_t resolve(std::uint32_t crc, const void* data, std::size_t size) noexcept;
// Constant-initialized to `resolve`, which picks the implementation on the first call (even one
// from another static initializer) and stores it: after that a plain load per call, no CPUID.
std::atomic<ExtendFn> g_extend{&resolve};

std::uint32_t resolve(std::uint32_t crc, const void* data, std::size_t size) noexcept {
  const ExtendFn f =
      crc32c_hardware_available() ? &crc32c_extend_hardware : &crc32c_extend_reference;
  g_extend.store(f, std::memory_order_relaxed);
  return f(crc, data, size);
}

}  // namespace

std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) noexcept {
  return g_extend.load(std::memory_order_relaxed)(crc, data, size);
}

}  // namespace shmbus::journal::detail
