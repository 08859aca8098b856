// strategy-N: follows the quotes, keeps a short and a long moving average of each mid price and
// turns their difference into a catalog::Signal on strategy.signal; once per round it votes in
// barrier "decision" (created by the cio) with that signal. Strategies differ by their id: the
// averaging windows and the symbol they favour.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <span>

#include <spdlog/spdlog.h>

#include "examples.hpp"
#include "injected_faults.hpp"
#include "shmbus/barrier.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::examples {

namespace {

struct Track {
  double fast = 0;
  double slow = 0;
  std::int64_t mid_e9 = 0;
  std::uint64_t quotes = 0;
};

}  // namespace

int run_strategy(Bus& bus, const StrategyOptions& options) {
  const std::string me = "strategy-" + std::to_string(options.id);
  auto signals = bus.topic<catalog::Signal>("strategy.signal");
  if (!signals) {
    spdlog::error("strategy.signal: {}", signals.message());
    return 1;
  }
  const double fast_w = 0.5 / options.id;
  const double slow_w = 0.05 / options.id;
  std::map<std::string, Track, std::less<>> tracks;
  InjectedFaults faults(options.fail_every, options.fail_burst);
  const HandlerOptions quote_handler{.name = "strategy.quotes"};
  auto on_quote = [&](const EventView& e) {
    faults.on_call();
    catalog::Quote q;
    if (!e.copy_to(q)) return;
    Track& t = tracks[std::string(catalog::symbol_view(q.symbol))];
    t.mid_e9 = (q.bid_price_e9 + q.ask_price_e9) / 2;
    const double mid = static_cast<double>(t.mid_e9) / 1e9;
    t.fast = t.quotes == 0 ? mid : t.fast + fast_w * (mid - t.fast);
    t.slow = t.quotes == 0 ? mid : t.slow + slow_w * (mid - t.slow);
    ++t.quotes;
  };
  if (auto sub = bus.on("md.quote.*", on_quote, quote_handler); !sub) {
    spdlog::error("subscribe: {}", sub.message());
    return 1;
  }
  // Recovery: a handler that failed max_handler_failures times in a row is unsubscribed by the
  // bus, which says so on sys.error. Subscribe it again (outside the dispatch, below).
  bool resubscribe = false;
  std::uint64_t resubscribed = 0;
  auto watch = bus.on("sys.error", [&](const EventView& e) {
    sys::ErrorEvent err;
    if (!e.copy_to(err) || err.kind != sys::ErrorKind::kHandlerUnsubscribed) return;
    if (err.agent_index == bus.agent_index() &&
        catalog::symbol_view(err.handler) == quote_handler.name) {
      resubscribe = true;
    }
  });
  if (!watch) {
    spdlog::error("subscribe sys.error: {}", watch.message());
    return 1;
  }

  std::optional<Barrier> barrier;
  std::uint64_t signal_id = 0, accepted = 0, late = 0;
  auto last_vote = std::chrono::steady_clock::now();
  auto last_log = last_vote;
  while (!stop_requested()) {
    bus.run_for(std::chrono::milliseconds(20));
    bus.heartbeat();
    if (resubscribe) {
      resubscribe = false;
      if (auto sub = bus.on("md.quote.*", on_quote, quote_handler); sub) {
        ++resubscribed;
        spdlog::warn("quote handler was unsubscribed after failing; subscribed again ({} times)",
                     resubscribed);
      } else {
        spdlog::error("subscribe again: {}", sub.message());
        return 1;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log >= std::chrono::seconds(1)) {
      spdlog::info(
          "{} symbols tracked, {} votes accepted, {} late, {} injected faults, {} "
          "re-subscriptions",
          tracks.size(), accepted, late, faults.thrown(), resubscribed);
      last_log = now;
    }
    if (!barrier) {
      auto b = Barrier::open(bus, kDecisionBarrier);  // the cio creates it; retry until then
      if (b) {
        barrier.emplace(std::move(b.value()));
        spdlog::info("joined barrier {} at round {}", kDecisionBarrier, barrier->round());
      }
    }
    if (tracks.empty() || now - last_vote < std::chrono::milliseconds(options.vote_interval_ms)) {
      continue;
    }
    // The symbol this strategy favours; its signal is the fast/slow spread in basis points.
    auto it = tracks.begin();
    std::advance(it, (options.id - 1) % tracks.size());
    const Track& t = it->second;
    const double spread = t.slow != 0 ? (t.fast - t.slow) / t.slow : 0.0;
    const auto strength = static_cast<std::int64_t>(std::clamp(spread * 1e4, -1.0, 1.0) * 1e6);

    catalog::Signal s{};
    s.signal_id = ++signal_id;
    s.strength_e6 = strength;
    s.confidence_e6 = 500'000;
    s.target_qty = strength / 100'000;
    s.ref_price_e9 = t.mid_e9;
    s.horizon_ns = 1'000'000'000;
    s.signal_time_ns = wall_ns();
    s.direction = static_cast<std::int8_t>(strength > 0 ? 1 : (strength < 0 ? -1 : 0));
    catalog::set_symbol(s.strategy, me);
    catalog::set_symbol(s.symbol, it->first);
    if (barrier) {
      DecisionVote vote;
      vote.signal_id = s.signal_id;
      vote.strength_e6 = s.strength_e6;
      vote.ref_price_e9 = s.ref_price_e9;
      vote.target_qty = s.target_qty;
      catalog::set_symbol(vote.symbol, it->first);
      const std::uint64_t round = barrier->round();
      const ArriveStatus st =
          barrier->arrive(std::as_bytes(std::span<const DecisionVote, 1>(&vote, 1)));
      if (st == ArriveStatus::kNotOpen || st == ArriveStatus::kAlreadyArrived) continue;
      if (st == ArriveStatus::kUnknownBarrier) {
        barrier.reset();
        continue;
      }
      if (st == ArriveStatus::kLate) ++late;
      if (st != ArriveStatus::kAccepted) continue;
      ++accepted;
      s.barrier_generation = round;
    }
    last_vote = now;
    if (bus.publish(*signals, s, Priority::kNormal) != PublishStatus::kOk) {
      spdlog::warn("signal {} not published", s.signal_id);
    }
  }
  spdlog::info("done: {} votes accepted, {} late", accepted, late);
  return 0;
}

}  // namespace shmbus::examples
