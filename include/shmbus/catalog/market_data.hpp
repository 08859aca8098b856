// Market data payloads of the trading catalogue (md.*): quotes, trades, book levels, updates and
// depth, bars, trading status, reference prices, auction imbalances and session statistics.
// Conventions (units, text fields, enums) in catalog/common.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmbus/catalog/common.hpp"
#include "shmbus/enum_range.hpp"

namespace shmbus::catalog {

/// What an incremental book update does to its level (or order, on order-by-order feeds).
enum class BookAction : std::uint8_t { kUnknown = 0, kAdd, kChange, kDelete, kClear };
SHMBUS_ENUM_LAST(BookAction, kClear);
enum class MarketState : std::uint8_t {
  kUnknown = 0,
  kPreOpen,
  kOpeningAuction,
  kOpen,
  kPaused,
  kHalted,
  kClosingAuction,
  kClosed,
};
SHMBUS_ENUM_LAST(MarketState, kClosed);
enum class RefPriceKind : std::uint8_t {
  kUnknown = 0,
  kOpen,
  kClose,
  kSettlement,
  kMark,
  kIndex,
  kFairValue,
  kLimitUp,
  kLimitDown,
};
SHMBUS_ENUM_LAST(RefPriceKind, kLimitDown);
enum class AuctionKind : std::uint8_t { kUnknown = 0, kOpening, kClosing, kReopening, kIntraday };
SHMBUS_ENUM_LAST(AuctionKind, kIntraday);

/// Top of book. Publish on "md.quote" or a per-symbol topic below it ("md.quote.ESZ6").
struct Quote {
  static constexpr std::string_view kTopic = "md.quote";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "best bid and offer of one instrument";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t bid_price_e9{};       ///< bid price × 1e9
  std::int64_t ask_price_e9{};       ///< ask price × 1e9
  std::int64_t bid_qty{};            ///< units at the bid
  std::int64_t ask_qty{};            ///< units at the ask
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the feed handler received it
  std::uint64_t seq{};               ///< venue / feed sequence number
  std::uint32_t bid_orders{};        ///< orders at the bid (0 when the feed does not say)
  std::uint32_t ask_orders{};        ///< orders at the ask

  SHMBUS_FIELDS(Quote, symbol, venue, bid_price_e9, ask_price_e9, bid_qty, ask_qty,
                exchange_time_ns, recv_mono_ns, seq, bid_orders, ask_orders);
};
SHMBUS_PAYLOAD_PIN(Quote, 88);

/// One trade print.
struct Trade {
  static constexpr std::string_view kTopic = "md.trade";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "a trade printed by the venue";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t price_e9{};           ///< trade price × 1e9
  std::int64_t qty{};                ///< units traded
  std::uint64_t trade_id{};          ///< venue trade id
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the feed handler received it
  std::uint64_t seq{};               ///< venue / feed sequence number
  Side aggressor{};                  ///< side that crossed the spread; kNone when unknown
  std::uint8_t condition{};          ///< venue trade-condition code, 0 for regular
  std::uint8_t reserved[6]{};

  SHMBUS_FIELDS(Trade, symbol, venue, price_e9, qty, trade_id, exchange_time_ns, recv_mono_ns, seq,
                aggressor, condition, reserved);
};
SHMBUS_PAYLOAD_PIN(Trade, 80);

/// Full state of one price level (snapshot feeds, or a book rebuilt locally).
struct BookLevel {
  static constexpr std::string_view kTopic = "md.book.level";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "state of one order book price level";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t price_e9{};           ///< level price × 1e9
  std::int64_t qty{};                ///< units resting at the level
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the feed handler received it
  std::uint64_t seq{};               ///< venue / feed sequence number
  std::uint32_t order_count{};       ///< orders at the level
  std::uint16_t level{};             ///< 0 = best
  Side side{};
  std::uint8_t reserved[1]{};

  SHMBUS_FIELDS(BookLevel, symbol, venue, price_e9, qty, exchange_time_ns, recv_mono_ns, seq,
                order_count, level, side, reserved);
};
SHMBUS_PAYLOAD_PIN(BookLevel, 72);

/// Incremental change to a book (price-level feeds, or order-by-order when order_id != 0).
struct BookUpdate {
  static constexpr std::string_view kTopic = "md.book.update";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "incremental order book change";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t price_e9{};   ///< price × 1e9
  std::int64_t qty{};        ///< units at the level (or order) after the change; 0 on delete
  std::uint64_t order_id{};  ///< venue order id on order-by-order feeds, else 0
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the feed handler received it
  std::uint64_t seq{};               ///< venue / feed sequence number; a jump means a gap
  std::uint32_t order_count{};       ///< orders at the level after the change
  std::uint16_t level{};             ///< 0 = best
  Side side{};
  BookAction action{};

  SHMBUS_FIELDS(BookUpdate, symbol, venue, price_e9, qty, order_id, exchange_time_ns, recv_mono_ns,
                seq, order_count, level, side, action);
};
SHMBUS_PAYLOAD_PIN(BookUpdate, 80);

inline constexpr std::size_t kBookDepthLevels = 4;

/// The best kBookDepthLevels levels of both sides in one event.
struct BookDepth {
  static constexpr std::string_view kTopic = "md.book.depth";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "top levels of both sides of a book";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t bid_price_e9[kBookDepthLevels]{};  ///< price × 1e9, best first
  std::int64_t bid_qty[kBookDepthLevels]{};       ///< units, best first
  std::int64_t ask_price_e9[kBookDepthLevels]{};  ///< price × 1e9, best first
  std::int64_t ask_qty[kBookDepthLevels]{};       ///< units, best first
  std::uint64_t exchange_time_ns{};               ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};                   ///< CLOCK_MONOTONIC ns, when received
  std::uint64_t seq{};                            ///< venue / feed sequence number
  std::uint8_t bid_levels{};                      ///< valid entries in bid_* (0..4)
  std::uint8_t ask_levels{};                      ///< valid entries in ask_* (0..4)
  std::uint8_t reserved[6]{};

