// The bridge's state directory as an agent directory (shm/agent_dir.hpp): written by the bridge
// (StatsFile), read by `shmbus status` and the supervisor's metrics (read_bridge_stats,
// list_bus_bridges), the same way as the journal's (journal/recorder.cpp).
#include <type_traits>

#include "bridge/stats_file.hpp"
#include "shmbus/bridge_stats.hpp"

namespace shmbus::bridge {

namespace {
constexpr std::uint64_t kStatsMagic = 0x5354414247444252ull;  // "RBDGBATS"
constexpr std::uint64_t kStatsVersion = 1;
constexpr std::string_view kRegistrationKind = "bridge";
static_assert(std::is_trivially_copyable_v<BridgeStats>);
static_assert(sizeof(BridgeStats) % 8 == 0);
}  // namespace

namespace detail {

Result<void> StatsFile::lock(const std::string& dir) {
  auto l = shmbus::detail::DirLock::acquire(dir, "bridge state");
  if (!l) return l.error();
  lock_ = std::move(*l);
  return {};
}

void StatsFile::open(const std::string& dir, const std::string& bus, const std::string& agent) {
  block_.open(dir, kStatsMagic, kStatsVersion, sizeof(BridgeStats), "bridge");
  registration_.open(kRegistrationKind, bus, agent, dir);
}

void StatsFile::publish(const BridgeStats& s) noexcept {
  block_.store(&s, sizeof s);
}

}  // namespace detail

Result<BridgeStats> read_bridge_stats(const std::string& dir) {
  BridgeStats s{};
  if (auto r = shmbus::detail::read_stats_block(dir, kStatsMagic, kStatsVersion, &s, sizeof s,
                                                "bridge stats");
      !r) {
    return r.error();
  }
  s.last_error[sizeof s.last_error - 1] = '\0';
  return s;
}

std::string bridge_registration_path(std::string_view bus, std::string_view agent) {
  return shmbus::detail::registration_path(kRegistrationKind, bus, agent);
}

std::vector<BusBridge> list_bus_bridges(std::string_view bus) {
  std::vector<BusBridge> out;
  for (auto& r : shmbus::detail::list_registered(kRegistrationKind, bus)) {
    BusBridge b;
    b.agent = std::move(r.agent);
    b.dir = std::move(r.dir);
    if (auto st = read_bridge_stats(b.dir)) {
      b.stats = *st;
    } else {
      b.error = st.message();
    }
    // Live means the kernel still holds the bridge's lock on its state directory.
    b.running = r.lock_held.value_or(shmbus::detail::pid_alive(b.stats.pid));
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace shmbus::bridge
