// Uses the installed supervisor component: validates a SupervisorConfig, which is code that
// lives only in the shmbus::supervisor library (a link error here means the component is broken).
#include <cstdio>

#include "shmbus/supervisor.hpp"

int main() {
  shmbus::SupervisorConfig cfg;
  cfg.bus.name = "pkg";
  const std::string ok = shmbus::validate_supervisor_config(cfg);
  cfg.check_period = std::chrono::nanoseconds(0);
  const std::string bad = shmbus::validate_supervisor_config(cfg);
  std::printf("valid: '%s', invalid: '%s'\n", ok.c_str(), bad.c_str());
  return ok.empty() && !bad.empty() ? 0 : 1;
}
