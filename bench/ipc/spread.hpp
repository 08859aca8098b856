// Spread: the median and range of one figure over the repetitions of a case,
// which is how both benchmark harnesses report every figure.
#pragma once

#include <vector>

namespace shmbus::bench {

struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
  bool valid = false;  ///< false when there was no value (every run failed)
};

/// Median (mean of the middle two for an even count), min and max of `values`.
Spread spread_of(std::vector<double> values);

}  // namespace shmbus::bench
