// Risk payloads of the trading catalogue (risk.*): limit breaches, pre-trade verdicts, exposure
// and the kill switch. Conventions in catalog/common.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmbus/catalog/common.hpp"
#include "shmbus/enum_range.hpp"

namespace shmbus::catalog {

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
SHMBUS_ENUM_LAST(LimitKind, kPriceBand);
enum class Severity : std::uint8_t { kUnknown = 0, kWarning, kBreach, kCritical };
SHMBUS_ENUM_LAST(Severity, kCritical);
/// What the risk agent did about a breach.
enum class RiskAction : std::uint8_t { kNone = 0, kBlockNew, kCancelOpen, kKillSwitch };
SHMBUS_ENUM_LAST(RiskAction, kKillSwitch);
enum class RiskVerdict : std::uint8_t { kUnknown = 0, kPass, kWarn, kReject };
SHMBUS_ENUM_LAST(RiskVerdict, kReject);
enum class KillScope : std::uint8_t { kUnknown = 0, kAll, kAccount, kStrategy, kSymbol };
SHMBUS_ENUM_LAST(KillScope, kSymbol);

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

  SHMBUS_FIELDS(LimitBreach, limit_e6, value_e6, breach_time_ns, account, symbol, strategy, text,
                limit_id, kind, severity, action, reserved);
};
SHMBUS_PAYLOAD_PIN(LimitBreach, 144);

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

  SHMBUS_FIELDS(RiskCheckResult, client_order_id, check_time_ns, check_duration_ns, account, symbol,
                strategy, text, limit_id, verdict, kind, reserved);
};
SHMBUS_PAYLOAD_PIN(RiskCheckResult, 144);

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

  SHMBUS_FIELDS(ExposureUpdate, gross_e6, net_e6, long_e6, short_e6, limit_e6, update_time_ns,
                account, symbol, strategy, utilisation_ppm, reserved);
};
SHMBUS_PAYLOAD_PIN(ExposureUpdate, 104);

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

  SHMBUS_FIELDS(KillSwitch, switch_time_ns, scope_name, issuer, text, engaged, scope, cancel_open,
                reserved);
};
SHMBUS_PAYLOAD_PIN(KillSwitch, 144);

}  // namespace shmbus::catalog
