// Position payloads of the trading catalogue (position.*): positions per instrument, account
// snapshots, profit and loss. Conventions in catalog/common.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmbus/catalog/common.hpp"

namespace shmbus::catalog {

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

  SHMBUS_FIELDS(PositionUpdate, qty, avg_price_e9, mark_price_e9, realized_pnl_e6,
                unrealized_pnl_e6, notional_e6, update_time_ns, seq, account, symbol, strategy);
};
SHMBUS_PAYLOAD_PIN(PositionUpdate, 112);

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

  SHMBUS_FIELDS(PortfolioSnapshot, snapshot_id, equity_e6, cash_e6, gross_exposure_e6,
                net_exposure_e6, long_exposure_e6, short_exposure_e6, realized_pnl_e6,
                unrealized_pnl_e6, margin_used_e6, snapshot_time_ns, account, currency,
                position_count, reserved);
};
SHMBUS_PAYLOAD_PIN(PortfolioSnapshot, 120);

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

  SHMBUS_FIELDS(PnlUpdate, realized_pnl_e6, unrealized_pnl_e6, fees_e6, total_pnl_e6,
                max_drawdown_e6, update_time_ns, account, symbol, strategy, currency);
};
SHMBUS_PAYLOAD_PIN(PnlUpdate, 104);

}  // namespace shmbus::catalog
