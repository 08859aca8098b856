// Number formatting and floor lookup shared by the reports.
#include <cmath>
#include <cstdio>

#include "report.hpp"
#include "transport_registry.hpp"

namespace shmbus::bench {

const CaseResult* find_floor_case(const std::vector<CaseResult>& cases, const CaseResult& of) {
  for (const CaseResult& c : cases) {
    if (c.transport.name == kFloorTransport && c.mode == of.mode &&
        c.message_bytes == of.requested_message_bytes && c.ok_runs() > 0) {
      return &c;
    }
  }
  return nullptr;
}

std::string format_duration_ns(double ns) {
  char text[32];
  const double us = ns / 1000.0;
  if (us < 10) {
    std::snprintf(text, sizeof text, "%.2f µs", us);
  } else if (us < 100) {
    std::snprintf(text, sizeof text, "%.1f µs", us);
  } else if (us < 1000) {
    std::snprintf(text, sizeof text, "%.0f µs", us);
  } else {
    std::snprintf(text, sizeof text, "%.2f ms", us / 1000.0);
  }
  return text;
}

std::string format_rate(double per_second) {
  char text[32];
  const double millions = per_second / 1e6;
  std::snprintf(text, sizeof text, millions < 10 ? "%.2f M/s" : "%.1f M/s", millions);
  return text;
}

std::string format_ratio(double ratio) {
  char text[32];
  if (!std::isfinite(ratio)) return "—";
  std::snprintf(text, sizeof text, ratio < 10 ? "%.2f×" : "%.0f×", ratio);
  return text;
}

std::string failed_runs_text(const CaseResult& c) {
  std::string text;
  for (std::size_t i = 0; i < c.runs.size(); ++i) {
    if (c.runs[i].ok) continue;
    if (!text.empty()) text += " | ";
    text += "run " + std::to_string(i + 1) + ": " + c.runs[i].error;
  }
  return text;
}

}  // namespace shmbus::bench
