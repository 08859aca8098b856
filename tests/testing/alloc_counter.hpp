// Counts heap allocations of the whole test process through a replaced global operator new,
// for the tests that check a path allocates nothing (NoAllocTest, BarrierTest). The
// replacement lives in alloc_counter.cpp, compiled into the test binary itself (a static
// library member might lose to libstdc++'s operator new at link time).
#pragma once

#include <cstdint>

namespace shmbus::testing {

/// Allocations made by operator new / new[] in this process so far, all threads. Compare
/// two readings around the code under test.
std::uint64_t allocations() noexcept;

}  // namespace shmbus::testing
