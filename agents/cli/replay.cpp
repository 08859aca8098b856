// `shmbus replay DIR --bus B`: streams a journal's records (one mapped file at a time; memory
// stays flat) and re-publishes them with their original relative timing scaled by --speed, or as
// fast as the bus takes them (--speed max). Attaches as replay-<pid>.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <unordered_map>

#include "commands.hpp"
#include "journal_commands.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/journal.hpp"

namespace shmbus::cli {

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

/// "<N>x" -> N, "max" -> 0; false when malformed.
bool parse_speed(const std::string& s, double& speed) {
  if (s == "max") {
    speed = 0;
    return true;
  }
  if (s.size() < 2 || s.back() != 'x') return false;
  char* end = nullptr;
  errno = 0;
  speed = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size() - 1 && std::isfinite(speed) && speed > 0;
}

/// ns since the epoch, or YYYY-MM-DDTHH:MM:SS[.fraction]Z (UTC). Empty -> `dflt`.
bool parse_time(const std::string& s, std::uint64_t dflt, std::uint64_t& ns) {
  if (s.empty()) {
    ns = dflt;
    return true;
  }
  if (s.find_first_not_of("0123456789") == std::string::npos && s.size() < 20) {
    ns = std::strtoull(s.c_str(), nullptr, 10);
    return true;
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t secs = ::timegm(&tm);
  if (secs < 0) return false;
  std::uint64_t frac = 0;
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    std::uint64_t scale = 100'000'000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) {
      frac += static_cast<std::uint64_t>(s[i] - '0') * scale;
    }
  }
  if (i + 1 != s.size() || s[i] != 'Z') return false;
  ns = static_cast<std::uint64_t>(secs) * 1'000'000'000u + frac;
  return true;
}

bool matches(const std::string& pattern, std::string_view topic) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0) {
    const std::string_view prefix(pattern.data(), pattern.size() - 1);  // keeps the dot
    return topic.size() > prefix.size() && topic.substr(0, prefix.size()) == prefix;
  }
  return topic == pattern;
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

void sleep_until_monotonic(std::uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000u), static_cast<long>(ns % 1'000'000'000u)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR && !g_stop) {
  }
}

}  // namespace

int run_replay(const ReplayOptions& options) {
  double speed = 0;
  if (!parse_speed(options.speed, speed)) {
    std::fprintf(stderr, "shmbus: --speed '%s': want <N>x (1x, 10x) or max\n",
                 options.speed.c_str());
    return kExitUsage;
  }
  std::uint64_t from = 0, to = 0;
  if (!parse_time(options.from, 0, from) || !parse_time(options.to, UINT64_MAX, to)) {
    std::fprintf(stderr, "shmbus: --from/--to: want ns since the epoch or YYYY-MM-DDTHH:MM:SSZ\n");
    return kExitUsage;
  }
  if (auto e = validate_topic_pattern(options.topics); !e.empty()) {
    std::fprintf(stderr, "shmbus: bad topic pattern '%s': %s\n", options.topics.c_str(), e.c_str());
    return kExitBadTopic;
  }
  auto reader = journal::Reader::open(options.dir);
  if (!reader) {
    std::fprintf(stderr, "shmbus: %s\n", reader.message().c_str());
    return kExitError;
  }
  if (from != 0) {
    if (auto r = reader->seek_time(from); !r) return report_error(r.error());
  }
  AgentOptions agent;
  agent.name = "replay-" + std::to_string(::getpid());
  agent.full_policy = FullPolicy::kWait;
  auto bus = Bus::attach(options.bus, agent);
  if (!bus) return report_error(bus.error());

  g_stop = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // Per distinct topic (bounded): its id on this bus, or that --topics filters it out.
  struct TopicEntry {
    TopicId id{};
    bool wanted = false;
  };
  std::unordered_map<std::string, TopicEntry> topics;
  // The last topic seen: sessions run in stretches of one topic, so one compare of a few bytes
  // replaces building a key and hashing it for most events.
  std::string last_name;
  TopicEntry last{};
  std::uint64_t published = 0;
  std::uint64_t first_publish_ns = 0, start_ns = 0;
  journal::Record rec;
  while (!g_stop) {
    auto got = reader->next(rec);
    if (!got) return report_error(got.error());
    if (!*got || rec.journal_ns > to) break;
    if (rec.meta.topic != last_name) {
      last_name.assign(rec.meta.topic);
      auto it = topics.find(last_name);
      if (it == topics.end()) {
        TopicEntry e;
        e.wanted = matches(options.topics, rec.meta.topic);
        if (e.wanted) {
          auto id = bus->find_topic(rec.meta.topic);
          if (!id) id = bus->register_topic(rec.meta.topic, 0, rec.meta.schema_version);
          if (!id) return report_error(id.error());
          e.id = *id;
        }
        it = topics.emplace(last_name, e).first;
      }
      last = it->second;
    }
    if (!last.wanted) continue;
    if (speed > 0) {
      if (published == 0) {
        first_publish_ns = rec.meta.publish_ns;
        start_ns = monotonic_ns();
      } else if (rec.meta.publish_ns > first_publish_ns) {
        const auto offset = static_cast<std::uint64_t>(
            static_cast<double>(rec.meta.publish_ns - first_publish_ns) / speed);
        if (monotonic_ns() < start_ns + offset) sleep_until_monotonic(start_ns + offset);
      }
    }
    PublishStatus st = bus->publish(last.id, rec.payload, rec.meta.priority);
    // Full, shed or rate limited: the bus is busy, not wrong. Keep offering until stopped.
    while (!g_stop && (st == PublishStatus::kFull || st == PublishStatus::kTimeout ||
                       st == PublishStatus::kShed || st == PublishStatus::kRateLimited)) {
      sleep_until_monotonic(monotonic_ns() + 1'000'000);
      st = bus->publish(last.id, rec.payload, rec.meta.priority);
    }
    if (st == PublishStatus::kBadSize) {
      std::fprintf(stderr,
                   "shmbus: replay onto bus %s: topic '%s' carries %zu-byte payloads in the "
                   "journal (event id %llu) but the bus registered it with another payload size; "
                   "stopped after %llu events\n",
                   options.bus.c_str(), std::string(rec.meta.topic).c_str(), rec.payload.size(),
                   static_cast<unsigned long long>(rec.event_id),
                   static_cast<unsigned long long>(published));
      return kExitBadTopic;
    }
    if (st != PublishStatus::kOk) {
      if (g_stop) break;
      std::fprintf(stderr, "shmbus: replay: publish of event id %llu on '%s' refused: %s\n",
                   static_cast<unsigned long long>(rec.event_id),
                   std::string(rec.meta.topic).c_str(),
                   std::string(publish_status_name(st)).c_str());
      return kExitError;
    }
    ++published;
  }
  std::fprintf(stderr, "shmbus: replayed %llu events onto bus %s\n",
               static_cast<unsigned long long>(published), options.bus.c_str());
  return kExitOk;
}

}  // namespace shmbus::cli
