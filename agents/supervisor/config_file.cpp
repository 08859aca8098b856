#include "config_file.hpp"

#include <grp.h>
#include <pwd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <type_traits>

namespace shmbus::supervisor_app {

namespace {

using nlohmann::json;

struct Problem : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One JSON object being read: typed fields, each key checked off, leftovers are errors.
class Object {
 public:
  Object(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) throw Problem(where() + " must be an object");
  }
  ~Object() = default;

  template <typename T>
  void get(const char* key, T& out) {
    const json* v = find(key);
    if (v == nullptr) return;
    if constexpr (std::is_same_v<T, bool>) {
      if (!v->is_boolean()) throw Problem(where(key) + " must be true or false");
    } else if constexpr (std::is_unsigned_v<T>) {
      if (!v->is_number_unsigned()) throw Problem(where(key) + " must be a non-negative integer");
      if (v->get<std::uint64_t>() > std::numeric_limits<T>::max()) {
        throw Problem(where(key) + " is too large");
      }
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v->is_number()) throw Problem(where(key) + " must be a number");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v->is_string()) throw Problem(where(key) + " must be a string");
    }
    out = v->get<T>();
  }
  /// A duration given as a number of `Unit`s (milliseconds, microseconds).
  template <typename Unit>
  void duration(const char* key, std::chrono::nanoseconds& out) {
    double v = 0;
    if (find(key) == nullptr) return;
    get(key, v);
    if (v < 0) throw Problem(where(key) + " must not be negative");
    out = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double, Unit>(v));
  }
  const json* object(const char* key) {
    const json* v = find(key);
    if (v != nullptr && !v->is_object()) throw Problem(where(key) + " must be an object");
    return v;
  }
  const json* find(const char* key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  std::string where(const std::string& key = {}) const {
    return key.empty() ? (path_.empty() ? "the top level" : path_)
                       : path_ + (path_.empty() ? "" : ".") + key;
  }
  void finish() const {
    for (const auto& item : j_.items()) {
      if (seen_.count(item.key()) == 0) throw Problem("unknown key '" + where(item.key()) + "'");
    }
  }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

void read_bus(Object o, BusConfig& b) {
  o.get("name", b.name);
  if (const json* caps = o.find("ring_capacity")) {
    if (caps->is_number_unsigned()) {
      b.ring_capacity.fill(caps->get<std::uint32_t>());
    } else if (caps->is_array() && caps->size() == b.ring_capacity.size()) {
      for (std::size_t i = 0; i < b.ring_capacity.size(); ++i) {
        if (!(*caps)[i].is_number_unsigned()) throw Problem("bus.ring_capacity must hold integers");
        b.ring_capacity[i] = (*caps)[i].get<std::uint32_t>();
      }
    } else {
      throw Problem(
          "bus.ring_capacity must be an integer or 4 integers (CRITICAL, HIGH, NORMAL, LOW)");
    }
  }
  o.get("max_payload_bytes", b.max_payload_bytes);
  o.get("max_agents", b.max_agents);
  o.get("max_topics", b.max_topics);
  o.get("history_depth", b.history_depth);
  o.get("max_barriers", b.max_barriers);
  o.get("max_barrier_participants", b.max_barrier_participants);
  o.get("barrier_signal_bytes", b.barrier_signal_bytes);
  o.get("dead_letter_capacity", b.dead_letter_capacity);
  o.get("error_log_capacity", b.error_log_capacity);
  if (const json* perm = o.find("permissions")) {
    // "0640" (octal text, as in chmod) or a plain integer.
    if (perm->is_string()) {
      auto mode = parse_mode(perm->get<std::string>(), "bus.permissions");
      if (!mode) throw Problem(mode.message());
      b.permissions = *mode;
    } else {
      o.get("permissions", b.permissions);
    }
  }
  // Who may own a live segment the supervisor adopts: a name or a number.
  for (auto [key, out, group] :
       {std::tuple{"owner", &b.owner_uid, false}, std::tuple{"group", &b.group_gid, true}}) {
    const json* v = o.find(key);
    if (v == nullptr) continue;
    if (v->is_null()) {  // the default: the supervisor's own user / group
      *out = -1;
      continue;
    }
    const std::string what = std::string("bus.") + key;
    if (!v->is_string() && !v->is_number_integer()) {
      throw Problem(what + " must be a " + (group ? "group" : "user") + " name or number");
    }
    const std::string text =
        v->is_string() ? v->get<std::string>() : std::to_string(v->get<std::int64_t>());
    auto id = group ? resolve_group(text, what.c_str()) : resolve_user(text, what.c_str());
    if (!id) throw Problem(id.message());
    *out = *id;
  }
  o.finish();
}

void read(const json& root, AppConfig& app) {
  SupervisorConfig& c = app.supervisor;
  Object top(root, "");
  if (const json* j = top.object("bus")) read_bus(Object(*j, "bus"), c.bus);
  top.duration<std::milli>("check_period_ms", c.check_period);
  top.duration<std::milli>("unblock_timeout_ms", c.unblock_timeout);
  if (const json* j = top.object("backpressure")) {
    Object o(*j, "backpressure");
    o.get("warning", c.backpressure.warning);
    o.get("high", c.backpressure.high);
    o.get("critical", c.backpressure.critical);
    o.get("hysteresis", c.backpressure.hysteresis);
    o.duration<std::milli>("min_dwell_ms", c.backpressure.min_dwell);
    o.get("low_rate_at_high_per_s", c.backpressure.low_rate_at_high_per_s);
    o.finish();
  }
  if (const json* j = top.object("slow_subscribers")) {
    Object o(*j, "slow_subscribers");
    o.get("untether", c.slow_subscribers.untether);
    o.get("lag", c.slow_subscribers.lag);
    o.duration<std::milli>("behind_for_ms", c.slow_subscribers.behind_for);
    o.duration<std::milli>("stall_timeout_ms", c.slow_subscribers.stall_timeout);
    o.finish();
  }
  if (const json* j = top.object("health")) {
    Object o(*j, "health");
    o.duration<std::milli>("heartbeat_degraded_ms", c.health.heartbeat_degraded);
    o.duration<std::milli>("heartbeat_unhealthy_ms", c.health.heartbeat_unhealthy);
    o.get("error_streak_degraded", c.health.error_streak_degraded);
    o.get("error_streak_unhealthy", c.health.error_streak_unhealthy);
    o.duration<std::micro>("latency_degraded_us", c.health.latency_degraded);
    o.duration<std::micro>("latency_unhealthy_us", c.health.latency_unhealthy);
    o.duration<std::milli>("latency_hold_ms", c.health.latency_hold);
    o.get("check_pid", c.health.check_pid);
    o.finish();
  }
  if (const json* j = top.object("rate_limits")) {
    Object o(*j, "rate_limits");
    o.get("default_per_s", c.rate_limits.default_per_s);
    if (const json* agents = o.object("agents")) {
      for (const auto& item : agents->items()) {
        if (!item.value().is_number_unsigned()) {
          throw Problem("rate_limits.agents." + item.key() + " must be a non-negative integer");
        }
        c.rate_limits.per_agent.emplace_back(item.key(), item.value().get<std::uint64_t>());
      }
    }
    o.finish();
  }
  top.get("system_events", c.system_events);
  top.get("agent_name", c.agent_name);
  top.get("keep_segment", c.keep_segment);
  top.get("force_remove", c.force_remove);
  top.get("metrics_address", c.metrics_address);  // "" turns the endpoint off
  top.get("log_level", app.log_level);
  top.get("journal_binary", app.journal_binary);
  if (const json* js = top.find("journals")) {
    if (!js->is_array()) throw Problem("journals must be an array of objects");
    app.journals.clear();
    for (std::size_t i = 0; i < js->size(); ++i) {
      const std::string at = "journals[" + std::to_string(i) + "]";
      Object o((*js)[i], at);
      AppConfig::Journal jr;
      o.get("dir", jr.dir);
      if (jr.dir.empty()) throw Problem(at + ".dir is required");
      o.get("name", jr.name);
      if (jr.name.empty()) jr.name = i == 0 ? "journal" : "journal-" + std::to_string(i + 1);
      if (const json* a = o.find("args")) {
        if (!a->is_array()) throw Problem(at + ".args must be an array of strings");
        for (const auto& s : *a) {
          if (!s.is_string()) throw Problem(at + ".args must be an array of strings");
          jr.args.push_back(s.get<std::string>());
        }
      }
      o.finish();
      app.journals.push_back(std::move(jr));
    }
  }
  top.finish();
}

double ms(std::chrono::nanoseconds d) {
  return static_cast<double>(d.count()) / 1e6;
}
double us(std::chrono::nanoseconds d) {
  return static_cast<double>(d.count()) / 1e3;
}

}  // namespace

