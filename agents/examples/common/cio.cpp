// cio: owns barrier "decision" (participants strategy-1..N). For every closed round it sums the
// strategies' votes into a catalog::Decision on strategy.decision and sends one catalog::NewOrder
// on order.new in the direction of the sum. Counts the fills it hears back on order.filled.
#include <atomic>
#include <cstring>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "examples.hpp"
#include "shmbus/barrier.hpp"

namespace shmbus::examples {

namespace {

/// Creates (idempotently) and opens the barrier and takes the waiter role.
Result<Barrier> open_as_waiter(Bus& bus, const CioOptions& options) {
  std::vector<std::string> participants;
  for (std::uint32_t i = 1; i <= options.strategies; ++i) {
    participants.push_back("strategy-" + std::to_string(i));
  }
  if (auto r = create_barrier(bus, kDecisionBarrier, participants,
                              std::chrono::milliseconds(options.round_timeout_ms));
      !r) {
    return r.error();
  }
  auto b = Barrier::open(bus, kDecisionBarrier);
  if (!b) return b.error();
  if (auto r = b->become_waiter(); !r) return r.error();
  return b;
}

}  // namespace

int run_cio(Bus& bus, const CioOptions& options) {
  auto orders = bus.topic<catalog::NewOrder>("order.new");
  auto decisions = bus.topic<catalog::Decision>("strategy.decision");
  if (!orders || !decisions) {
    spdlog::error("topics: {}", orders ? decisions.message() : orders.message());
    return 1;
  }
  std::atomic<std::uint64_t> fills{0};
  auto sub = bus.on("order.filled",
                    [&](const EventView&) { fills.fetch_add(1, std::memory_order_relaxed); });
  if (!sub) {
    spdlog::error("subscribe: {}", sub.message());
    return 1;
  }

  // Dispatching gets its own thread so events never wait for a barrier round (the supervisor
  // judges delivery latency); this thread waits for rounds and publishes (Bus allows both).
  std::thread dispatcher([&bus] {
    while (!stop_requested()) bus.run_for(std::chrono::milliseconds(200));
  });
  std::optional<Barrier> barrier;
  BarrierRound round;
  std::uint64_t rounds = 0, complete = 0, order_id = 0;
  auto last_log = std::chrono::steady_clock::now();
  while (!stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log >= std::chrono::seconds(1)) {
      spdlog::info("{} rounds ({} complete), {} orders sent, {} fills", rounds, complete, order_id,
                   fills.load());
      last_log = now;
    }
    if (!barrier) {
      auto b = open_as_waiter(bus, options);
      if (!b) {
        spdlog::warn("barrier {}: {}; retrying", kDecisionBarrier, b.message());
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      barrier.emplace(std::move(b.value()));
      spdlog::info("waiting on barrier {} ({} strategies)", kDecisionBarrier, options.strategies);
    }
    auto r = barrier->wait(round, std::chrono::milliseconds(100));
    if (!r) {
      if (r.code() != Errc::kTimeout) {
        spdlog::warn("barrier wait: {}", r.message());
        barrier.reset();
      }
      continue;
    }
    ++rounds;
    if (round.complete) ++complete;
    std::int64_t sum = 0, price = 0;
    std::string symbol;
    for (const BarrierSignal& s : round.signals) {
      DecisionVote v;
      if (s.bytes.size() != sizeof v) continue;
      std::memcpy(&v, s.bytes.data(), sizeof v);
      sum += v.strength_e6;
      if (price == 0) {
        price = v.ref_price_e9;
        symbol = std::string(catalog::symbol_view(v.symbol));
      }
    }
    if (round.signals.empty() || price == 0) continue;
    const bool buy = sum >= 0;
    catalog::Decision d{};
    d.decision_id = round.generation;
    d.target_qty = (buy ? 1 : -1) * (1 + (sum < 0 ? -sum : sum) / 200'000);
    d.limit_price_e9 = price;
    d.barrier_generation = round.generation;
    d.decision_time_ns = wall_ns();
    d.signals_arrived = static_cast<std::uint32_t>(round.signals.size());
    d.signals_expected = round.participants;
    d.action = buy ? catalog::DecisionAction::kBuy : catalog::DecisionAction::kSell;
    catalog::set_symbol(d.decider, "cio");
    catalog::set_symbol(d.symbol, symbol);
    catalog::set_symbol(d.text, round.complete ? "all strategies voted" : "partial round");
    (void)bus.publish(*decisions, d, Priority::kNormal);

    catalog::NewOrder o{};
    o.client_order_id = ++order_id;
    o.price_e9 = price;
    o.qty = d.target_qty < 0 ? -d.target_qty : d.target_qty;
    o.create_time_ns = wall_ns();
    o.decision_id = d.decision_id;
    catalog::set_symbol(o.symbol, symbol);
    catalog::set_symbol(o.account, "DEMO");
    catalog::set_symbol(o.venue, "SIM");
    catalog::set_symbol(o.strategy, "cio");
    o.side = buy ? catalog::Side::kBuy : catalog::Side::kSell;
    o.type = catalog::OrderType::kLimit;
    o.tif = catalog::TimeInForce::kDay;
    if (bus.publish(*orders, o, Priority::kHigh) != PublishStatus::kOk) {
      spdlog::warn("order {} not published", o.client_order_id);
    }
  }
  bus.stop();
  dispatcher.join();
  spdlog::info("done: {} rounds ({} complete), {} orders, {} fills", rounds, complete, order_id,
               fills.load());
  return 0;
}

}  // namespace shmbus::examples
