// `shmbus errors`: the recent sys.error events kept in the segment's error log
// (recent_errors()), oldest first, as text lines or a JSON array. Reads only: it shows errors
// that happened before it ran, which `tail --topic sys.error` cannot.
#include <cstdio>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "shmbus/inspect.hpp"

namespace shmbus::cli {

namespace {

// Segment text is input: invalid UTF-8 is replaced, never thrown on.
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

std::string agent_label(const ErrorRecord& r) {
  if (r.agent_index == sys::kBusWide) return "bus";
  return r.agent.empty() ? "#" + std::to_string(r.agent_index) : r.agent;
}

// "2026-12-06T01:02:03.456Z" (UTC, milliseconds).
std::string utc_time(std::uint64_t realtime_ns) {
  const std::time_t secs = static_cast<std::time_t>(realtime_ns / 1'000'000'000ull);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // room for any int the format could get (GCC checks)
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(realtime_ns / 1'000'000ull % 1000));
  return buf;
}

nlohmann::json to_json(const ErrorRecord& r) {
  return {{"index", r.index},
          {"time_ns", r.time_ns},
          {"time", utc_time(r.time_ns)},
          {"error_mono_ns", r.error_mono_ns},
          {"kind", std::string(sys::error_kind_name(r.kind))},
          {"errc", errc_name(r.errc)},
          {"agent_index", r.agent_index},
          {"agent", r.agent},
          {"handler", r.handler},
          {"topic", r.topic},
          {"event_sequence", r.event_sequence},
          {"count", r.count},
          {"message", r.message}};
}

std::string to_line(const ErrorRecord& r) {
  std::string line = utc_time(r.time_ns) + "  " + agent_label(r) + "  " +
                     std::string(sys::error_kind_name(r.kind));
  if (!r.handler.empty()) line += "  handler=" + r.handler;
  if (r.topic != kInvalidTopic) line += "  topic=" + std::to_string(r.topic);
  if (r.event_sequence != 0) line += "  seq=" + std::to_string(r.event_sequence);
  line += "  count=" + std::to_string(r.count);
  if (!r.message.empty()) line += "  " + r.message;
  return line + "\n";
}

}  // namespace

int run_errors(const ErrorsOptions& options) {
  auto errors = recent_errors(options.bus, options.count);
  if (!errors) return report_error(errors.error());
  std::string out;
  if (options.json) {
    nlohmann::json all = nlohmann::json::array();
    for (const ErrorRecord& r : *errors) all.push_back(to_json(r));
    out = all.dump(2, ' ', false, kReplace) + "\n";
  } else if (errors->empty()) {
    out = "no errors logged on bus " + options.bus + "\n";
  } else {
    for (const ErrorRecord& r : *errors) out += to_line(r);
  }
  std::fputs(out.c_str(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitError;
}

}  // namespace shmbus::cli
