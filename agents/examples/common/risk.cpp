// risk: pre-trade check of every order.new (positive quantity up to --max-qty, a price): the
// verdict goes out on risk.check at CRITICAL priority, and passed orders are forwarded on
// order.new.approved for the execution agent.
#include <cstring>

#include <spdlog/spdlog.h>

#include "examples.hpp"

namespace shmbus::examples {

int run_risk(Bus& bus, const RiskOptions& options) {
  auto checks = bus.topic<catalog::RiskCheckResult>("risk.check");
  auto approved = bus.topic<catalog::NewOrder>(kApprovedOrders);
  if (!checks || !approved) {
    spdlog::error("topics: {}", checks ? approved.message() : checks.message());
    return 1;
  }
  std::uint64_t passed = 0, rejected = 0;
  auto sub = bus.on("order.new", [&](const EventView& e) {
    const std::uint64_t start = mono_ns();
    catalog::NewOrder o;
    if (!e.copy_to(o)) return;
    catalog::RiskCheckResult r{};
    r.client_order_id = o.client_order_id;
    r.check_time_ns = wall_ns();
    std::memcpy(r.account, o.account, sizeof r.account);
    std::memcpy(r.symbol, o.symbol, sizeof r.symbol);
    std::memcpy(r.strategy, o.strategy, sizeof r.strategy);
    if (o.qty <= 0 || o.qty > options.max_qty) {
      r.verdict = catalog::RiskVerdict::kReject;
      r.kind = catalog::LimitKind::kOrderQty;
      r.limit_id = 1;
      catalog::set_symbol(r.text, "quantity outside (0, max-qty]");
    } else if (o.price_e9 <= 0 && o.type != catalog::OrderType::kMarket) {
      r.verdict = catalog::RiskVerdict::kReject;
      r.kind = catalog::LimitKind::kPriceBand;
      r.limit_id = 2;
      catalog::set_symbol(r.text, "limit order without a price");
    } else {
      r.verdict = catalog::RiskVerdict::kPass;
    }
    r.check_duration_ns = mono_ns() - start;
    (void)bus.publish(*checks, r, Priority::kCritical);
    if (r.verdict == catalog::RiskVerdict::kPass) {
      ++passed;
      (void)bus.publish(*approved, o, Priority::kHigh);
    } else {
      ++rejected;
    }
  });
  if (!sub) {
    spdlog::error("subscribe: {}", sub.message());
    return 1;
  }
  while (!stop_requested()) {
    bus.run_for(std::chrono::seconds(1));
    spdlog::info("{} orders passed, {} rejected", passed, rejected);
  }
  return 0;
}

}  // namespace shmbus::examples
