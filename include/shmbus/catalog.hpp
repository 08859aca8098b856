// The built-in catalogue of trading event types: one fixed-size payload struct per event (market
// data, order lifecycle, positions, risk, strategy, system, performance), each with its default
// topic name, plus a descriptor table and a type list so tools (`shmbus publish`, `tail`) can map
// a topic name to its struct. Agents include it; the supervisor publishes the `sys.*` events.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/topic.hpp"

// Conventions of every payload below (they are a wire format: binaries built months apart share
// these bytes, so fields have fixed widths, explicit `reserved` bytes, and no implicit padding):
// - `*_e9` prices are fixed-point: price_e9 = price × 1e9 (1.25 is 1'250'000'000).
// - `*_e6` money amounts (pnl, notional, fees, exposure, equity) are currency × 1e6, which keeps
//   ±9.2e12 currency units in range; other `*_e6` values are ratios × 1e6 (1.0 is 1'000'000).
// - quantities (`qty`, `*_qty`) are signed 64-bit counts of instrument units (shares, contracts,
//   lots); positions are signed (long > 0, short < 0), order quantities are positive.
// - `*_time_ns` is CLOCK_REALTIME in ns since the Unix epoch (exchange and wall-clock times,
//   comparable across hosts); `*_mono_ns` is CLOCK_MONOTONIC in ns (this host only, comparable
//   with EventView::timestamp_ns); other `*_ns` fields are durations.
// - char arrays hold NUL-padded text; write them with set_symbol(), read them with symbol_view()
//   (which never reads past the array even when a hostile writer left no NUL).
// - every enum has a fixed 8-bit underlying type and 0 means "unknown/none", so a zeroed payload
//   is recognisably unset; readers treat values they do not know as unknown.
// - Value-initialise payloads (`Quote q{};`): all fields, reserved bytes included, start at zero.
//
// kSchemaVersion of a type must be bumped when a field changes size, offset, unit or meaning, or
// when reserved bytes gain a meaning old readers would misread. Adding an enum value is no bump.

