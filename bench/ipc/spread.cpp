// Median and range of repeated measurements.
#include "spread.hpp"

#include <algorithm>

namespace shmbus::bench {

Spread spread_of(std::vector<double> values) {
  Spread spread;
  if (values.empty()) return spread;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  spread.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  spread.min = values.front();
  spread.max = values.back();
  spread.valid = true;
  return spread;
}

}  // namespace shmbus::bench
