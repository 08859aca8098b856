// Aggregation of repeated runs.
#include "run_result.hpp"

#include <algorithm>
#include <utility>

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
  return spread_of(std::move(values));
}

}  // namespace shmbus::bench