namespace shmbus {

class Bus;

namespace catalog {

/// Largest catalogue payload: the default BusConfig::max_payload_bytes, so every type fits a bus
/// created with default settings.
inline constexpr std::size_t kMaxCatalogPayload = 192;

inline constexpr std::size_t kSymbolLen = 16;    ///< instrument symbol, up to 15 chars
inline constexpr std::size_t kVenueLen = 8;      ///< venue / exchange MIC, up to 7 chars
inline constexpr std::size_t kAccountLen = 16;   ///< trading account, up to 15 chars
inline constexpr std::size_t kStrategyLen = 16;  ///< strategy tag on orders, up to 15 chars
inline constexpr std::size_t kNameLen = 32;      ///< agent / barrier / stage names, up to 31 chars
inline constexpr std::size_t kTextLen = 64;      ///< free-text reason, up to 63 chars
inline constexpr std::size_t kCurrencyLen = 8;   ///< ISO 4217 code ("USD"), up to 7 chars

/// agent_index value meaning "the bus itself" (bus-wide health, supervisor-side events).
inline constexpr std::uint32_t kBusWide = 0xFFFFFFFFu;

// ---- fixed text fields --------------------------------------------------------------------------

/// Copies `src` into a fixed char field (symbol, name, reason...), truncated to N-1 bytes, and
/// zero-fills the rest so the field is NUL-terminated and no stale bytes reach shared memory.
template <std::size_t N>
constexpr void set_symbol(char (&dst)[N], std::string_view src) noexcept {
  static_assert(N >= 1, "a fixed text field needs room for its NUL");
  const std::size_t n = src.size() < N - 1 ? src.size() : N - 1;
  for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  for (std::size_t i = n; i < N; ++i) dst[i] = '\0';
}

/// The text of a fixed char field: up to its first NUL, never past the array.
template <std::size_t N>
constexpr std::string_view symbol_view(const char (&src)[N]) noexcept {
  std::size_t n = 0;
  while (n < N && src[n] != '\0') ++n;
  return std::string_view(src, n);
}

// ---- wire enums ---------------------------------------------------------------------------------

enum class Side : std::uint8_t { kNone = 0, kBuy = 1, kSell = 2 };
enum class OrderType : std::uint8_t { kUnknown = 0, kMarket, kLimit, kStop, kStopLimit };
enum class TimeInForce : std::uint8_t {
  kUnknown = 0,
  kDay,
  kGtc,
  kIoc,
  kFok,
  kGtd,
  kAtOpen,
  kAtClose
};
/// What an incremental book update does to its level (or order, on order-by-order feeds).
enum class BookAction : std::uint8_t { kUnknown = 0, kAdd, kChange, kDelete, kClear };
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
enum class AuctionKind : std::uint8_t { kUnknown = 0, kOpening, kClosing, kReopening, kIntraday };
enum class Liquidity : std::uint8_t { kUnknown = 0, kMaker, kTaker, kAuction };
/// Who rejected an order.
enum class RejectSource : std::uint8_t { kUnknown = 0, kVenue, kRisk, kGateway, kBus };
enum class CancelReason : std::uint8_t {
  kUnknown = 0,
  kRequested,   ///< answer to a CancelRequest
  kVenue,       ///< unsolicited, by the venue
  kRisk,        ///< by the risk agent
  kKillSwitch,  ///< a kill switch engaged
  kSelfTrade,   ///< self-trade prevention
  kSessionEnd,  ///< end of session / day order
};
enum class LimitKind : std::uint8_t {
  kUnknown = 0,
  kPosition,   ///< units
  kNotional,   ///< currency
  kOrderQty,   ///< units per order
  kOrderRate,  ///< orders per second
  kLoss,       ///< currency
  kDrawdown,   ///< currency
  kExposure,   ///< currency
  kPriceBand,  ///< price distance from reference, as a ratio
};
enum class Severity : std::uint8_t { kUnknown = 0, kWarning, kBreach, kCritical };
/// What the risk agent did about a breach.
enum class RiskAction : std::uint8_t { kNone = 0, kBlockNew, kCancelOpen, kKillSwitch };
enum class RiskVerdict : std::uint8_t { kUnknown = 0, kPass, kWarn, kReject };
enum class KillScope : std::uint8_t { kUnknown = 0, kAll, kAccount, kStrategy, kSymbol };
enum class DecisionAction : std::uint8_t { kUnknown = 0, kHold, kBuy, kSell, kFlatten };
/// Health of an agent or of the bus, as the supervisor judges it.
/// kDead: the kernel released the agent's liveness lock; its record is being recovered.
enum class HealthState : std::uint8_t { kUnknown = 0, kHealthy, kDegraded, kUnhealthy, kDead };
enum class HealthReason : std::uint8_t {
  kUnknown = 0,
  kHeartbeatLate,
  kStalled,        ///< cursor not moving while events wait
  kHandlerErrors,  ///< handler error streak
  kSlowHandler,    ///< handlers over their time budget
  kLatency,        ///< delivery latency over its limit
  kDied,           ///< the kernel released the agent's liveness lock
  kRecovered,
};
/// Backpressure level of one ring; here 0 is the normal state.
enum class BackpressureLevel : std::uint8_t { kNormal = 0, kWarning, kHigh, kCritical };
enum class ErrorKind : std::uint8_t {
  kUnknown = 0,
  kHandlerException,     ///< a handler threw; the event went to the dead-letter area
  kHandlerSlow,          ///< a handler ran past its budget
  kHandlerUnsubscribed,  ///< a handler failed too often in a row and was removed
  kDeadLetter,           ///< dead-letter area overflowed (oldest dropped)
  kInternal,             ///< the bus itself hit an error (Errc in `errc`)
};
enum class GapReason : std::uint8_t { kUnknown = 0, kLapped, kUntethered, kPadded };
enum class LeaveReason : std::uint8_t { kUnknown = 0, kDetached, kDied, kEvicted };

// Pins a payload: exact size (moving or resizing a field breaks the build), alignment 8, no
// implicit padding (has_unique_object_representations is false when the compiler inserted
// padding), bytewise copyable, and small enough for a default-configured bus.
#define SHMBUS_CATALOG_PIN(T, bytes)                                                       \
  static_assert(sizeof(T) == (bytes), #T ": size changed; bump kSchemaVersion");           \
  static_assert(alignof(T) == 8, #T ": alignment changed");                                \
  static_assert(std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T>,           \
                #T ": payloads are copied bytewise into shared memory");                   \
  static_assert(std::has_unique_object_representations_v<T>, #T ": has implicit padding"); \
  static_assert(sizeof(T) <= kMaxCatalogPayload, #T ": larger than the default max payload")

// ---- market data (md.*) -------------------------------------------------------------------------

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
};
SHMBUS_CATALOG_PIN(Quote, 88);

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
};
SHMBUS_CATALOG_PIN(Trade, 80);

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
};
SHMBUS_CATALOG_PIN(BookLevel, 72);

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
};
SHMBUS_CATALOG_PIN(BookUpdate, 80);

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
};
SHMBUS_CATALOG_PIN(BookDepth, 184);

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
};
SHMBUS_CATALOG_PIN(Bar, 96);

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
};
SHMBUS_CATALOG_PIN(MarketStatus, 80);

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
};
SHMBUS_CATALOG_PIN(ReferencePrice, 56);

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
};
SHMBUS_CATALOG_PIN(Imbalance, 96);

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
};
SHMBUS_CATALOG_PIN(DailyStats, 96);

// ---- order lifecycle (order.*) ------------------------------------------------------------------
// client_order_id is chosen by the agent that sends the order and is unique among its orders;
// venue_order_id is the venue's. A cancel or replace gets a new client_order_id and names the
// order it acts on in orig_client_order_id.

/// Request to send a new order (strategy / execution agent → gateway, through risk).
struct NewOrder {
  static constexpr std::string_view kTopic = "order.new";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "request to send a new order";

  std::uint64_t client_order_id{};
  std::int64_t price_e9{};         ///< limit price × 1e9; 0 for market orders
  std::int64_t stop_price_e9{};    ///< trigger price × 1e9 for stop orders, else 0
  std::int64_t qty{};              ///< units, > 0
  std::uint64_t expire_time_ns{};  ///< CLOCK_REALTIME ns for kGtd, else 0
  std::uint64_t create_time_ns{};  ///< CLOCK_REALTIME ns the request was made
  std::uint64_t decision_id{};     ///< Decision that caused it, 0 for none
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  char strategy[kStrategyLen]{};
  Side side{};
  OrderType type{};
  TimeInForce tif{};
  std::uint8_t flags{};  ///< kOrderFlag* bits
  std::uint8_t reserved[4]{};
};
SHMBUS_CATALOG_PIN(NewOrder, 120);

inline constexpr std::uint8_t kOrderFlagPostOnly = 1u << 0;
inline constexpr std::uint8_t kOrderFlagReduceOnly = 1u << 1;
inline constexpr std::uint8_t kOrderFlagHidden = 1u << 2;

