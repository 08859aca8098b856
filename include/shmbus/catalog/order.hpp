// Order lifecycle payloads of the trading catalogue (order.*): new orders, acknowledgements,
// rejects, fills, cancels and replaces, expiry. Conventions in catalog/common.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmbus/catalog/common.hpp"
#include "shmbus/enum_range.hpp"

namespace shmbus::catalog {

// client_order_id is chosen by the agent that sends the order and is unique among its orders;
// venue_order_id is the venue's. A cancel or replace gets a new client_order_id and names the
// order it acts on in orig_client_order_id.

enum class OrderType : std::uint8_t { kUnknown = 0, kMarket, kLimit, kStop, kStopLimit };
SHMBUS_ENUM_LAST(OrderType, kStopLimit);
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
SHMBUS_ENUM_LAST(TimeInForce, kAtClose);
enum class Liquidity : std::uint8_t { kUnknown = 0, kMaker, kTaker, kAuction };
SHMBUS_ENUM_LAST(Liquidity, kAuction);
/// Who rejected an order.
enum class RejectSource : std::uint8_t { kUnknown = 0, kVenue, kRisk, kGateway, kBus };
SHMBUS_ENUM_LAST(RejectSource, kBus);
enum class CancelReason : std::uint8_t {
  kUnknown = 0,
  kRequested,   ///< answer to a CancelRequest
  kVenue,       ///< unsolicited, by the venue
  kRisk,        ///< by the risk agent
  kKillSwitch,  ///< a kill switch engaged
  kSelfTrade,   ///< self-trade prevention
  kSessionEnd,  ///< end of session / day order
};
SHMBUS_ENUM_LAST(CancelReason, kSessionEnd);

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

  SHMBUS_FIELDS(NewOrder, client_order_id, price_e9, stop_price_e9, qty, expire_time_ns,
                create_time_ns, decision_id, symbol, account, venue, strategy, side, type, tif,
                flags, reserved);
};
SHMBUS_PAYLOAD_PIN(NewOrder, 120);

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

  SHMBUS_FIELDS(OrderAccepted, client_order_id, venue_order_id, price_e9, qty, exchange_time_ns,
                recv_mono_ns, symbol, account, venue, side, reserved);
};
SHMBUS_PAYLOAD_PIN(OrderAccepted, 96);

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

  SHMBUS_FIELDS(OrderRejected, client_order_id, exchange_time_ns, recv_mono_ns, symbol, account,
                venue, text, reason_code, source, side, reserved);
};
SHMBUS_PAYLOAD_PIN(OrderRejected, 136);

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

  SHMBUS_FIELDS(OrderPartiallyFilled, client_order_id, venue_order_id, exec_id, last_price_e9,
                last_qty, cum_qty, leaves_qty, avg_price_e9, fee_e6, exchange_time_ns, recv_mono_ns,
                symbol, account, venue, side, liquidity, reserved);
};
SHMBUS_PAYLOAD_PIN(OrderPartiallyFilled, 136);

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

  SHMBUS_FIELDS(OrderFilled, client_order_id, venue_order_id, exec_id, last_price_e9, last_qty,
                cum_qty, leaves_qty, avg_price_e9, fee_e6, exchange_time_ns, recv_mono_ns, symbol,
                account, venue, side, liquidity, reserved);
};
SHMBUS_PAYLOAD_PIN(OrderFilled, 136);

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

  SHMBUS_FIELDS(CancelRequest, client_order_id, orig_client_order_id, venue_order_id,
                create_time_ns, symbol, account, venue, strategy, side, reserved);
};
SHMBUS_PAYLOAD_PIN(CancelRequest, 96);

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

  SHMBUS_FIELDS(OrderCancelled, client_order_id, orig_client_order_id, venue_order_id, cum_qty,
                cancelled_qty, exchange_time_ns, recv_mono_ns, symbol, account, venue, side, reason,
                reserved);
};
SHMBUS_PAYLOAD_PIN(OrderCancelled, 104);

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

  SHMBUS_FIELDS(CancelRejected, client_order_id, orig_client_order_id, venue_order_id,
                exchange_time_ns, recv_mono_ns, symbol, account, venue, text, reason_code, source,
                reserved);
};
SHMBUS_PAYLOAD_PIN(CancelRejected, 152);

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

  SHMBUS_FIELDS(ReplaceRequest, client_order_id, orig_client_order_id, venue_order_id, price_e9,
                stop_price_e9, qty, create_time_ns, symbol, account, venue, strategy, side, type,
                tif, reserved);
};
SHMBUS_PAYLOAD_PIN(ReplaceRequest, 120);

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

  SHMBUS_FIELDS(OrderReplaced, client_order_id, orig_client_order_id, venue_order_id, price_e9, qty,
                cum_qty, leaves_qty, exchange_time_ns, recv_mono_ns, symbol, account, venue, side,
                reserved);
};
SHMBUS_PAYLOAD_PIN(OrderReplaced, 120);

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

  SHMBUS_FIELDS(OrderExpired, client_order_id, venue_order_id, cum_qty, expired_qty,
                exchange_time_ns, recv_mono_ns, symbol, account, venue, side, tif, reserved);
};
SHMBUS_PAYLOAD_PIN(OrderExpired, 96);

}  // namespace shmbus::catalog
