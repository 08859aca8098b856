// The example trading pipeline, one function per agent (each executable's main() parses its
// options and calls one):
//   md_feed -> md.quote.<SYM>, md.trade.<SYM>
//   strategy-N (x3) -> strategy.signal, and a vote in barrier "decision"
//   cio: waits the "decision" rounds -> strategy.decision, order.new
//   risk: order.new -> risk.check (CRITICAL), order.new.approved
//   execution: order.new.approved -> order.accepted, order.filled
//   logger: counts every event, one line per second
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent_runtime.hpp"
#include "shmbus/catalog.hpp"

namespace shmbus::examples {

inline constexpr std::string_view kDecisionBarrier = "decision";
inline constexpr std::string_view kApprovedOrders = "order.new.approved";

/// A strategy's vote in a "decision" round: fits BusConfig::barrier_signal_bytes (64).
struct DecisionVote {
  std::uint64_t signal_id = 0;
  std::int64_t strength_e6 = 0;   ///< -1e6 (sell) .. +1e6 (buy)
  std::int64_t ref_price_e9 = 0;  ///< price the vote was computed at
  std::int64_t target_qty = 0;
  char symbol[catalog::kSymbolLen]{};
};
static_assert(sizeof(DecisionVote) == 48);

struct MdFeedOptions {
  double rate = 200;  ///< quotes per second, over all symbols
  std::vector<std::string> symbols{"ESZ6", "NQZ6", "CLF7"};
  std::uint32_t trade_every = 4;  ///< one trade per this many quotes
};
int run_md_feed(Bus& bus, const MdFeedOptions& options);

struct StrategyOptions {
  std::uint32_t id = 1;                  ///< agent name strategy-<id>
  std::uint32_t vote_interval_ms = 100;  ///< at most one vote per round, this often
  /// Injected faults of the quote handler (injected_faults.hpp): every N-th quote starts a burst
  /// of `fail_burst` throws in a row. 0: none.
  std::uint32_t fail_every = 0;
  std::uint32_t fail_burst = 1;
};
int run_strategy(Bus& bus, const StrategyOptions& options);

struct CioOptions {
  std::uint32_t strategies = 3;  ///< participants strategy-1..N
  std::uint32_t round_timeout_ms = 500;
};
int run_cio(Bus& bus, const CioOptions& options);

struct RiskOptions {
  std::int64_t max_qty = 50;  ///< orders above this many units are rejected
};
int run_risk(Bus& bus, const RiskOptions& options);

struct ExecutionOptions {
  std::int64_t fee_per_unit_e6 = 100;  ///< simulated fee, currency × 1e6 per unit
};
int run_execution(Bus& bus, const ExecutionOptions& options);

int run_logger(Bus& bus);

}  // namespace shmbus::examples