/// The venue accepted (acknowledged) an order.
struct OrderAccepted {
  static constexpr std::string_view kTopic = "order.accepted";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "order acknowledged by the venue";

  std::uint64_t client_order_id{};
  std::uint64_t venue_order_id{};
  std::int64_t price_e9{};           ///< accepted limit price × 1e9
  std::int64_t qty{};                ///< accepted units
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the gateway received the ack
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  Side side{};
  std::uint8_t reserved[7]{};
};
SHMBUS_CATALOG_PIN(OrderAccepted, 96);

/// An order was rejected, by the venue or before it got there.
struct OrderRejected {
  static constexpr std::string_view kTopic = "order.rejected";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "order rejected (venue, risk or gateway)";

  std::uint64_t client_order_id{};
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns from the venue; 0 if rejected locally
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the rejection was known
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  char text[kTextLen]{};        ///< reason text
  std::uint32_t reason_code{};  ///< venue / broker reject code, 0 when none
  RejectSource source{};
  Side side{};
  std::uint8_t reserved[2]{};
};
SHMBUS_CATALOG_PIN(OrderRejected, 136);

/// An order was partly executed; leaves_qty > 0 remains working.
struct OrderPartiallyFilled {
  static constexpr std::string_view kTopic = "order.partially_filled";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "partial execution; the order keeps working";

  std::uint64_t client_order_id{};
  std::uint64_t venue_order_id{};
  std::uint64_t exec_id{};           ///< venue execution id, unique per fill
  std::int64_t last_price_e9{};      ///< price of this fill × 1e9
  std::int64_t last_qty{};           ///< units in this fill
  std::int64_t cum_qty{};            ///< units filled so far
  std::int64_t leaves_qty{};         ///< units still working
  std::int64_t avg_price_e9{};       ///< average fill price so far × 1e9
  std::int64_t fee_e6{};             ///< fee of this fill, currency × 1e6 (negative = rebate)
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the gateway received it
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  Side side{};
  Liquidity liquidity{};
  std::uint8_t reserved[6]{};
};
SHMBUS_CATALOG_PIN(OrderPartiallyFilled, 136);

/// An order was completely executed (leaves_qty == 0); the final fill.
struct OrderFilled {
  static constexpr std::string_view kTopic = "order.filled";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "final execution; the order is complete";

  std::uint64_t client_order_id{};
  std::uint64_t venue_order_id{};
  std::uint64_t exec_id{};           ///< venue execution id, unique per fill
  std::int64_t last_price_e9{};      ///< price of this fill × 1e9
  std::int64_t last_qty{};           ///< units in this fill
  std::int64_t cum_qty{};            ///< units filled in total
  std::int64_t leaves_qty{};         ///< 0
  std::int64_t avg_price_e9{};       ///< average fill price × 1e9
  std::int64_t fee_e6{};             ///< fee of this fill, currency × 1e6 (negative = rebate)
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the gateway received it
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  Side side{};
  Liquidity liquidity{};
  std::uint8_t reserved[6]{};
};
SHMBUS_CATALOG_PIN(OrderFilled, 136);

/// Request to cancel a working order.
struct CancelRequest {
  static constexpr std::string_view kTopic = "order.cancel_request";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "request to cancel a working order";

  std::uint64_t client_order_id{};       ///< id of this cancel request
  std::uint64_t orig_client_order_id{};  ///< order to cancel
  std::uint64_t venue_order_id{};        ///< venue id of that order, 0 if not yet known
  std::uint64_t create_time_ns{};        ///< CLOCK_REALTIME ns the request was made
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  char strategy[kStrategyLen]{};
  Side side{};
  std::uint8_t reserved[7]{};
};
SHMBUS_CATALOG_PIN(CancelRequest, 96);

/// A working order is no longer working: cancelled on request or unsolicited.
struct OrderCancelled {
  static constexpr std::string_view kTopic = "order.cancelled";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "order cancelled (on request or unsolicited)";

  std::uint64_t client_order_id{};       ///< cancel request id; the order's own id if unsolicited
  std::uint64_t orig_client_order_id{};  ///< the cancelled order
  std::uint64_t venue_order_id{};
  std::int64_t cum_qty{};            ///< units filled before the cancel
  std::int64_t cancelled_qty{};      ///< units that were still working
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the gateway received it
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  Side side{};
  CancelReason reason{};
  std::uint8_t reserved[6]{};
};
SHMBUS_CATALOG_PIN(OrderCancelled, 104);

/// A cancel (or replace) request was refused; the order keeps working as it was.
struct CancelRejected {
  static constexpr std::string_view kTopic = "order.cancel_rejected";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "cancel or replace request refused";

  std::uint64_t client_order_id{};       ///< id of the refused request
  std::uint64_t orig_client_order_id{};  ///< order it was about
  std::uint64_t venue_order_id{};
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns from the venue; 0 if refused locally
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the refusal was known
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  char text[kTextLen]{};        ///< reason text ("too late to cancel")
  std::uint32_t reason_code{};  ///< venue / broker code, 0 when none
  RejectSource source{};
  std::uint8_t reserved[3]{};
};
SHMBUS_CATALOG_PIN(CancelRejected, 152);

/// Request to change price and/or quantity of a working order (cancel/replace).
struct ReplaceRequest {
  static constexpr std::string_view kTopic = "order.replace_request";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "request to amend a working order";