Result<void> load_config_file(const std::string& path, AppConfig& config) {
  std::ifstream in(path);
  if (!in) return make_error(Errc::kNotFound, "config file " + path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json root = json::parse(text.str(), nullptr, true, /*ignore_comments=*/true);
    read(root, config);
  } catch (const json::exception& e) {
    return make_error(Errc::kInvalidArgument, "config file " + path + ": " + e.what());
  } catch (const Problem& e) {
    return make_error(Errc::kInvalidArgument, "config file " + path + ": " + e.what());
  }
  return {};
}

namespace {
bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string::npos;
}
}  // namespace

Result<std::int64_t> resolve_user(const std::string& text, const char* what) {
  if (all_digits(text)) return static_cast<std::int64_t>(std::stoull(text));
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwnam_r(text.c_str(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return make_error(Errc::kInvalidArgument,
                      std::string(what) + ": no user '" + text + "' on this host");
  }
  return static_cast<std::int64_t>(found->pw_uid);
}

Result<std::int64_t> resolve_group(const std::string& text, const char* what) {
  if (all_digits(text)) return static_cast<std::int64_t>(std::stoull(text));
  struct group gr;
  struct group* found = nullptr;
  char buf[4096];
  if (::getgrnam_r(text.c_str(), &gr, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return make_error(Errc::kInvalidArgument,
                      std::string(what) + ": no group '" + text + "' on this host");
  }
  return static_cast<std::int64_t>(found->gr_gid);
}

Result<std::uint32_t> parse_mode(const std::string& text, const char* what) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("01234567") != std::string::npos) {
    return make_error(
        Errc::kInvalidArgument,
        std::string(what) + " must be octal text such as \"0600\", not '" + text + "'");
  }
  const auto mode = static_cast<std::uint32_t>(std::stoul(text, nullptr, 8));
  if (mode > 0777) {
    return make_error(Errc::kInvalidArgument,
                      std::string(what) + " " + text + ": only permission bits (at most 0777)");
  }
  return mode;
}

