// The built-in catalogue of trading event types, umbrella header: one fixed-size payload struct
// per event, each with its default topic name and field list, split by domain under catalog/
// (market data, orders, positions, risk, strategy, performance), plus the catalogue as data
// (catalog/catalog_table.hpp: descriptors, lookup by topic, register_catalog). The catalogue also
// lists the bus's own sys.* payloads, which live in sys_events.hpp (namespace shmbus::sys).
// Agents and tools include it; the core does not.
#pragma once

#include "shmbus/catalog/catalog_table.hpp"
#include "shmbus/catalog/common.hpp"
#include "shmbus/catalog/market_data.hpp"
#include "shmbus/catalog/order.hpp"
#include "shmbus/catalog/performance.hpp"
#include "shmbus/catalog/position.hpp"
#include "shmbus/catalog/risk.hpp"
#include "shmbus/catalog/strategy.hpp"
#include "shmbus/fields.hpp"
#include "shmbus/fixed_text.hpp"
#include "shmbus/sys_events.hpp"
