// Aggregation of repeated runs.
#include "run_result.hpp"

#include <algorithm>

namespace shmbus::bench {

std::size_t CaseResult::ok_runs() const {
  return static_cast<std::size_t>(
      std::count_if(runs.begin(), runs.end(), [](const RunResult& r) { return r.ok; }));
}

Spread CaseResult::aggregate(const std::function<double(const RunResult&)>& metric) const {
  std::vector<double> values;
  for (const RunResult& run : runs) {
    if (run.ok) values.push_back(metric(run));
  }
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
