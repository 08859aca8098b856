// MetricsCollector: the supervisor's Prometheus endpoint. A prometheus::Collectable that, at
// each scrape (on an Exposer thread), reads the bus with inspect_bus() and read_stats() and
// turns it into metric families. Nothing runs between scrapes and the data path is untouched.
// Owned by SupervisorImpl with its Exposer; not API (prometheus headers stay out of include/).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "shmbus/result.hpp"

namespace prometheus {
class Exposer;
}

namespace shmbus::detail {

class MetricsCollector final : public prometheus::Collectable {
 public:
  explicit MetricsCollector(std::string bus_name);
  /// Called by the Exposer's worker threads, several at once possibly: reads only, holds no
  /// state between calls. Never throws; a bus that cannot be read yields only
  /// shmbus_supervisor_up 0.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string bus_name_;
};

/// "HOST:PORT" as given, "PORT" alone as "127.0.0.1:PORT" (civetweb would bind every
/// interface). Empty when `address` is empty.
std::string metrics_bind_address(const std::string& address);

/// The HTTP endpoint: an Exposer serving `collector` on /metrics.
struct MetricsServer {
  std::shared_ptr<MetricsCollector> collector;
  std::unique_ptr<prometheus::Exposer> exposer;
  std::uint16_t port = 0;  ///< the port actually bound (resolves port 0)

  MetricsServer();
  MetricsServer(MetricsServer&&) noexcept;
  MetricsServer& operator=(MetricsServer&&) noexcept;
  ~MetricsServer();

  /// Binds `address` (see metrics_bind_address). Errors: kInvalidArgument (bad address),
  /// kSystem (cannot bind, e.g. port in use), naming the address.
  static Result<MetricsServer> start(const std::string& bus_name, const std::string& address);
};

}  // namespace shmbus::detail
