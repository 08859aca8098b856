// BusAccess: how the library's own code (barriers, system events, dead letters,
// statistics) and the tests reach the BusImpl behind a public Bus, which no longer
// hands it out. A friend of Bus; not API, never installed.
#pragma once

#include "shm/bus_impl.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::detail {

struct BusAccess {
  static BusImpl& impl(Bus& bus) noexcept { return *bus.impl_; }
};

}  // namespace shmbus::detail
