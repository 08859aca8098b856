// CPU selection and pinning (sched_setaffinity).
#include "cpu_affinity.hpp"

#include <sched.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace shmbus::bench {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

CpuPlan plan_cpus(const std::vector<int>& requested) {
  CpuPlan plan;
  if (requested.size() == 2) {
    if (requested[0] == requested[1]) {
      throw std::invalid_argument("--cpus: producer and consumer need two different CPUs");
    }
    plan.producer_cpu = requested[0];
    plan.consumer_cpu = requested[1];
    return plan;
  }
  if (!requested.empty()) throw std::invalid_argument("--cpus takes exactly two CPU numbers");
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) {
    plan.note =
        "fewer than 2 CPUs available: processes not pinned and share a core "
        "(busy-spin figures are meaningless)";
    return plan;
  }
  plan.producer_cpu = cpus[0];
  plan.consumer_cpu = cpus[1];
  return plan;
}

std::string pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    return "sched_setaffinity(cpu " + std::to_string(cpu) + "): " + std::strerror(errno);
  }
  return {};
}

}  // namespace shmbus::bench