  std::uint64_t client_order_id{};       ///< id the order will have after the replace
  std::uint64_t orig_client_order_id{};  ///< order to amend
  std::uint64_t venue_order_id{};        ///< venue id of that order, 0 if not yet known
  std::int64_t price_e9{};               ///< new limit price × 1e9
  std::int64_t stop_price_e9{};          ///< new trigger price × 1e9, 0 when not a stop order
  std::int64_t qty{};                    ///< new total units (filled units included)
  std::uint64_t create_time_ns{};        ///< CLOCK_REALTIME ns the request was made
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  char strategy[kStrategyLen]{};
  Side side{};
  OrderType type{};
  TimeInForce tif{};
  std::uint8_t reserved[5]{};
};
SHMBUS_CATALOG_PIN(ReplaceRequest, 120);

/// A replace took effect.
struct OrderReplaced {
  static constexpr std::string_view kTopic = "order.replaced";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "order amended by the venue";

  std::uint64_t client_order_id{};       ///< the order's id from now on
  std::uint64_t orig_client_order_id{};  ///< its id before
  std::uint64_t venue_order_id{};
  std::int64_t price_e9{};           ///< limit price now × 1e9
  std::int64_t qty{};                ///< total units now
  std::int64_t cum_qty{};            ///< units filled so far
  std::int64_t leaves_qty{};         ///< units still working
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the gateway received it
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  Side side{};
  std::uint8_t reserved[7]{};
};
SHMBUS_CATALOG_PIN(OrderReplaced, 120);

/// An order reached the end of its time in force.
struct OrderExpired {
  static constexpr std::string_view kTopic = "order.expired";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "order expired (time in force ran out)";

  std::uint64_t client_order_id{};
  std::uint64_t venue_order_id{};
  std::int64_t cum_qty{};            ///< units filled before expiry
  std::int64_t expired_qty{};        ///< units that were still working
  std::uint64_t exchange_time_ns{};  ///< CLOCK_REALTIME ns, stamped by the venue
  std::uint64_t recv_mono_ns{};      ///< CLOCK_MONOTONIC ns, when the gateway received it
  char symbol[kSymbolLen]{};
  char account[kAccountLen]{};
  char venue[kVenueLen]{};
  Side side{};
  TimeInForce tif{};
  std::uint8_t reserved[6]{};
};
SHMBUS_CATALOG_PIN(OrderExpired, 96);

// ---- positions (position.*) ---------------------------------------------------------------------

/// Position of one account (and optionally one strategy) in one instrument.
struct PositionUpdate {
  static constexpr std::string_view kTopic = "position.update";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "position in one instrument changed";

  std::int64_t qty{};                ///< units, long > 0, short < 0
  std::int64_t avg_price_e9{};       ///< average entry price × 1e9
  std::int64_t mark_price_e9{};      ///< price used for unrealized pnl × 1e9
  std::int64_t realized_pnl_e6{};    ///< currency × 1e6
  std::int64_t unrealized_pnl_e6{};  ///< currency × 1e6, at mark_price_e9
  std::int64_t notional_e6{};        ///< qty × mark, currency × 1e6, signed
  std::uint64_t update_time_ns{};    ///< CLOCK_REALTIME ns of the change
  std::uint64_t seq{};               ///< per account+symbol version, grows by 1 per change
  char account[kAccountLen]{};
  char symbol[kSymbolLen]{};
  char strategy[kStrategyLen]{};  ///< empty = all strategies of the account
};
SHMBUS_CATALOG_PIN(PositionUpdate, 112);

/// Totals of one account at one instant.
struct PortfolioSnapshot {
  static constexpr std::string_view kTopic = "position.portfolio";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "account-wide totals at one instant";

  std::uint64_t snapshot_id{};
  std::int64_t equity_e6{};          ///< currency × 1e6
  std::int64_t cash_e6{};            ///< currency × 1e6
  std::int64_t gross_exposure_e6{};  ///< sum of |notional|, currency × 1e6
  std::int64_t net_exposure_e6{};    ///< sum of notional, currency × 1e6
  std::int64_t long_exposure_e6{};   ///< currency × 1e6
  std::int64_t short_exposure_e6{};  ///< currency × 1e6, <= 0
  std::int64_t realized_pnl_e6{};    ///< currency × 1e6, since session start
  std::int64_t unrealized_pnl_e6{};  ///< currency × 1e6
  std::int64_t margin_used_e6{};     ///< currency × 1e6
  std::uint64_t snapshot_time_ns{};  ///< CLOCK_REALTIME ns
  char account[kAccountLen]{};
  char currency[kCurrencyLen]{};   ///< currency of every *_e6 field
  std::uint32_t position_count{};  ///< instruments with a non-zero position
  std::uint8_t reserved[4]{};
};
SHMBUS_CATALOG_PIN(PortfolioSnapshot, 120);

/// Profit and loss of an account, strategy or instrument.
struct PnlUpdate {
  static constexpr std::string_view kTopic = "position.pnl";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "profit and loss update";

  std::int64_t realized_pnl_e6{};    ///< currency × 1e6, since session start
  std::int64_t unrealized_pnl_e6{};  ///< currency × 1e6
  std::int64_t fees_e6{};            ///< currency × 1e6, paid since session start
  std::int64_t total_pnl_e6{};       ///< realized + unrealized − fees, currency × 1e6
  std::int64_t max_drawdown_e6{};    ///< worst peak-to-trough of total, currency × 1e6, <= 0
  std::uint64_t update_time_ns{};    ///< CLOCK_REALTIME ns
  char account[kAccountLen]{};
  char symbol[kSymbolLen]{};      ///< empty = whole account
  char strategy[kStrategyLen]{};  ///< empty = all strategies
  char currency[kCurrencyLen]{};
};
SHMBUS_CATALOG_PIN(PnlUpdate, 104);

