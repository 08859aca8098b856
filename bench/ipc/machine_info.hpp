// MachineInfo: what the figures were measured on and how the harness was built,
// recorded with every result so numbers are never quoted without their machine.
#pragma once

#include <string>

namespace shmbus::bench {

struct MachineInfo {
  std::string cpu_model;  ///< /proc/cpuinfo "model name"
  long online_cpus = 0;
  std::string kernel;    ///< uname -sr
  std::string compiler;  ///< __VERSION__
  std::string build;     ///< build type and optimization flags of this binary
  bool optimized = false;
  std::string boost_version;
  std::string zmq_version;  ///< empty when built without ZeroMQ
};

MachineInfo read_machine_info();

}  // namespace shmbus::bench
