// What every payload of the trading catalogue shares: its wire conventions (units, clocks, text
// fields, enums), the text lengths and the Side enum used by market data and orders. Included by
// each domain header of include/shmbus/catalog/.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmbus/enum_range.hpp"
#include "shmbus/fields.hpp"
#include "shmbus/fixed_text.hpp"

// Conventions of every catalogue payload, which sys_events.hpp follows too (they are a wire
// format: binaries built months apart share these bytes, so fields have fixed widths, explicit
// `reserved` bytes listed in SHMBUS_FIELDS, and no implicit padding):
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

namespace shmbus::catalog {

/// Largest catalogue payload: the default BusConfig::max_payload_bytes, so every type fits a bus
/// created with default settings.
inline constexpr std::size_t kMaxCatalogPayload = kMaxBuiltinPayload;

inline constexpr std::size_t kSymbolLen = 16;    ///< instrument symbol, up to 15 chars
inline constexpr std::size_t kVenueLen = 8;      ///< venue / exchange MIC, up to 7 chars
inline constexpr std::size_t kAccountLen = 16;   ///< trading account, up to 15 chars
inline constexpr std::size_t kStrategyLen = 16;  ///< strategy tag on orders, up to 15 chars
inline constexpr std::size_t kCurrencyLen = 8;   ///< ISO 4217 code ("USD"), up to 7 chars

// The fixed-text helpers and lengths the catalogue shares with sys_events.hpp (fixed_text.hpp),
// under their catalogue names too.
using shmbus::kNameLen;
using shmbus::kTextLen;
using shmbus::set_symbol;
using shmbus::symbol_view;

enum class Side : std::uint8_t { kNone = 0, kBuy = 1, kSell = 2 };
SHMBUS_ENUM_LAST(Side, kSell);

}  // namespace shmbus::catalog
