// The supervisor's one named spdlog logger ("shmbus.supervisor", stderr). Cold paths only.
// shmbus-supervisor sets its level and pattern; tests get the defaults.
#pragma once

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace shmbus::detail {

inline std::shared_ptr<spdlog::logger> supervisor_logger() {
  static constexpr const char* kName = "shmbus.supervisor";
  if (auto l = spdlog::get(kName)) return l;
  try {
    return spdlog::stderr_color_mt(kName);
  } catch (const spdlog::spdlog_ex&) {  // another thread registered it first
    return spdlog::get(kName);
  }
}

}  // namespace shmbus::detail