  SHMBUS_FIELDS(BookDepth, symbol, venue, bid_price_e9, bid_qty, ask_price_e9, ask_qty,
                exchange_time_ns, recv_mono_ns, seq, bid_levels, ask_levels, reserved);
};
SHMBUS_PAYLOAD_PIN(BookDepth, 184);

/// OHLC bar over [start_time_ns, start_time_ns + interval_ns).
struct Bar {
  static constexpr std::string_view kTopic = "md.bar";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "open/high/low/close bar over an interval";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t open_e9{};         ///< price × 1e9
  std::int64_t high_e9{};         ///< price × 1e9
  std::int64_t low_e9{};          ///< price × 1e9
  std::int64_t close_e9{};        ///< price × 1e9
  std::int64_t vwap_e9{};         ///< volume-weighted average price × 1e9
  std::int64_t volume{};          ///< units traded in the bar
  std::uint64_t trade_count{};    ///< trades in the bar
  std::uint64_t start_time_ns{};  ///< CLOCK_REALTIME ns, bar start
  std::uint64_t interval_ns{};    ///< bar length in ns (60'000'000'000 for 1 minute)

  SHMBUS_FIELDS(Bar, symbol, venue, open_e9, high_e9, low_e9, close_e9, vwap_e9, volume,
                trade_count, start_time_ns, interval_ns);
};
SHMBUS_PAYLOAD_PIN(Bar, 96);

/// Trading state of an instrument, or of a whole venue when `symbol` is empty.
struct MarketStatus {
  static constexpr std::string_view kTopic = "md.status";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "trading state change (open, halted, ...)";

  char symbol[kSymbolLen]{};  ///< empty = every instrument of `venue`
  char venue[kVenueLen]{};
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when received
  char reason[kNameLen]{};           ///< venue's reason text ("LULD pause"), may be empty
  MarketState state{};
  std::uint8_t reserved[7]{};

  SHMBUS_FIELDS(MarketStatus, symbol, venue, exchange_time_ns, recv_mono_ns, reason, state,
                reserved);
};
SHMBUS_PAYLOAD_PIN(MarketStatus, 80);

/// A reference price: settlement, official close, mark, index, fair value, price limits.
struct ReferencePrice {
  static constexpr std::string_view kTopic = "md.refprice";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "reference price (settlement, mark, index...)";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t price_e9{};           ///< price × 1e9
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns the price applies at
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when received
  RefPriceKind kind{};
  std::uint8_t reserved[7]{};

  SHMBUS_FIELDS(ReferencePrice, symbol, venue, price_e9, exchange_time_ns, recv_mono_ns, kind,
                reserved);
};
SHMBUS_PAYLOAD_PIN(ReferencePrice, 56);

/// Auction imbalance indication.
struct Imbalance {
  static constexpr std::string_view kTopic = "md.imbalance";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "auction order imbalance indication";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t ref_price_e9{};       ///< reference price × 1e9
  std::int64_t near_price_e9{};      ///< indicative clearing price, auction book only, × 1e9
  std::int64_t far_price_e9{};       ///< indicative clearing price incl. continuous book, × 1e9
  std::int64_t paired_qty{};         ///< units matched at the reference price
  std::int64_t imbalance_qty{};      ///< units left unmatched, on `side`
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when received
  std::uint64_t auction_time_ns{};   ///< CLOCK_REALTIME ns the auction is scheduled for
  Side side{};                       ///< side with more interest
  AuctionKind auction{};
  std::uint8_t reserved[6]{};

  SHMBUS_FIELDS(Imbalance, symbol, venue, ref_price_e9, near_price_e9, far_price_e9, paired_qty,
                imbalance_qty, exchange_time_ns, recv_mono_ns, auction_time_ns, side, auction,
                reserved);
};
SHMBUS_PAYLOAD_PIN(Imbalance, 96);

/// Session statistics of an instrument.
struct DailyStats {
  static constexpr std::string_view kTopic = "md.stats";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "session statistics (volume, open interest)";

  char symbol[kSymbolLen]{};
  char venue[kVenueLen]{};
  std::int64_t open_e9{};            ///< session open price × 1e9
  std::int64_t high_e9{};            ///< session high × 1e9
  std::int64_t low_e9{};             ///< session low × 1e9
  std::int64_t last_e9{};            ///< last trade price × 1e9
  std::int64_t volume{};             ///< units traded in the session
  std::int64_t open_interest{};      ///< open contracts (derivatives), else 0
  std::int64_t turnover_e6{};        ///< traded value, currency × 1e6
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when received

  SHMBUS_FIELDS(DailyStats, symbol, venue, open_e9, high_e9, low_e9, last_e9, volume, open_interest,
                turnover_e6, exchange_time_ns, recv_mono_ns);
};
SHMBUS_PAYLOAD_PIN(DailyStats, 96);

}  // namespace shmbus::catalog
