// MachineInfo from /proc, uname and compile-time facts.
#include "machine_info.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <boost/version.hpp>
#include <fstream>

#ifdef SHMBUS_BENCH_HAVE_ZMQ
#include <zmq.h>
#endif

#ifndef SHMBUS_BENCH_BUILD_INFO
#define SHMBUS_BENCH_BUILD_INFO "unknown"
#endif

namespace shmbus::bench {

MachineInfo read_machine_info() {
  MachineInfo info;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) {
      if (const auto colon = line.find(':'); colon != std::string::npos) {
        info.cpu_model = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      break;
    }
  }
  info.online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
  utsname names{};
  if (uname(&names) == 0) info.kernel = std::string(names.sysname) + " " + names.release;
  info.compiler = __VERSION__;
  info.build = SHMBUS_BENCH_BUILD_INFO;
#if defined(__OPTIMIZE__) && defined(NDEBUG)
  info.optimized = true;
#endif
  info.boost_version = std::to_string(BOOST_VERSION / 100000) + "." +
                       std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                       std::to_string(BOOST_VERSION % 100);
#ifdef SHMBUS_BENCH_HAVE_ZMQ
  int major = 0, minor = 0, patch = 0;
  zmq_version(&major, &minor, &patch);
  info.zmq_version =
      std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
#endif
  return info;
}

}  // namespace shmbus::bench
