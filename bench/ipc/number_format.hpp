// How the benchmark reports print numbers: durations, rates, ratios, counts.
// Shared by shmbus-ipc-bench and shmbus-scaling-bench so their tables read alike.
#pragma once

#include <cstdint>
#include <string>

namespace shmbus::bench {

std::string format_duration_ns(double ns);   ///< "0.16 µs", "18.8 µs", "1.20 ms"
std::string format_rate(double per_second);  ///< "23.1 M/s", "0.84 M/s"
std::string format_ratio(double ratio);      ///< "1.00×", "35×"; "—" when not finite
/// "19.9" for 19.9 M/s: the spread next to a rate, unit implied.
std::string format_millions(double per_second);
/// "1,000,000".
std::string format_thousands(std::uint64_t n);

}  // namespace shmbus::bench
