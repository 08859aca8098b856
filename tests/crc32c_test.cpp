// journal/crc32c: the SSE4.2 path gives exactly the Boost.CRC reference's CRC32C, for every
// length 0..300 at every alignment, resumed or not, and the dispatcher agrees with both.
#include "journal/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace shmbus::journal::detail {
namespace {

std::vector<unsigned char> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<unsigned char> v(n);
  for (auto& b : v) b = static_cast<unsigned char>(gen());
  return v;
}

TEST(Crc32cTest, ReferenceMatchesTheCastagnoliCheckValue) {
  // The standard check value of CRC-32C (iSCSI): CRC of "123456789".
  EXPECT_EQ(crc32c_extend_reference(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(Crc32cTest, HardwareEqualsReferenceForEveryLengthAndAlignment) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  const auto pool = random_bytes(300 + 16, 14);
  for (std::size_t align = 0; align < 16; ++align) {
    for (std::size_t len = 0; len <= 300; ++len) {
      const unsigned char* p = pool.data() + align;
      const std::uint32_t want = crc32c_extend_reference(0, p, len);
      ASSERT_EQ(crc32c_extend_hardware(0, p, len), want) << "len " << len << " align " << align;
      ASSERT_EQ(crc32c(p, len), want) << "len " << len << " align " << align;
    }
  }
}

TEST(Crc32cTest, HardwareEqualsReferenceOnRandomBuffersAndSeeds) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937 gen(1414);
  for (int round = 0; round < 2000; ++round) {
    const std::size_t len = gen() % 301;
    const std::size_t align = gen() % 8;
    const auto buf = random_bytes(len + align, static_cast<std::uint32_t>(gen()));
    const std::uint32_t seed = static_cast<std::uint32_t>(gen());
    ASSERT_EQ(crc32c_extend_hardware(seed, buf.data() + align, len),
              crc32c_extend_reference(seed, buf.data() + align, len))
        << "len " << len << " align " << align << " seed " << seed;
  }
}

TEST(Crc32cTest, ExtendingEqualsOneShotOnBothPaths) {
  const auto buf = random_bytes(300, 7);
  const std::uint32_t whole = crc32c_extend_reference(0, buf.data(), buf.size());
  for (std::size_t cut = 0; cut <= buf.size(); ++cut) {
    const std::uint32_t head = crc32c_extend_reference(0, buf.data(), cut);
    ASSERT_EQ(crc32c_extend_reference(head, buf.data() + cut, buf.size() - cut), whole) << cut;
    if (crc32c_hardware_available()) {
      const std::uint32_t hhead = crc32c_extend_hardware(0, buf.data(), cut);
      ASSERT_EQ(crc32c_extend_hardware(hhead, buf.data() + cut, buf.size() - cut), whole) << cut;
    }
  }
}

}  // namespace
}  // namespace shmbus::journal::detail