// ---- risk (risk.*) ------------------------------------------------------------------------------

/// A risk limit was approached or crossed. limit_e6 and value_e6 are in the limit's unit × 1e6
/// (see LimitKind: currency, units, orders per second, or a ratio).
struct LimitBreach {
  static constexpr std::string_view kTopic = "risk.limit_breach";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "risk limit approached or crossed";

  std::int64_t limit_e6{};         ///< the limit, in its unit × 1e6
  std::int64_t value_e6{};         ///< the measured value, in the same unit × 1e6
  std::uint64_t breach_time_ns{};  ///< CLOCK_REALTIME ns
  char account[kAccountLen]{};
  char symbol[kSymbolLen]{};      ///< empty when the limit is not per instrument
  char strategy[kStrategyLen]{};  ///< empty when the limit is not per strategy
  char text[kTextLen]{};
  std::uint32_t limit_id{};  ///< risk agent's id of the limit
  LimitKind kind{};
  Severity severity{};
  RiskAction action{};
  std::uint8_t reserved[1]{};
};
SHMBUS_CATALOG_PIN(LimitBreach, 144);

/// Pre-trade risk verdict on one order request.
struct RiskCheckResult {
  static constexpr std::string_view kTopic = "risk.check";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "pre-trade risk verdict on an order request";

  std::uint64_t client_order_id{};    ///< the checked request
  std::uint64_t check_time_ns{};      ///< CLOCK_REALTIME ns of the verdict
  std::uint64_t check_duration_ns{};  ///< time the check took
  char account[kAccountLen]{};
  char symbol[kSymbolLen]{};
  char strategy[kStrategyLen]{};
  char text[kTextLen]{};     ///< why, when not kPass
  std::uint32_t limit_id{};  ///< failing limit, 0 when none
  RiskVerdict verdict{};
  LimitKind kind{};  ///< kind of the failing limit
  std::uint8_t reserved[2]{};
};
SHMBUS_CATALOG_PIN(RiskCheckResult, 144);

/// Exposure of an account (or one instrument of it) against its limit.
struct ExposureUpdate {
  static constexpr std::string_view kTopic = "risk.exposure";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "exposure against its limit";

  std::int64_t gross_e6{};         ///< currency × 1e6
  std::int64_t net_e6{};           ///< currency × 1e6
  std::int64_t long_e6{};          ///< currency × 1e6
  std::int64_t short_e6{};         ///< currency × 1e6, <= 0
  std::int64_t limit_e6{};         ///< gross limit applied, currency × 1e6
  std::uint64_t update_time_ns{};  ///< CLOCK_REALTIME ns
  char account[kAccountLen]{};
  char symbol[kSymbolLen]{};        ///< empty = account-wide
  char strategy[kStrategyLen]{};    ///< empty = all strategies
  std::uint32_t utilisation_ppm{};  ///< gross / limit × 1e6 (1'000'000 = at the limit)
  std::uint8_t reserved[4]{};
};
SHMBUS_CATALOG_PIN(ExposureUpdate, 104);

/// Trading halted (engaged = 1) or resumed (engaged = 0) for a scope. Publish at CRITICAL.
struct KillSwitch {
  static constexpr std::string_view kTopic = "risk.kill_switch";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "kill switch engaged or released";

  std::uint64_t switch_time_ns{};  ///< CLOCK_REALTIME ns
  char scope_name[kNameLen]{};     ///< the account / strategy / symbol; empty for kAll
  char issuer[kNameLen]{};         ///< agent or operator that threw it
  char text[kTextLen]{};
  std::uint8_t engaged{};  ///< 1 = trading halted, 0 = released (a byte, not bool)
  KillScope scope{};
  std::uint8_t cancel_open{};  ///< 1 = also cancel working orders in scope
  std::uint8_t reserved[5]{};
};
SHMBUS_CATALOG_PIN(KillSwitch, 144);

// ---- strategy (strategy.*) ----------------------------------------------------------------------

/// A strategy's view on one instrument; also the payload strategies send to a barrier round.
struct Signal {
  static constexpr std::string_view kTopic = "strategy.signal";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "trading signal of one strategy";

  std::uint64_t signal_id{};
  std::int64_t strength_e6{};          ///< −1'000'000 (strong sell) .. +1'000'000 (strong buy)
  std::int64_t confidence_e6{};        ///< 0 .. 1'000'000
  std::int64_t target_qty{};           ///< desired position in units, signed; 0 = no view
  std::int64_t ref_price_e9{};         ///< price the signal was computed at × 1e9
  std::uint64_t horizon_ns{};          ///< how long the signal is meant to hold
  std::uint64_t signal_time_ns{};      ///< CLOCK_REALTIME ns
  std::uint64_t barrier_generation{};  ///< barrier round it answers, 0 when none
  char strategy[kNameLen]{};
  char symbol[kSymbolLen]{};
  std::int8_t direction{};  ///< −1 sell, 0 flat, +1 buy
  std::uint8_t reserved[7]{};
};
SHMBUS_CATALOG_PIN(Signal, 120);

/// What the deciding agent (the CIO) made of the signals of a round.
struct Decision {
  static constexpr std::string_view kTopic = "strategy.decision";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "decision taken from the strategy signals";

