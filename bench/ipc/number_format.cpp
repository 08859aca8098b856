// Number formatting for the reports.
#include "number_format.hpp"

#include <cmath>
#include <cstdio>

namespace shmbus::bench {

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

std::string format_millions(double per_second) {
  char text[32];
  const double millions = per_second / 1e6;
  std::snprintf(text, sizeof text, millions < 10 ? "%.2f" : "%.1f", millions);
  return text;
}

std::string format_thousands(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace shmbus::bench
