// Registration of the built-in catalogue of trading event types on a bus.
#include "shmbus/catalog.hpp"

#include <string>

#include "shm/bus_access.hpp"

namespace shmbus::catalog {

Result<void> register_catalog(Bus& bus) {
  for (const CatalogEntry& entry : catalog()) {
    auto id = bus.register_topic(entry.topic, entry.payload_size, entry.schema_version);
    if (!id) {
      return make_error(id.code(), "catalogue topic " + std::string(entry.topic) + " (" +
                                       std::to_string(entry.payload_size) + " bytes, schema " +
                                       std::to_string(entry.schema_version) + "): " + id.message());
    }
  }
  return {};
}

}  // namespace shmbus::catalog