  std::uint64_t decision_id{};
  std::int64_t target_qty{};           ///< position to reach, units, signed
  std::int64_t limit_price_e9{};       ///< worst acceptable price × 1e9, 0 = none
  std::uint64_t barrier_generation{};  ///< round decided, 0 when not barrier-driven
  std::uint64_t decision_time_ns{};    ///< CLOCK_REALTIME ns
  std::uint32_t signals_arrived{};     ///< signals the decision used
  std::uint32_t signals_expected{};    ///< participants of the round
  char decider[kNameLen]{};
  char symbol[kSymbolLen]{};
  char text[kTextLen]{};  ///< rationale
  DecisionAction action{};
  std::uint8_t reserved[7]{};
};
SHMBUS_CATALOG_PIN(Decision, 168);

// ---- system (sys.*), published by the supervisor and the dispatchers ----------------------------

/// Health of an agent (or the bus, agent_index == kBusWide) changed.
struct AgentHealthChange {
  static constexpr std::string_view kTopic = "sys.health";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "health of an agent or the bus changed";

  std::uint64_t change_mono_ns{};    ///< CLOCK_MONOTONIC ns
  std::uint64_t heartbeat_age_ns{};  ///< age of the agent's last heartbeat at the change
  std::uint32_t agent_index{};       ///< agent table slot, kBusWide for the bus
  std::uint32_t agent_epoch{};       ///< incarnation of that slot
  char agent[kNameLen]{};
  char text[kTextLen]{};
  HealthState old_state{};
  HealthState new_state{};
  HealthReason reason{};
  std::uint8_t reserved[5]{};
};
SHMBUS_CATALOG_PIN(AgentHealthChange, 128);

/// Backpressure level of one ring changed.
struct BackpressureChange {
  static constexpr std::string_view kTopic = "sys.backpressure";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "backpressure level of a ring changed";

  std::uint64_t change_mono_ns{};  ///< CLOCK_MONOTONIC ns
  std::uint64_t fill_slots{};      ///< events between the tail and the slowest tethered cursor
  std::uint32_t capacity{};        ///< slots in the ring
  std::uint32_t fill_ppm{};        ///< fill_slots / capacity × 1e6
  Priority ring{};                 ///< the ring, named by its priority
  BackpressureLevel old_level{};
  BackpressureLevel new_level{};
  std::uint8_t reserved[5]{};
};
SHMBUS_CATALOG_PIN(BackpressureChange, 32);

/// A handler failed, ran slow, was removed, or the bus hit an error. Never published about
/// itself (a failing sys.error handler does not raise another sys.error).
struct ErrorEvent {
  static constexpr std::string_view kTopic = "sys.error";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "handler failure or bus error";

  std::uint64_t error_mono_ns{};   ///< CLOCK_MONOTONIC ns
  std::uint64_t event_sequence{};  ///< producer sequence of the event being handled, 0 none
  std::uint64_t count{};           ///< occurrences of this error at this agent so far
  std::uint32_t agent_index{};     ///< agent where it happened, kBusWide for the supervisor
  TopicId topic{};                 ///< topic of the event being handled, kInvalidTopic none
  ErrorKind kind{};
  Errc errc{};  ///< for kInternal, else Errc::kOk
  std::uint8_t reserved[6]{};
  char agent[kNameLen]{};
  char handler[kNameLen]{};  ///< HandlerOptions::name
  char message[80]{};        ///< what() of the exception, or the error message, truncated
};
SHMBUS_CATALOG_PIN(ErrorEvent, 184);

/// Participants of barriers are numbered 0..63 in masks (bit i = participant i).
/// A barrier round completed: every participant arrived.
struct BarrierCompleted {
  static constexpr std::string_view kTopic = "sys.barrier.completed";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "barrier round completed (all arrived)";

  std::uint64_t generation{};        ///< round that completed
  std::uint64_t arrived_mask{};      ///< bit i = participant i arrived
  std::uint64_t elapsed_ns{};        ///< from the round's first arrival to completion
  std::uint64_t complete_mono_ns{};  ///< CLOCK_MONOTONIC ns
  char barrier[kNameLen]{};
  std::uint32_t arrived{};       ///< participants that arrived
  std::uint32_t participants{};  ///< participants of the round
};
SHMBUS_CATALOG_PIN(BarrierCompleted, 72);

/// A barrier round reached its deadline with participants missing; the waiter got the partial set.
struct BarrierTimeout {
  static constexpr std::string_view kTopic = "sys.barrier.timeout";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "barrier round timed out with some missing";

  std::uint64_t generation{};        ///< round that timed out
  std::uint64_t arrived_mask{};      ///< bit i = participant i arrived
  std::uint64_t missing_mask{};      ///< bit i = participant i did not
  std::uint64_t timeout_ns{};        ///< the barrier's timeout
  std::uint64_t deadline_mono_ns{};  ///< CLOCK_MONOTONIC ns of the deadline
  char barrier[kNameLen]{};
  std::uint32_t arrived{};
  std::uint32_t participants{};
};
SHMBUS_CATALOG_PIN(BarrierTimeout, 80);

/// A subscriber missed events (lapped while untethered, or its events were padded away).
struct GapNotice {
  static constexpr std::string_view kTopic = "sys.gap";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "a subscriber missed events";

  std::uint64_t first_missed_position{};  ///< ring position of the first missed event
  std::uint64_t missed{};                 ///< events missed
  std::uint64_t detect_mono_ns{};         ///< CLOCK_MONOTONIC ns
  std::uint32_t agent_index{};            ///< the subscriber
  Priority ring{};                        ///< the ring, named by its priority
  GapReason reason{};
  std::uint8_t reserved[2]{};
  char agent[kNameLen]{};
};
SHMBUS_CATALOG_PIN(GapNotice, 64);