std::string default_config_json() {
  const AppConfig d;
  const SupervisorConfig& c = d.supervisor;
  json j;
  j["bus"] = {{"name", "NAME"},
              {"ring_capacity", c.bus.ring_capacity},
              {"max_payload_bytes", c.bus.max_payload_bytes},
              {"max_agents", c.bus.max_agents},
              {"max_topics", c.bus.max_topics},
              {"history_depth", c.bus.history_depth},
              {"max_barriers", c.bus.max_barriers},
              {"max_barrier_participants", c.bus.max_barrier_participants},
              {"barrier_signal_bytes", c.bus.barrier_signal_bytes},
              {"dead_letter_capacity", c.bus.dead_letter_capacity},
              {"error_log_capacity", c.bus.error_log_capacity},
              {"permissions", "0600"},
              {"owner", nullptr},   // null: the supervisor's user; or a name or uid
              {"group", nullptr}};  // null: the supervisor's group; or a name or gid
  j["check_period_ms"] = ms(c.check_period);
  j["unblock_timeout_ms"] = ms(c.unblock_timeout);
  j["backpressure"] = {{"warning", c.backpressure.warning},
                       {"high", c.backpressure.high},
                       {"critical", c.backpressure.critical},
                       {"hysteresis", c.backpressure.hysteresis},
                       {"min_dwell_ms", ms(c.backpressure.min_dwell)},
                       {"low_rate_at_high_per_s", c.backpressure.low_rate_at_high_per_s}};
  j["slow_subscribers"] = {{"untether", c.slow_subscribers.untether},
                           {"lag", c.slow_subscribers.lag},
                           {"behind_for_ms", ms(c.slow_subscribers.behind_for)},
                           {"stall_timeout_ms", ms(c.slow_subscribers.stall_timeout)}};
  j["health"] = {{"heartbeat_degraded_ms", ms(c.health.heartbeat_degraded)},
                 {"heartbeat_unhealthy_ms", ms(c.health.heartbeat_unhealthy)},
                 {"error_streak_degraded", c.health.error_streak_degraded},
                 {"error_streak_unhealthy", c.health.error_streak_unhealthy},
                 {"latency_degraded_us", us(c.health.latency_degraded)},
                 {"latency_unhealthy_us", us(c.health.latency_unhealthy)},
                 {"latency_hold_ms", ms(c.health.latency_hold)},
                 {"check_pid", c.health.check_pid}};
  j["rate_limits"] = {{"default_per_s", c.rate_limits.default_per_s}, {"agents", json::object()}};
  j["system_events"] = c.system_events;
  j["agent_name"] = c.agent_name;
  j["keep_segment"] = c.keep_segment;
  j["force_remove"] = c.force_remove;
  j["metrics_address"] = c.metrics_address;
  j["log_level"] = d.log_level;
  j["journals"] = json::array();  // e.g. [{"dir": "/var/lib/shmbus/j", "args": ["--sync", "5ms"]}]
  j["journal_binary"] = "";
  return j.dump(2);
}

}  // namespace shmbus::supervisor_app
