// md_feed: synthetic top-of-book quotes (random walk around a start price) and trades, paced at
// --rate per second, on md.quote.<SYM> / md.trade.<SYM>.
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "examples.hpp"

namespace shmbus::examples {

namespace {

struct Instrument {
  std::string symbol;
  Topic<catalog::Quote> quotes;
  Topic<catalog::Trade> trades;
  std::int64_t mid_e9 = 0;
  std::uint64_t seq = 0;
};

}  // namespace

int run_md_feed(Bus& bus, const MdFeedOptions& options) {
  if (options.symbols.empty() || options.rate <= 0) {
    spdlog::error("need at least one symbol and a positive rate");
    return 1;
  }
  std::vector<Instrument> instruments;
  std::int64_t start = 100;
  for (const std::string& sym : options.symbols) {
    auto q = bus.topic<catalog::Quote>("md.quote." + sym);
    auto t = bus.topic<catalog::Trade>("md.trade." + sym);
    if (!q || !t) {
      spdlog::error("topic for {}: {}", sym, q ? t.message() : q.message());
      return 1;
    }
    instruments.push_back({sym, *q, *t, start * 1'000'000'000, 0});
    start += 50;
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> step(-2, 2);
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / options.rate));
  auto next = std::chrono::steady_clock::now();
  auto last_log = next;
  std::uint64_t quotes = 0, trades = 0, refused = 0;
  for (std::uint64_t i = 0; !stop_requested(); ++i) {
    Instrument& ins = instruments[i % instruments.size()];
    ins.mid_e9 += step(rng) * 10'000'000;  // ticks of 0.01
    catalog::Quote q{};
    catalog::set_symbol(q.symbol, ins.symbol);
    catalog::set_symbol(q.venue, "SIM");
    q.bid_price_e9 = ins.mid_e9 - 10'000'000;
    q.ask_price_e9 = ins.mid_e9 + 10'000'000;
    q.bid_qty = 10 + static_cast<std::int64_t>(i % 7);
    q.ask_qty = 10 + static_cast<std::int64_t>(i % 5);
    q.exchange_time_ns = wall_ns();
    q.recv_mono_ns = mono_ns();
    q.seq = ++ins.seq;
    if (bus.publish(ins.quotes, q, Priority::kHigh) == PublishStatus::kOk) {
      ++quotes;
    } else {
      ++refused;
    }
    if (options.trade_every != 0 && i % options.trade_every == 0) {
      catalog::Trade t{};
      catalog::set_symbol(t.symbol, ins.symbol);
      catalog::set_symbol(t.venue, "SIM");
      t.price_e9 = (i & 1) ? q.ask_price_e9 : q.bid_price_e9;
      t.qty = 1 + static_cast<std::int64_t>(i % 3);
      t.trade_id = i + 1;
      t.exchange_time_ns = q.exchange_time_ns;
      t.recv_mono_ns = mono_ns();
      t.seq = ins.seq;
      t.aggressor = (i & 1) ? catalog::Side::kBuy : catalog::Side::kSell;
      if (bus.publish(ins.trades, t) == PublishStatus::kOk) {
        ++trades;
      } else {
        ++refused;
      }
    }
    bus.heartbeat();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log >= std::chrono::seconds(1)) {
      spdlog::info("published {} quotes, {} trades ({} refused)", quotes, trades, refused);
      last_log = now;
    }
    next += period;
    if (now - next > std::chrono::seconds(1)) next = now;  // fell far behind: do not burst
    std::this_thread::sleep_until(next);
  }
  spdlog::info("done: {} quotes, {} trades ({} refused)", quotes, trades, refused);
  return 0;
}

}  // namespace shmbus::examples
