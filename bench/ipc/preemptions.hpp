// How often the calling process lost its CPU involuntarily so far: preempted by
// other work, or (counted the same by Linux) a sched_yield that let another task
// run. Each child of a benchmark run reads it just before it exits.
#pragma once

#include <sys/resource.h>

#include <cstdint>

namespace shmbus::bench {

inline std::uint64_t involuntary_context_switches() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_nivcsw);
}

}  // namespace shmbus::bench
