// The trading catalogue as data: the list of every catalogue type (CatalogTypes, the sys.*
// types of sys_events.hpp included), a descriptor per type (topic, size, schema, group, field
// list), lookup by topic and visitors, so tools (`shmbus publish`, `tail`) can map a topic name
// to its struct; and register_catalog.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "shmbus/catalog/common.hpp"
#include "shmbus/catalog/market_data.hpp"
#include "shmbus/catalog/order.hpp"
#include "shmbus/catalog/performance.hpp"
#include "shmbus/catalog/position.hpp"
#include "shmbus/catalog/risk.hpp"
#include "shmbus/catalog/strategy.hpp"
#include "shmbus/fields.hpp"
#include "shmbus/result.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus {

class Bus;

namespace catalog {

/// What a payload type needs to join a catalogue (user types may follow the same shape).
template <typename T>
concept CatalogPayload = std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T> &&
                         sizeof(T) <= kMaxCatalogPayload&& requires {
  { T::kTopic } -> std::convertible_to<std::string_view>;
  { T::kSchemaVersion } -> std::convertible_to<std::uint16_t>;
  { T::kDescription } -> std::convertible_to<std::string_view>;
  {T::fields()};  // SHMBUS_FIELDS (fields.hpp)
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
             sys::AgentHealthChange, sys::BackpressureChange, sys::ErrorEvent,
             sys::BarrierCompleted, sys::BarrierTimeout, sys::GapNotice, sys::AgentJoined,
             sys::AgentLeft, sys::Heartbeat,                  // sys (sys_events.hpp)
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
  /// Every member of the payload struct, reserved bytes included (T::fields(), fields.hpp).
  std::span<const FieldDesc> fields;
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
                        catalog_group_of(Ts::kTopic), Ts::kDescription, fields_of<Ts>()}...}};
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
