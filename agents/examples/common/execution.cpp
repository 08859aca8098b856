// execution: a simulated venue. Every order.new.approved is acknowledged (order.accepted) and
// filled in full at its limit price (order.filled).
#include <cstring>

#include <spdlog/spdlog.h>

#include "examples.hpp"

namespace shmbus::examples {

int run_execution(Bus& bus, const ExecutionOptions& options) {
  auto accepted = bus.topic<catalog::OrderAccepted>("order.accepted");
  auto filled = bus.topic<catalog::OrderFilled>("order.filled");
  if (!accepted || !filled) {
    spdlog::error("topics: {}", accepted ? filled.message() : accepted.message());
    return 1;
  }
  std::uint64_t venue_id = 0, fills = 0;
  auto sub = bus.on(kApprovedOrders, [&](const EventView& e) {
    catalog::NewOrder o;
    if (!e.copy_to(o)) return;
    catalog::OrderAccepted a{};
    a.client_order_id = o.client_order_id;
    a.venue_order_id = ++venue_id;
    a.price_e9 = o.price_e9;
    a.qty = o.qty;
    a.exchange_time_ns = wall_ns();
    a.recv_mono_ns = mono_ns();
    std::memcpy(a.symbol, o.symbol, sizeof a.symbol);
    std::memcpy(a.account, o.account, sizeof a.account);
    std::memcpy(a.venue, o.venue, sizeof a.venue);
    a.side = o.side;
    (void)bus.publish(*accepted, a, Priority::kHigh);

    catalog::OrderFilled f{};
    f.client_order_id = o.client_order_id;
    f.venue_order_id = a.venue_order_id;
    f.exec_id = a.venue_order_id;
    f.last_price_e9 = o.price_e9;
    f.last_qty = o.qty;
    f.cum_qty = o.qty;
    f.leaves_qty = 0;
    f.avg_price_e9 = o.price_e9;
    f.fee_e6 = o.qty * options.fee_per_unit_e6;
    f.exchange_time_ns = wall_ns();
    f.recv_mono_ns = mono_ns();
    std::memcpy(f.symbol, o.symbol, sizeof f.symbol);
    std::memcpy(f.account, o.account, sizeof f.account);
    std::memcpy(f.venue, o.venue, sizeof f.venue);
    f.side = o.side;
    f.liquidity = catalog::Liquidity::kTaker;
    if (bus.publish(*filled, f, Priority::kHigh) == PublishStatus::kOk) ++fills;
  });
  if (!sub) {
    spdlog::error("subscribe: {}", sub.message());
    return 1;
  }
  while (!stop_requested()) {
    bus.run_for(std::chrono::seconds(1));
    spdlog::info("{} orders filled", fills);
  }
  return 0;
}

}  // namespace shmbus::examples