/// An agent attached to the bus.
struct AgentJoined {
  static constexpr std::string_view kTopic = "sys.agent.joined";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "an agent attached";

  std::uint64_t join_mono_ns{};  ///< CLOCK_MONOTONIC ns
  std::int32_t pid{};            ///< diagnostics only: ambiguous across PID namespaces
  std::uint32_t agent_index{};
  std::uint32_t agent_epoch{};  ///< incarnation of the slot
  std::uint8_t reserved[4]{};
  std::uint64_t process_start_ticks{};  ///< /proc/<pid>/stat starttime, clock ticks; diagnostics
  char agent[kNameLen]{};
};
SHMBUS_CATALOG_PIN(AgentJoined, 64);

/// An agent detached, died, or was evicted; its record is free again.
struct AgentLeft {
  static constexpr std::string_view kTopic = "sys.agent.left";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "an agent detached, died or was evicted";

  std::uint64_t leave_mono_ns{};     ///< CLOCK_MONOTONIC ns
  std::uint64_t events_published{};  ///< over the agent's life
  std::uint64_t events_consumed{};   ///< over the agent's life
  std::int32_t pid{};                ///< diagnostics only
  std::uint32_t agent_index{};
  std::uint32_t agent_epoch{};
  LeaveReason reason{};
  std::uint8_t reserved[3]{};
  char agent[kNameLen]{};
};
SHMBUS_CATALOG_PIN(AgentLeft, 72);

/// Periodic liveness and progress of an agent, for tools that watch the bus from outside.
/// (Liveness itself is judged from the agent record, not from these events.)
struct Heartbeat {
  static constexpr std::string_view kTopic = "sys.heartbeat";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "periodic liveness and progress of an agent";

  std::uint64_t beat_mono_ns{};      ///< CLOCK_MONOTONIC ns
  std::uint64_t beat_time_ns{};      ///< CLOCK_REALTIME ns, for clock-skew checks across hosts
  std::uint64_t seq{};               ///< heartbeats sent by this agent, from 1
  std::uint64_t events_published{};  ///< since attach
  std::uint64_t events_consumed{};   ///< since attach
  std::uint32_t agent_index{};
  std::uint32_t agent_epoch{};
  char agent[kNameLen]{};
  HealthState state{};  ///< the agent's own view of itself
  std::uint8_t reserved[7]{};
};
SHMBUS_CATALOG_PIN(Heartbeat, 88);

// ---- performance (perf.*) -----------------------------------------------------------------------

/// One measured latency of a named stage ("md->signal", "publish->dispatch").
struct LatencySample {
  static constexpr std::string_view kTopic = "perf.latency";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "one latency measurement of a stage";

  std::uint64_t latency_ns{};      ///< the measurement
  std::uint64_t sample_mono_ns{};  ///< CLOCK_MONOTONIC ns at the end of the measured span
  std::uint64_t event_sequence{};  ///< producer sequence of the measured event, 0 none
  std::uint32_t agent_index{};     ///< agent that measured
  std::uint8_t reserved[4]{};
  char stage[kNameLen]{};
};
SHMBUS_CATALOG_PIN(LatencySample, 64);

/// Latency distribution of a stage over a window.
struct LatencyStats {
  static constexpr std::string_view kTopic = "perf.latency_stats";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "latency percentiles of a stage over a window";

  std::uint64_t window_ns{};  ///< window length
  std::uint64_t count{};      ///< samples in the window
  std::uint64_t min_ns{};
  std::uint64_t p50_ns{};
  std::uint64_t p90_ns{};
  std::uint64_t p99_ns{};
  std::uint64_t p999_ns{};
  std::uint64_t max_ns{};
  std::uint64_t mean_ns{};
  std::uint64_t window_end_mono_ns{};  ///< CLOCK_MONOTONIC ns at the end of the window
  std::uint32_t agent_index{};
  std::uint8_t reserved[4]{};
  char stage[kNameLen]{};
};
SHMBUS_CATALOG_PIN(LatencyStats, 120);

/// Events and bytes a stage handled over a window.
struct ThroughputSample {
  static constexpr std::string_view kTopic = "perf.throughput";
  static constexpr std::uint16_t kSchemaVersion = 1;
  static constexpr std::string_view kDescription = "events and bytes of a stage over a window";

  std::uint64_t window_ns{};           ///< window length
  std::uint64_t events{};              ///< events in the window
  std::uint64_t bytes{};               ///< payload bytes in the window
  std::uint64_t events_per_sec{};      ///< events × 1e9 / window_ns, rounded down
  std::uint64_t dropped{};             ///< not published in the window (full, shed, rate-limited)
  std::uint64_t window_end_mono_ns{};  ///< CLOCK_MONOTONIC ns at the end of the window
  std::uint32_t agent_index{};
  std::uint8_t reserved[4]{};
  char stage[kNameLen]{};
};
SHMBUS_CATALOG_PIN(ThroughputSample, 88);

#undef SHMBUS_CATALOG_PIN

// ---- the catalogue as data ----------------------------------------------------------------------

/// What a payload type needs to join a catalogue (user types may follow the same shape).
template <typename T>
concept CatalogPayload = std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T> &&
                         sizeof(T) <= kMaxCatalogPayload&& requires {
  { T::kTopic } -> std::convertible_to<std::string_view>;
  { T::kSchemaVersion } -> std::convertible_to<std::uint16_t>;
  { T::kDescription } -> std::convertible_to<std::string_view>;
};

