// Strategy payloads of the trading catalogue (strategy.*): the signals strategies send (also into
// barrier rounds) and the decision the deciding agent (the CIO) takes from them. Conventions in
// catalog/common.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmbus/catalog/common.hpp"
#include "shmbus/enum_range.hpp"

namespace shmbus::catalog {

enum class DecisionAction : std::uint8_t { kUnknown = 0, kHold, kBuy, kSell, kFlatten };
SHMBUS_ENUM_LAST(DecisionAction, kFlatten);

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

  SHMBUS_FIELDS(Signal, signal_id, strength_e6, confidence_e6, target_qty, ref_price_e9, horizon_ns,
                signal_time_ns, barrier_generation, strategy, symbol, direction, reserved);
};
SHMBUS_PAYLOAD_PIN(Signal, 120);

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

  SHMBUS_FIELDS(Decision, decision_id, target_qty, limit_price_e9, barrier_generation,
                decision_time_ns, signals_arrived, signals_expected, decider, symbol, text, action,
                reserved);
};
SHMBUS_PAYLOAD_PIN(Decision, 168);

}  // namespace shmbus::catalog
