// CPU selection and pinning for the producer and consumer processes.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace shmbus::bench {

/// CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

struct CpuPlan {
  std::optional<int> producer_cpu;  ///< empty: not pinned
  std::optional<int> consumer_cpu;
  std::string note;  ///< why not pinned, if so
};

/// Uses `requested` ({producer, consumer}) if given, else the first two allowed CPUs;
/// no pinning (with a note) when fewer than two CPUs are available.
CpuPlan plan_cpus(const std::vector<int>& requested);

/// Pins the calling process to `cpu`; returns an error text or empty.
std::string pin_to_cpu(int cpu);

}  // namespace shmbus::bench