template <typename... Ts>
struct TypeList {
  static constexpr std::size_t size = sizeof...(Ts);
};

/// Every catalogue type, in catalog() order. Append only; never reorder.
using CatalogTypes =
    TypeList<Quote, Trade, BookLevel, BookUpdate, BookDepth, Bar, MarketStatus, ReferencePrice,
             Imbalance, DailyStats,  // md
             NewOrder, OrderAccepted, OrderRejected, OrderPartiallyFilled, OrderFilled,
             CancelRequest, OrderCancelled, CancelRejected, ReplaceRequest, OrderReplaced,
             OrderExpired,                                              // order
             PositionUpdate, PortfolioSnapshot, PnlUpdate,              // position
             LimitBreach, RiskCheckResult, ExposureUpdate, KillSwitch,  // risk
             Signal, Decision,                                          // strategy
             AgentHealthChange, BackpressureChange, ErrorEvent, BarrierCompleted, BarrierTimeout,
             GapNotice, AgentJoined, AgentLeft, Heartbeat,    // sys
             LatencySample, LatencyStats, ThroughputSample>;  // perf

inline constexpr std::size_t kCatalogSize = CatalogTypes::size;

/// One row of the catalogue.
struct CatalogEntry {
  std::string_view topic;        ///< default topic name ("md.quote")
  std::uint32_t payload_size;    ///< sizeof the payload struct, bytes
  std::uint16_t schema_version;  ///< T::kSchemaVersion
  std::string_view group;        ///< "market_data", "order", "position", "risk", "strategy",
                                 ///< "system" or "performance"
  std::string_view description;  ///< one line
};

namespace detail {  // not API

/// Group of a catalogue topic, from its first segment; empty for an unknown root.
constexpr std::string_view catalog_group_of(std::string_view topic) noexcept {
  const std::string_view root = topic.substr(0, topic.find('.'));
  if (root == "md") return "market_data";
  if (root == "order") return "order";
  if (root == "position") return "position";
  if (root == "risk") return "risk";
  if (root == "strategy") return "strategy";
  if (root == "sys") return "system";
  if (root == "perf") return "performance";
  return {};
}

template <CatalogPayload... Ts>
constexpr std::array<CatalogEntry, sizeof...(Ts)> make_catalog(TypeList<Ts...>) noexcept {
  return {{CatalogEntry{Ts::kTopic, static_cast<std::uint32_t>(sizeof(Ts)), Ts::kSchemaVersion,
                        catalog_group_of(Ts::kTopic), Ts::kDescription}...}};
}

inline constexpr std::array<CatalogEntry, kCatalogSize> kCatalog = make_catalog(CatalogTypes{});

constexpr bool catalog_is_well_formed() noexcept {
  for (std::size_t i = 0; i < kCatalog.size(); ++i) {
    if (kCatalog[i].group.empty() || kCatalog[i].schema_version == 0) return false;
    for (std::size_t j = i + 1; j < kCatalog.size(); ++j) {
      if (kCatalog[i].topic == kCatalog[j].topic) return false;
    }
  }
  return true;
}
static_assert(catalog_is_well_formed(), "catalogue topics must be unique, with a known group");

}  // namespace detail

/// Every catalogue type's descriptor, in CatalogTypes order. Static storage; never changes.
constexpr std::span<const CatalogEntry> catalog() noexcept {
  return detail::kCatalog;
}

/// The entry whose topic is `topic` or the longest one that is a dotted prefix of it
/// ("md.quote.ESZ6" finds "md.quote"); nullptr when none.
constexpr const CatalogEntry* find_catalog_entry(std::string_view topic) noexcept {
  const CatalogEntry* best = nullptr;
  for (const CatalogEntry& e : detail::kCatalog) {
    const bool match = topic == e.topic ||
                       (topic.size() > e.topic.size() &&
                        topic.substr(0, e.topic.size()) == e.topic && topic[e.topic.size()] == '.');
    if (match && (best == nullptr || e.topic.size() > best->topic.size())) best = &e;
  }
  return best;
}

/// Calls `f(std::type_identity<T>{})` for every catalogue type T, in catalog() order:
///   visit_catalog_types([](auto tag) { using T = typename decltype(tag)::type; ... });
template <typename F>
constexpr void visit_catalog_types(F&& f) {
  [&]<typename... Ts>(TypeList<Ts...>) { (f(std::type_identity<Ts>{}), ...); }(CatalogTypes{});
}

/// Calls `f(std::type_identity<T>{})` for the catalogue type of `topic` (matched as
/// find_catalog_entry does) and returns true; returns false, without calling f, when none.
template <typename F>
constexpr bool visit_catalog_type(std::string_view topic, F&& f) {
  const CatalogEntry* entry = find_catalog_entry(topic);
  if (entry == nullptr) return false;
  bool found = false;
  visit_catalog_types([&](auto tag) {
    using T = typename decltype(tag)::type;
    if (!found && T::kTopic == entry->topic) {
      found = true;
      f(tag);
    }
  });
  return found;
}

/// Registers every catalogue topic on `bus` under its default name, with its payload size and
/// schema version. Idempotent: topics already registered identically are found, not duplicated.
/// Cold path; call from the thread that owns `bus`'s dispatching. Errors: those of
/// Bus::register_topic (kCapacityExceeded when the registry is full, kInvalidArgument when a
/// topic of that name exists with another size or schema); the message names the topic.
Result<void> register_catalog(Bus& bus);

}  // namespace catalog
}  // namespace shmbus
